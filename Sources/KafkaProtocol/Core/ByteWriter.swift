/// An append-only big-endian byte buffer with the Kafka primitive encodings.
///
/// Named after the types in Kafka's protocol guide. Sizes and checksums that precede their
/// content are written with `reserveInt32()` and patched afterwards, so nothing is encoded twice.
public struct ByteWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// Creates an empty writer with room for `capacity` bytes.
    /// - Parameter capacity: Bytes to reserve up front.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Number of bytes written.
    public var count: Int { bytes.count }

    /// Hands out the written bytes and leaves the writer empty.
    public mutating func take() -> [UInt8] {
        defer { bytes = [] }
        return bytes
    }

    // MARK: Fixed width

    /// Appends a signed byte.
    /// - Parameter v: The value.
    public mutating func writeInt8(_ v: Int8) { bytes.append(UInt8(bitPattern: v)) }
    /// Appends an unsigned byte.
    /// - Parameter v: The value.
    public mutating func writeUInt8(_ v: UInt8) { bytes.append(v) }
    /// Appends a BOOLEAN (one byte, 0 or 1).
    /// - Parameter v: The value.
    public mutating func writeBool(_ v: Bool) { bytes.append(v ? 1 : 0) }
    /// Appends a big-endian INT16.
    /// - Parameter v: The value.
    public mutating func writeInt16(_ v: Int16) { writeUInt16(UInt16(bitPattern: v)) }
    /// Appends a big-endian UInt16.
    /// - Parameter v: The value.
    public mutating func writeUInt16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }
    /// Appends a big-endian INT32.
    /// - Parameter v: The value.
    public mutating func writeInt32(_ v: Int32) { writeUInt32(UInt32(bitPattern: v)) }
    /// Appends a big-endian UINT32.
    /// - Parameter v: The value.
    public mutating func writeUInt32(_ v: UInt32) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
    }
    /// Appends a big-endian INT64.
    /// - Parameter v: The value.
    public mutating func writeInt64(_ v: Int64) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
    }
    /// Appends a big-endian FLOAT64.
    /// - Parameter v: The value.
    public mutating func writeFloat64(_ v: Double) {
        withUnsafeBytes(of: v.bitPattern.bigEndian) { bytes.append(contentsOf: $0) }
    }
    /// Appends a UUID (16 bytes).
    /// - Parameter v: The value.
    public mutating func writeUUID(_ v: KafkaUUID) {
        withUnsafeBytes(of: v.high.bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: v.low.bigEndian) { bytes.append(contentsOf: $0) }
    }

    // MARK: Variable length

    /// Unsigned LEB128, at most 5 bytes.
    /// - Parameter v: The value.
    public mutating func writeUnsignedVarint(_ v: UInt32) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Unsigned LEB128, at most 10 bytes.
    /// - Parameter v: The value.
    public mutating func writeUnsignedVarlong(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Zig-zag signed varint (records use this for lengths and deltas).
    /// - Parameter v: The value.
    public mutating func writeVarint(_ v: Int32) {
        writeUnsignedVarint(UInt32(bitPattern: (v << 1) ^ (v >> 31)))
    }

    /// Zig-zag signed varlong.
    /// - Parameter v: The value.
    public mutating func writeVarlong(_ v: Int64) {
        writeUnsignedVarlong(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
    }

    // MARK: Raw

    /// Appends raw bytes, without a length.
    /// - Parameter v: The value.
    public mutating func writeBytes(_ v: [UInt8]) { bytes.append(contentsOf: v) }
    /// Appends raw bytes, without a length.
    /// - Parameter v: The value.
    public mutating func writeBytes(_ v: ArraySlice<UInt8>) { bytes.append(contentsOf: v) }
    /// Appends raw bytes, without a length.
    /// - Parameter v: The value.
    public mutating func writeBytes(_ v: UnsafeRawBufferPointer) { bytes.append(contentsOf: v) }

    // MARK: Patching

    /// Writes a placeholder Int32 and returns its position for `patchInt32(at:_:)`.
    public mutating func reserveInt32() -> Int {
        let at = bytes.count
        bytes.append(contentsOf: [0, 0, 0, 0])
        return at
    }

    /// Overwrites the four bytes at `position` with `v` (big-endian).
    /// - Parameters:
    ///   - position: Where `reserveInt32()` put the placeholder.
    ///   - v: The value.
    public mutating func patchInt32(at position: Int, _ v: Int32) {
        patchUInt32(at: position, UInt32(bitPattern: v))
    }

    /// Overwrites the four bytes at `position` with `v` (big-endian).
    /// - Parameters:
    ///   - position: Where `reserveInt32()` put the placeholder.
    ///   - v: The value.
    public mutating func patchUInt32(at position: Int, _ v: UInt32) {
        bytes[position] = UInt8(truncatingIfNeeded: v >> 24)
        bytes[position + 1] = UInt8(truncatingIfNeeded: v >> 16)
        bytes[position + 2] = UInt8(truncatingIfNeeded: v >> 8)
        bytes[position + 3] = UInt8(truncatingIfNeeded: v)
    }
}
