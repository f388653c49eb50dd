/// Kafka's 128-bit UUID (topic ids). `zero` means "no id".
///
/// Our own type rather than Foundation's `UUID`, whose `init()` is random: a decoded message must
/// default to the all-zero id Kafka uses for "absent".
public struct KafkaUUID: Hashable, Sendable, CustomStringConvertible {
    /// Most significant 64 bits.
    public var high: UInt64
    /// Least significant 64 bits.
    public var low: UInt64

    /// The all-zero id.
    public static let zero = KafkaUUID(high: 0, low: 0)

    /// A UUID from its two halves.
    /// - Parameters:
    ///   - high: The most significant 64 bits.
    ///   - low: The least significant 64 bits.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The zero UUID.
    public init() { self = .zero }

    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex, case-insensitive). Returns nil otherwise.
    /// - Parameter string: The text form (see `description`); nil when it is not one.
    public init?(string: String) {
        // Exactly 32 hex digits, dashes only at the canonical positions (or none at all).
        let chars = Array(string.utf8)
        let dashed = chars.count == 36 && [8, 13, 18, 23].allSatisfy { chars[$0] == UInt8(ascii: "-") }
        guard chars.count == 32 || dashed else { return nil }
        let hex = String(decoding: chars.enumerated().filter { !dashed || ![8, 13, 18, 23].contains($0.offset) }.map(\.element), as: UTF8.self)
        guard hex.utf8.allSatisfy({ (48 ... 57).contains($0) || (65 ... 70).contains($0) || (97 ... 102).contains($0) }), let h = UInt64(hex.prefix(16), radix: 16), let l = UInt64(hex.suffix(16), radix: 16) else {
            return nil
        }
        high = h
        low = l
    }

    public var description: String {
        func hex(_ v: UInt64, _ digits: Int) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: max(0, digits - s.count)) + s
        }
        let h = hex(high, 16), l = hex(low, 16)
        return "\(h.prefix(8))-\(h.dropFirst(8).prefix(4))-\(h.suffix(4))-\(l.prefix(4))-\(l.suffix(12))"
    }
}
