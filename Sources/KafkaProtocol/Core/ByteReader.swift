/// A bounds-checked big-endian reader over a byte buffer.
///
/// Every read names the field it is reading so that a failure says where it happened
/// (`ProtocolDecodingError`). Lengths are validated against the bytes that remain before anything
/// is allocated, so a hostile length prefix cannot make us allocate gigabytes.
///
/// Sub-readers (`sub(count:)`) share the same storage and report absolute offsets.
public struct ByteReader: Sendable {
    let storage: [UInt8]
    /// Absolute offset of the next byte to read.
    public private(set) var offset: Int
    /// Absolute offset one past the last readable byte.
    public let end: Int

    /// Reads all of `bytes`.
    /// - Parameter bytes: The buffer to read.
    public init(_ bytes: [UInt8]) {
        storage = bytes
        offset = 0
        end = bytes.count
    }

    init(storage: [UInt8], offset: Int, end: Int) {
        self.storage = storage
        self.offset = offset
        self.end = end
    }

    /// Bytes left to read.
    public var remaining: Int { end - offset }

    /// True when every byte has been read.
    public var isAtEnd: Bool { offset >= end }

    @inline(__always)
    func need(_ n: Int, _ field: StaticString) throws {
        // A negative count (API misuse or an unchecked wire value) is an error, never a trap or
        // a step backwards.
        if n < 0 {
            throw ProtocolDecodingError(path: field.description, offset: offset, reason: .invalidLength(Int64(n)))
        }
        if n > end - offset {
            throw ProtocolDecodingError(path: field.description, offset: offset, reason: .truncated(needed: n, remaining: end - offset))
        }
    }

    // MARK: Fixed width

    /// Reads an unsigned byte.
    /// - Parameter field: The field being read, named in the error.
    /// - Returns: The value.
    /// - Throws: `ProtocolDecodingError` when fewer than 1 bytes are left.
    public mutating func readUInt8(_ field: StaticString) throws -> UInt8 {
        try need(1, field)
        defer { offset += 1 }
        return storage[offset]
    }

    /// Reads a signed byte.
    /// - Parameter field: The field being read, named in the error.
    /// - Returns: The value.
    /// - Throws: `ProtocolDecodingError` when fewer than 1 bytes are left.
    public mutating func readInt8(_ field: StaticString) throws -> Int8 {
        Int8(bitPattern: try readUInt8(field))
    }

    /// Kafka booleans are one byte, 0 or 1. Anything else is an error rather than "true": it
    /// could not be re-encoded as it came (decode → encode is lossless everywhere else), and no
    /// Kafka implementation writes it.
    /// - Parameter field: The field being read, named in the error.
    /// - Returns: The value.
    /// - Throws: `ProtocolDecodingError` when no byte is left or the byte is not 0 or 1.
    public mutating func readBool(_ field: StaticString) throws -> Bool {
        let at = offset
        switch try readUInt8(field) {
        case 0: return false
        case 1: return true
        case let b: throw ProtocolDecodingError(path: field.description, offset: at, reason: .invalid("boolean byte 0x\(String(b, radix: 16)) (must be 0 or 1)"))
        }
    }

    /// Reads a big-endian UInt16.
    /// - Parameter field: The field being read, named in the error.
    /// - Returns: The value.
    /// - Throws: `ProtocolDecodingError` when fewer than 2 bytes are left.
    public mutating func readUInt16(_ field: StaticString) throws -> UInt16 {
        try need(2, field)
        defer { offset += 2 }
        return UInt16(storage[offset]) << 8 | UInt16(storage[offset + 1])
    }

    /// Reads a big-endian INT16.
    /// - Parameter field: The field being read, named in the error.
    /// - Returns: The value.
    /// - Throws: `ProtocolDecodingError` when fewer than 2 bytes are left.
    public mutating func readInt16(_ field: StaticString) throws -> Int16 {
        Int16(bitPattern: try readUInt16(field))
    }

    /// Reads a big-endian UINT32.
    /// - Parameter field: The field being read, named in the error.
    /// - Returns: The value.
    /// - Throws: `ProtocolDecodingError` when fewer than 4 bytes are left.
    public mutating func readUInt32(_ field: StaticString) throws -> UInt32 {
        try need(4, field)
        defer { offset += 4 }
        return storage.withUnsafeBytes { raw in
            UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        }
    }

    /// Reads a big-endian INT32.
    /// - Parameter field: The field being read, named in the error.
    /// - Returns: The value.
    /// - Throws: `ProtocolDecodingError` when fewer than 4 bytes are left.
    public mutating func readInt32(_ field: StaticString) throws -> Int32 {
        Int32(bitPattern: try readUInt32(field))
    }

    /// Reads a big-endian UInt64.
    /// - Parameter field: The field being read, named in the error.
    /// - Returns: The value.
    /// - Throws: `ProtocolDecodingError` when fewer than 8 bytes are left.
    public mutating func readUInt64(_ field: StaticString) throws -> UInt64 {
        try need(8, field)
        defer { offset += 8 }
        return storage.withUnsafeBytes { raw in
            UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }
    }

    /// Reads a big-endian INT64.
    /// - Parameter field: The field being read, named in the error.
    /// - Returns: The value.
    /// - Throws: `ProtocolDecodingError` when fewer than 8 bytes are left.
    public mutating func readInt64(_ field: StaticString) throws -> Int64 {
        Int64(bitPattern: try readUInt64(field))
    }

    /// Reads a big-endian FLOAT64.
    /// - Parameter field: The field being read, named in the error.
    /// - Returns: The value.
    /// - Throws: `ProtocolDecodingError` when fewer than 8 bytes are left.
    public mutating func readFloat64(_ field: StaticString) throws -> Double {
        Double(bitPattern: try readUInt64(field))
    }

    /// Reads a UUID (16 bytes).
    /// - Parameter field: The field being read, named in the error.
    /// - Returns: The value.
    /// - Throws: `ProtocolDecodingError` when fewer than 16 bytes are left.
    public mutating func readUUID(_ field: StaticString) throws -> KafkaUUID {
        try need(16, field)
        let high = try readUInt64(field)
        let low = try readUInt64(field)
        return KafkaUUID(high: high, low: low)
    }

    // MARK: Variable length

    /// Unsigned LEB128 of at most 5 bytes, minimally encoded (a longer or padded one is
    /// malformed, not truncated).
    /// - Parameter field: The field being read, named in the error.
    /// - Returns: The value.
    /// - Throws: `ProtocolDecodingError` when the bytes end first or the encoding is too long or padded.
    public mutating func readUnsignedVarint(_ field: StaticString) throws -> UInt32 {
        var result: UInt32 = 0
        var shift: UInt32 = 0
        let start = offset
        while true {
            if offset >= end {
                throw ProtocolDecodingError(path: field.description, offset: start, reason: .truncated(needed: offset - start + 1, remaining: end - start))
            }
            let b = storage[offset]
            offset += 1
            if shift == 28 && b > 0x0F {
                throw ProtocolDecodingError(path: field.description, offset: start, reason: .malformedVarint)
            }
            result |= UInt32(b & 0x7F) << shift
            if b & 0x80 == 0 {
                // A last byte of 0 after the first is a padded (non-minimal) encoding: it would
                // re-encode shorter, so decode → encode would not reproduce the input.
                if b == 0 && shift > 0 {
                    throw ProtocolDecodingError(path: field.description, offset: start, reason: .malformedVarint)
                }
                return result
            }
            shift += 7
        }
    }

    /// Unsigned LEB128 of at most 10 bytes.
    /// - Parameter field: The field being read, named in the error.
    /// - Returns: The value.
    /// - Throws: `ProtocolDecodingError` when the bytes end first or the encoding is too long or padded.
    public mutating func readUnsignedVarlong(_ field: StaticString) throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = offset
        while true {
            if offset >= end {
                throw ProtocolDecodingError(path: field.description, offset: start, reason: .truncated(needed: offset - start + 1, remaining: end - start))
            }
            let b = storage[offset]
            offset += 1
            if shift == 63 && b > 0x01 {
                throw ProtocolDecodingError(path: field.description, offset: start, reason: .malformedVarint)
            }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 {
                if b == 0 && shift > 0 {
                    throw ProtocolDecodingError(path: field.description, offset: start, reason: .malformedVarint)
                }
                return result
            }
            shift += 7
        }
    }

    /// Zig-zag signed varint.
    /// - Parameter field: The field being read, named in the error.
    /// - Returns: The value.
    /// - Throws: `ProtocolDecodingError` when the bytes end first or the encoding is too long or padded.
    public mutating func readVarint(_ field: StaticString) throws -> Int32 {
        let u = try readUnsignedVarint(field)
        return Int32(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    /// Zig-zag signed varlong.
    /// - Parameter field: The field being read, named in the error.
    /// - Returns: The value.
    /// - Throws: `ProtocolDecodingError` when the bytes end first or the encoding is too long or padded.
    public mutating func readVarlong(_ field: StaticString) throws -> Int64 {
        let u = try readUnsignedVarlong(field)
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    // MARK: Lengths

    /// Validates a decoded length: `-1` → nil (null) when allowed, otherwise it must fit in
    /// what remains (times `minElementSize`). Checked before any allocation.
    func checkedLength(_ raw: Int64, nullable: Bool, minElementSize: Int = 1, field: StaticString, at start: Int) throws -> Int? {
        if raw == -1 {
            if nullable { return nil }
            throw ProtocolDecodingError(path: field.description, offset: start, reason: .unexpectedNull)
        }
        if raw < 0 || raw > Int64(remaining / max(minElementSize, 1)) {
            throw ProtocolDecodingError(path: field.description, offset: start, reason: .invalidLength(raw))
        }
        return Int(raw)
    }

    /// Reads a length prefix: Int16 (classic strings), Int32 (classic bytes/arrays) or an
    /// unsigned varint holding length+1 (compact forms, 0 = null).
    mutating func readLength(_ kind: LengthKind, nullable: Bool, minElementSize: Int = 1, field: StaticString) throws -> Int? {
        let start = offset
        let raw: Int64
        switch kind {
        case .int16: raw = Int64(try readInt16(field))
        case .int32: raw = Int64(try readInt32(field))
        case .compact: raw = Int64(try readUnsignedVarint(field)) - 1
        }
        return try checkedLength(raw, nullable: nullable, minElementSize: minElementSize, field: field, at: start)
    }

    enum LengthKind { case int16, int32, compact }

    // MARK: Raw bytes and strings

    /// Reads exactly `count` bytes.
    /// - Parameters:
    ///   - count: How many bytes.
    ///   - field: The field being read, named in the error.
    /// - Returns: The bytes.
    /// - Throws: `ProtocolDecodingError` when `count` is negative or more than the bytes left.
    public mutating func readBytes(count: Int, _ field: StaticString) throws -> [UInt8] {
        guard count >= 0 else {
            throw ProtocolDecodingError(path: field.description, offset: offset, reason: .invalidLength(Int64(count)))
        }
        try need(count, field)
        defer { offset += count }
        return Array(storage[offset ..< offset + count])
    }

    /// Skips `count` bytes.
    /// - Parameters:
    ///   - count: How many bytes.
    ///   - field: The field being read, named in the error.
    /// - Throws: `ProtocolDecodingError` when `count` is negative or more than the bytes left.
    public mutating func skip(_ count: Int, _ field: StaticString) throws {
        try need(count, field)
        offset += count
    }

    /// Reads `count` bytes as UTF-8; invalid UTF-8 is an error (so re-encoding is exact).
    /// - Parameters:
    ///   - count: How many bytes.
    ///   - field: The field being read, named in the error.
    /// - Returns: The string.
    /// - Throws: `ProtocolDecodingError` when `count` is negative or more than the bytes left, or the bytes are not UTF-8.
    public mutating func readUTF8(count: Int, _ field: StaticString) throws -> String {
        try need(count, field)
        let start = offset
        let s = storage.withUnsafeBufferPointer { buf in
            String(validating: UnsafeBufferPointer(rebasing: buf[start ..< start + count]), as: UTF8.self)
        }
        guard let s else {
            throw ProtocolDecodingError(path: field.description, offset: start, reason: .invalidUTF8)
        }
        offset += count
        return s
    }

    /// A reader over the next `count` bytes, which this reader skips.
    /// - Parameters:
    ///   - count: How many bytes.
    ///   - field: The field being read, named in the error.
    /// - Returns: A reader over those bytes (absolute offsets).
    /// - Throws: `ProtocolDecodingError` when `count` is negative or more than the bytes left.
    public mutating func sub(count: Int, _ field: StaticString) throws -> ByteReader {
        try need(count, field)
        defer { offset += count }
        return ByteReader(storage: storage, offset: offset, end: offset + count)
    }

    /// The unread bytes (a copy).
    public func rest() -> [UInt8] { Array(storage[offset ..< end]) }
}
