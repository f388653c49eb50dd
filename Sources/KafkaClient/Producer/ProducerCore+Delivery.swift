import KafkaProtocol
import KafkaNet

/// Delivering outcomes: delivery reports, per-message outcomes and `send` results for the
/// batches the machine completed, and waking the waits it may have ended.
extension ProducerCore {
    /// Reports a batch's outcome to every message in it.
    /// (The machine already freed its message slots when it decided the outcome.)
    func finish(_ batch: ProducerBatch, _ result: BatchAnswer) {
        var ids: [MessageID] = []
        let tp = batch.topicPartition
        // Per-message outcomes only when someone asked for them.
        let messageSink = messageStream.withLock { $0?.sink }
        let perMessage = Self.wantsPerMessage(callback: onMessageDelivery != nil, stream: messageSink != nil)
        var deliveries: [MessageDelivery] = []
        // Messages that never got a partition (no metadata) carry -1: leave it out of errors.
        let where_ = KafkaError.Context(topic: tp.topic, partition: tp.partition >= 0 ? tp.partition : nil)
        let result = result.map { BatchOutcome(wireBaseOffset: $0.baseOffset, wireLogAppendTime: $0.logAppendTime, count: batch.completions.count) }
        for (i, c) in batch.completions.enumerated() {
            switch c {
            case let .id(id, timestamp):
                ids.append(id)
                if perMessage {
                    deliveries.append(MessageDelivery(messageId: id, result: result.map { $0.metadata(tp, index: i, createTime: timestamp) }.mapError { $0.with(where_) }))
                }
            case let .waiter(cont, timestamp):
                cont.resume(with: result.map { $0.metadata(tp, index: i, createTime: timestamp) }.mapError { $0.with(where_) as any Error })
            }
        }
        if !ids.isEmpty {
            let report = DeliveryReport(topicPartition: tp, messageIds: ids, result: result.map(\.baseOffset).mapError { $0.with(where_) })
            onDelivery?(report)
            reportContinuation.yield(report)
        }
        for d in deliveries {
            onMessageDelivery?(d)
            messageSink?.yield(d)
        }
    }

    /// Fails a message that never reached a batch, reported as a one-message batch of
    /// partition -1 (left out of the error's context).
    func finishWaiting(_ w: MetadataWaitList.Entry, _ error: KafkaError) {
        var b = ProducerBatch(topicPartition: TopicPartition(topic: w.record.topic, partition: -1), compression: .none, capacity: 0, now: w.since)
        b.state = .done
        b.completions = [w.completion]
        b.recordCount = 1
        finish(b, .failure(error))
    }

    /// Resumes flush waiters when idle and room waiters when there is room.
    func wakeAll() {
        let (flush, room) = state.withLock { s -> ([OnceContinuation<Void>], [OnceContinuation<Void>]) in
            var f: [OnceContinuation<Void>] = []
            if (s.machine.isIdle && s.deliveriesRunning == 0) || s.machine.closed {
                f = Array(s.flushWaiters.values)
                s.flushWaiters = [:]
                s.machine.flushing = false
            }
            var r: [OnceContinuation<Void>] = []
            if s.machine.roomMayHaveFreed {
                r = Array(s.roomWaiters.values)
                s.roomWaiters = [:]
            }
            return (f, r)
        }
        for c in flush { c.resume(with: .success(())) }
        for c in room { c.resume(with: .success(())) }
    }
}
