/// A batch's successful answer with the broker's wire values turned into the public ones:
/// the protocol's -1 ("unknown", "not log-append time") becomes nil here, at the client edge,
/// and nowhere else.
struct BatchOutcome: Sendable, Equatable {
    /// Offset of the batch's first message; nil when unknown.
    var baseOffset: Int64?
    /// The broker's log-append time for every message of the batch; nil when the topic uses
    /// create time.
    var logAppendTime: Int64?

    /// - Parameters:
    ///   - wireBaseOffset: Produce response `base_offset` (-1: acks=0 or a recognised duplicate).
    ///   - wireLogAppendTime: Produce response `log_append_time_ms` (-1: create time).
    ///   - count: Messages in the batch.
    init(wireBaseOffset: Int64, wireLogAppendTime: Int64, count: Int) {
        baseOffset = Self.usableBaseOffset(wireBaseOffset, count: count)
        logAppendTime = wireLogAppendTime >= 0 ? wireLogAppendTime : nil
    }

    /// `baseOffset` when every one of `count` messages has an offset in range
    /// (`baseOffset + count - 1 <= Int64.max`), else nil: a broken or hostile broker's base
    /// offset must not make `base + i` trap.
    static func usableBaseOffset(_ baseOffset: Int64, count: Int) -> Int64? {
        guard baseOffset >= 0 else { return nil }
        return baseOffset <= Int64.max - Int64(max(count - 1, 0)) ? baseOffset : nil
    }

    /// Where message `index` of the batch was written.
    /// - Parameters:
    ///   - topicPartition: The batch's partition.
    ///   - index: The message's position in the batch (`0 ..< count`).
    ///   - createTime: The timestamp the record carried.
    func metadata(_ topicPartition: TopicPartition, index: Int, createTime: Int64) -> RecordMetadata {
        // Cannot overflow: `usableBaseOffset` checked the whole batch fits.
        RecordMetadata(topic: topicPartition.topic, partition: topicPartition.partition,
                       offset: baseOffset.map { $0 + Int64(index) }, timestamp: logAppendTime ?? createTime)
    }
}
