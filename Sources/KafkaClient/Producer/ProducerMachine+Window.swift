import KafkaProtocol

/// How each broker's request-size window (`RequestSizeWindow`) reaches the batches: new batches
/// of a partition stop growing at its leader's window, so after a lossy link shrank the window
/// the batches filled from then on fit in what the link carries.
extension ProducerMachine {
    /// After `broker`'s window changed: gives each of its partitions' queues the new effective
    /// `batch.size`. A pass over the queues only when that limit actually changed.
    mutating func applyWindow(of broker: Int32) {
        guard var sink = sinks[broker] else { return }
        let limit = sink.batchLimit(batchSize: config.batchSize)
        guard limit != sink.appliedBatchLimit else { return }
        sink.appliedBatchLimit = limit
        sinks[broker] = sink
        for tp in accumulator.queues.keys where routes.knownLeader(of: tp) == broker {
            accumulator.setBatchLimit(tp, limit)
        }
    }

    /// A queue that just got its first batch (new, or emptied and refilled): its leader's window.
    /// Cheap when no window is reduced (the common case): one dictionary lookup.
    mutating func applyWindow(to tp: TopicPartition) {
        guard let leader = routes.knownLeader(of: tp), let sink = sinks[leader] else { return }
        accumulator.setBatchLimit(tp, sink.appliedBatchLimit)
    }
}

extension ProducerMachine {
    /// For an expired batch that may have been written: says so when it is larger than what its
    /// broker's link has been carrying, the one case the window cannot help (such a batch is
    /// never re-split: `ProducerBatch.splitForWindow`).
    func oversizeNote(_ b: ProducerBatch) -> String {
        guard let size = b.sealedBytes?.count, let leader = routes.knownLeader(of: b.topicPartition),
              let window = sinks[leader]?.window, window.isReduced, size > window.limit else { return "" }
        return " (its batch of \(size) bytes is larger than the \(window.limit)-byte requests the link to broker \(leader) has carried; a batch that may have been written is resent whole, never re-split)"
    }
}
