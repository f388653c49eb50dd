/// The consumer has handed the application every record of a partition up to its end
/// (`enable.partition.eof`): librdkafka's `RD_KAFKA_RESP_ERR__PARTITION_EOF` event, as an
/// element of `KafkaConsumer.partitionEOF` rather than an error in the record stream.
public struct PartitionEOF: Sendable, Hashable {
    /// The partition that was read to its end.
    public var topicPartition: TopicPartition
    /// Its end when the event was raised: the high watermark (the last stable offset with
    /// `isolation.level=read_committed`), which is also the consumer's position there.
    public var offset: Int64

    /// An event with every field given: for faking end-of-partition events in tests.
    /// - Parameters:
    ///   - topicPartition: The partition read to its end.
    ///   - offset: The end offset (the next offset to be written).
    public init(topicPartition: TopicPartition, offset: Int64) {
        self.topicPartition = topicPartition
        self.offset = offset
    }
}

extension KafkaConsumer {
    /// Where a partition's end was seen: in which generation (a seek starts a new one, so
    /// reading to the same end again after a seek back raises a new event) and at what offset.
    struct EOFMark: Sendable, Equatable {
        var generation: Int
        var offset: Int64
    }

    /// A fetch left `tp` at its end: remember it, to be raised once the reader has been handed
    /// everything before it. Only with `enable.partition.eof`; once per end reached.
    func noteEnd(_ s: inout State, _ tp: TopicPartition) {
        guard config.enablePartitionEOF, let p = s.partitions[tp], let position = p.position, let marks = p.watermarks else { return }
        let end = config.isolationLevel == .readCommitted ? marks.lastStable ?? marks.high : marks.high
        guard position >= end else { return }
        let mark = EOFMark(generation: p.generation, offset: position)
        guard p.eofRaised != mark else { return }
        s.pendingEOF[tp] = mark
    }

    /// Raises the pending end-of-partition events whose records have all been handed out
    /// (none left in the buffer, none in the `records` iterator's hands). Ordering: the event
    /// for a partition comes after the `poll` that returned its last record, or when the
    /// iterator asks for the record after it. Called under the lock; cheap when none pend.
    func raiseEOFs(_ s: inout State) {
        guard !s.pendingEOF.isEmpty else { return }
        for (tp, mark) in s.pendingEOF {
            guard let p = s.partitions[tp], p.generation == mark.generation, p.position == mark.offset else {
                // Sought elsewhere, revoked, or read past (new records): no longer the end.
                s.pendingEOF[tp] = nil
                continue
            }
            if s.held?.tp == tp { continue }
            if (s.bufferHead ..< s.buffer.count).contains(where: { s.buffer[$0].tp == tp && s.buffer[$0].next < s.buffer[$0].records.count }) { continue }
            s.pendingEOF[tp] = nil
            s.partitions[tp]?.eofRaised = mark
            partitionEOFSink.yield(PartitionEOF(topicPartition: tp, offset: mark.offset))
        }
    }
}
