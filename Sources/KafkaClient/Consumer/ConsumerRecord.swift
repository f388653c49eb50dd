import KafkaProtocol

/// One consumed message. `key` and `value` are views into the fetched buffer (no copy);
/// `nil` is a null key or value, distinct from empty.
public struct ConsumerRecord: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// Milliseconds since the epoch.
    public var timestamp: Int64
    public var timestampType: TimestampType
    public var key: ArraySlice<UInt8>?
    public var value: ArraySlice<UInt8>?
    public var headers: [RecordHeader]
    /// The partition leader epoch of the batch, -1 when unknown.
    public var leaderEpoch: Int32

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

/// Offsets the broker reported for a partition in its latest Fetch response.
public struct Watermarks: Sendable, Equatable {
    /// First offset in the log (-1 when unknown).
    public var logStart: Int64
    /// The offset after the last committed-to-all-replicas message.
    public var high: Int64
    /// The last stable offset (read_committed readers see up to here), -1 when unknown.
    public var lastStable: Int64
}
