/// The id `KafkaProducer.enqueue` gives a message, naming it in its `DeliveryReport` and
/// `MessageDelivery`. Ids ascend in the order `enqueue` accepted the messages, within one
/// producer (each producer counts from 1), so sorting by id is sorting by enqueue order.
///
/// A type of its own so an id is never mistaken for an offset or a count.
public struct MessageID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The producer's sequence number for the message.
    public let rawValue: UInt64

    /// An id with the given number: for faking delivery outcomes in tests (the producer makes
    /// its own in `enqueue`).
    /// - Parameter rawValue: The sequence number.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// Same as `init(rawValue:)`.
    /// - Parameter rawValue: The sequence number.
    public init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// Whether `lhs` was enqueued before `rhs` (on the same producer).
    /// - Parameters:
    ///   - lhs: An id.
    ///   - rhs: Another id of the same producer.
    /// - Returns: True when `lhs` is the earlier one.
    public static func < (lhs: MessageID, rhs: MessageID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `#` and the number, as logs show it.
    public var description: String { "#\(rawValue)" }
}
