import KafkaProtocol
import KafkaNet

/// Delivering outcomes: delivery reports, per-message outcomes and `send` results for the
/// batches the machine completed, and waking the waits it may have ended.
extension ProducerCore {
    /// Reports a batch's outcome to every message in it.
    /// (The machine already freed its message slots when it decided the outcome.)
    func finish(_ batch: ProducerBatch, _ result: BatchOutcome) {
        var ids: [UInt64] = []
        let tp = batch.topicPartition
        // Per-message outcomes only when someone asked for them.
        let messageSink = messageStream.withLock { $0?.sink }
        let perMessage = Self.wantsPerMessage(callback: onMessageDelivery != nil, stream: messageSink != nil)
        var deliveries: [MessageDelivery] = []
        // Messages that never got a partition (no metadata) carry -1: leave it out of errors.
        let where_ = KafkaError.Context(topic: tp.topic, partition: tp.partition >= 0 ? tp.partition : nil)
        // The base offset is a wire value: one whose batch would run past Int64.max (a broken
        // or hostile broker) is reported as unknown (-1) rather than trapping on `base + i`.
        let result = result.map { r in (baseOffset: Self.usableBaseOffset(r.baseOffset, count: batch.completions.count), logAppendTime: r.logAppendTime) }
        for (i, c) in batch.completions.enumerated() {
            switch c {
            case let .id(id, timestamp):
                ids.append(id)
                if perMessage {
                    switch result {
                    case let .success(r):
                        let offset = r.baseOffset >= 0 ? r.baseOffset + Int64(i) : -1  // cannot overflow: see usableBaseOffset
                        deliveries.append(MessageDelivery(messageId: id, result: .success(RecordMetadata(topic: tp.topic, partition: tp.partition, offset: offset, timestamp: r.logAppendTime >= 0 ? r.logAppendTime : timestamp))))
                    case let .failure(e):
                        deliveries.append(MessageDelivery(messageId: id, result: .failure(e.with(where_))))
                    }
                }
            case let .waiter(cont, timestamp):
                switch result {
                case let .success(r):
                    let offset = r.baseOffset >= 0 ? r.baseOffset + Int64(i) : -1  // cannot overflow: see usableBaseOffset
                    cont.resume(with: .success(RecordMetadata(topic: tp.topic, partition: tp.partition, offset: offset, timestamp: r.logAppendTime >= 0 ? r.logAppendTime : timestamp)))
                case let .failure(e):
                    cont.resume(with: .failure(e.with(where_)))
                }
            }
        }
        if !ids.isEmpty {
            let report: DeliveryReport
            switch result {
            case let .success(r): report = DeliveryReport(topicPartition: tp, messageIds: ids, baseOffset: r.baseOffset, error: nil)
            case let .failure(e): report = DeliveryReport(topicPartition: tp, messageIds: ids, baseOffset: -1, error: e.with(where_))
            }
            onDelivery?(report)
            reportContinuation.yield(report)
        }
        for d in deliveries {
            onMessageDelivery?(d)
            messageSink?.yield(d)
        }
    }

    /// `baseOffset` when every one of `count` messages has an offset in range
    /// (`baseOffset + count - 1 <= Int64.max`), else -1 ("unknown").
    static func usableBaseOffset(_ baseOffset: Int64, count: Int) -> Int64 {
        guard baseOffset >= 0 else { return -1 }
        return baseOffset <= Int64.max - Int64(max(count - 1, 0)) ? baseOffset : -1
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
            if s.machine.isIdle || s.machine.closed {
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
