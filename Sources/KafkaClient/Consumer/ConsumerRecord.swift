public import KafkaProtocol

/// One consumed message. `key` and `value` are views into the fetched buffer (no copy);
/// `nil` is a null key or value, distinct from empty.
public struct ConsumerRecord: Sendable {
    /// The topic it was read from.
    public var topic: String
    /// The partition it was read from.
    public var partition: Int32
    /// Its offset in the partition.
    public var offset: Int64
    /// Milliseconds since the epoch; nil when the record carries none (a magic 0 message, or
    /// a producer that wrote -1, Kafka's "no timestamp").
    public var timestamp: Int64?
    /// Whether `timestamp` is the producer's create time or the broker's log-append time.
    public var timestampType: TimestampType
    /// The key bytes; nil for a null key.
    public var key: ArraySlice<UInt8>?
    /// The value bytes; nil for a null value.
    public var value: ArraySlice<UInt8>?
    /// The record headers, in order.
    public var headers: [RecordHeader]
    /// The partition leader epoch of the batch; nil when unknown (legacy message sets, or a
    /// batch written without one).
    public var leaderEpoch: Int32?

    /// A record with every field given: for faking consumed records in tests (the consumer
    /// builds its own from fetched batches).
    /// - Parameters:
    ///   - topic: The topic it was read from.
    ///   - partition: The partition it was read from.
    ///   - offset: Its offset in the partition.
    ///   - timestamp: Milliseconds since the epoch; nil when the record carries none.
    ///   - timestampType: Whether `timestamp` is the producer's create time or the broker's
    ///     log-append time.
    ///   - key: The key bytes; nil for a null key.
    ///   - value: The value bytes; nil for a null value.
    ///   - headers: The record headers, in order.
    ///   - leaderEpoch: The partition leader epoch of its batch; nil when unknown.
    public init(topic: String, partition: Int32, offset: Int64, timestamp: Int64? = nil, timestampType: TimestampType = .createTime,
                key: ArraySlice<UInt8>? = nil, value: ArraySlice<UInt8>?, headers: [RecordHeader] = [], leaderEpoch: Int32? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.timestampType = timestampType
        self.key = key
        self.value = value
        self.headers = headers
        self.leaderEpoch = leaderEpoch
    }

    /// The partition the record was read from.
    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }

    /// The value as UTF-8 text (lossy), nil for a null value.
    public var valueString: String? { value.map { String(decoding: $0, as: UTF8.self) } }
    /// The key as UTF-8 text (lossy), nil for a null key.
    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }
}

/// Where to start reading a partition.
public enum OffsetSpec: Sendable, Equatable {
    /// The first offset still in the log.
    case beginning
    /// The next offset to be written (only new messages).
    case end
    /// A specific offset.
    case offset(Int64)
    /// The first offset whose timestamp is at or after this time (ms since the epoch).
    case timestamp(Int64)
}

/// Offsets the broker reported for a partition in its successful Fetch answers. A consumer has
/// none for a partition before its first successful Fetch answer (`watermarks(_:)` is nil).
public struct Watermarks: Sendable, Equatable {
    /// First offset in the log; nil when no answer said (Fetch before v5).
    public var logStart: Int64?
    /// The offset after the last message replicated to every in-sync replica.
    public var high: Int64
    /// The last stable offset (read_committed readers see up to here); nil when no answer said
    /// (Fetch before v4).
    public var lastStable: Int64?

    /// Watermarks with these offsets (for tests that fake a consumer's view).
    /// - Parameters:
    ///   - logStart: The log start offset, if known.
    ///   - high: The high watermark.
    ///   - lastStable: The last stable offset, if known.
    public init(logStart: Int64? = nil, high: Int64, lastStable: Int64? = nil) {
        self.logStart = logStart
        self.high = high
        self.lastStable = lastStable
    }

    /// The watermarks after a successful Fetch answer's wire values (-1: the broker did not
    /// say): each known value replaces the old one, an unknown one keeps it, as the Java client
    /// does. nil while the high watermark was never known.
    static func merging(_ old: Watermarks?, logStart: Int64, high: Int64, lastStable: Int64) -> Watermarks? {
        guard let h = high >= 0 ? high : old?.high else { return nil }
        return Watermarks(logStart: logStart >= 0 ? logStart : old?.logStart, high: h,
                          lastStable: lastStable >= 0 ? lastStable : old?.lastStable)
    }
}
