/// A Kafka protocol error code, as carried in responses.
///
/// An open type (like `Errno`): a code from a newer broker still decodes, prints as
/// `UNKNOWN_ERROR_CODE(n)` and counts as not retriable. Named constants for every code Kafka
/// defines live in `KafkaErrorCode+Known.swift`.
public struct KafkaErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// Kafka's wire name, e.g. `TOPIC_ALREADY_EXISTS`.
    public var name: String { Self.known[rawValue]?.name ?? "UNKNOWN_ERROR_CODE(\(rawValue))" }

    /// Whether Kafka's Java client treats this error as retriable (the request may succeed if
    /// sent again, usually after a metadata refresh or backoff).
    public var isRetriable: Bool { Self.known[rawValue]?.retriable ?? false }

    /// Kafka's default human-readable message for this code.
    public var message: String { Self.known[rawValue]?.message ?? "Unknown error code \(rawValue)." }

    /// True for `NONE` (0).
    public var isSuccess: Bool { rawValue == 0 }

    public var description: String { name }
}
