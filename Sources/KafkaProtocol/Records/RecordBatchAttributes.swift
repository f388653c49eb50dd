/// The compression codec in bits 0–2 of a batch's (or legacy message's) attributes.
///
/// KafkaProtocol does not compress: builders and decoders take a `compress` / `decompress`
/// function `(RecordCompression, [UInt8]) throws -> [UInt8]` (the compression module supplies
/// one); without it a compressed batch fails with `.unsupportedCompression`.
public enum RecordCompression: Int16, Sendable, CaseIterable, CustomStringConvertible {
    /// No compression.
    case none = 0
    /// gzip (zlib).
    case gzip = 1
    /// Snappy, xerial-framed as the Java client writes it.
    case snappy = 2
    /// LZ4 frame format.
    case lz4 = 3
    /// Produce v7+ (KIP-110).
    case zstd = 4

    /// Kafka's name (`compression.type` values).
    public var description: String {
        switch self {
        case .none: return "none"
        case .gzip: return "gzip"
        case .snappy: return "snappy"
        case .lz4: return "lz4"
        case .zstd: return "zstd"
        }
    }
}

/// Whether record timestamps are the producer's (create time) or the broker's (log append time).
public enum TimestampType: Sendable, Equatable, CustomStringConvertible {
    /// The producer set the timestamps.
    case createTime
    /// The broker overwrote the timestamps: every record's timestamp is the batch's
    /// `maxTimestamp` (magic 2) or the wrapper's timestamp (magic 1).
    case logAppendTime

    public var description: String { self == .createTime ? "CreateTime" : "LogAppendTime" }
}

/// The int16 attributes of a record batch v2.
///
/// | bits | meaning |
/// |---|---|
/// | 0–2 | compression codec (`RecordCompression`) |
/// | 3 | timestamp type: 0 create time, 1 log append time |
/// | 4 | transactional (KIP-98) |
/// | 5 | control batch: holds commit/abort markers, not user records (KIP-98) |
/// | 6 | `baseTimestamp` is the delete horizon (KIP-534, compacted topics) |
public struct RecordBatchAttributes: RawRepresentable, Sendable, Equatable, Hashable {
    public var rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// Attributes with these bits.
    /// - Parameters:
    ///   - compression: The codec.
    ///   - timestampType: Create time or log-append time.
    ///   - isTransactional: Written in a transaction.
    ///   - isControl: A control batch.
    ///   - hasDeleteHorizon: `baseTimestamp` holds the delete horizon.
    public init(
        compression: RecordCompression = .none, timestampType: TimestampType = .createTime,
        isTransactional: Bool = false, isControl: Bool = false, hasDeleteHorizon: Bool = false
    ) {
        rawValue = compression.rawValue
        if timestampType == .logAppendTime { rawValue |= 1 << 3 }
        if isTransactional { rawValue |= 1 << 4 }
        if isControl { rawValue |= 1 << 5 }
        if hasDeleteHorizon { rawValue |= 1 << 6 }
    }

    /// The raw codec bits (5–7 are not assigned; `compression` is nil for them).
    public var compressionCodec: Int16 { rawValue & 0x7 }
    /// The codec, or nil when the bits hold an unassigned value.
    public var compression: RecordCompression? { RecordCompression(rawValue: compressionCodec) }
    /// Bit 3: create time or log-append time.
    public var timestampType: TimestampType { rawValue & (1 << 3) != 0 ? .logAppendTime : .createTime }
    /// Bit 4: written in a transaction.
    public var isTransactional: Bool { rawValue & (1 << 4) != 0 }
    /// Bit 5: a control batch.
    public var isControl: Bool { rawValue & (1 << 5) != 0 }
    /// Bit 6: `baseTimestamp` is the delete horizon.
    public var hasDeleteHorizon: Bool { rawValue & (1 << 6) != 0 }
}
