// The hot-path primitives of record decoding and encoding: a bounds-checked cursor over raw
// memory (typed throws, no allocation, no existential errors) and varint writers/sizers.
// Everything here works on pointers handed out by `withUnsafeBytes` for the duration of one
// batch or record; no pointer escapes.

/// A bounds-checked reader over `[position, end)` of raw memory whose offsets are positions in
/// the underlying buffer (so errors and slices use buffer offsets).
struct RecordCursor {
    /// Start of the underlying buffer (offset 0).
    let base: UnsafeRawPointer
    var position: Int
    let end: Int

    init(_ raw: UnsafeRawBufferPointer, position: Int, end: Int) {
        // An empty array may have no base address; nothing is read from it then (end == 0).
        base = raw.baseAddress ?? UnsafeRawPointer(bitPattern: 0x10)!
        self.position = position
        self.end = end
    }

    /// A cursor over `[position, end)` of the same buffer as another cursor.
    init(base: UnsafeRawPointer, position: Int, end: Int) {
        self.base = base
        self.position = position
        self.end = end
    }

    var remaining: Int { end &- position }

    @inline(__always)
    func need(_ n: Int, _ field: StaticString) throws(RecordDecodingError) {
        if n > end &- position {
            throw RecordDecodingError(path: field.description, offset: position, reason: .truncated(needed: n, remaining: end &- position))
        }
    }

    @inline(__always)
    mutating func uint8(_ field: StaticString) throws(RecordDecodingError) -> UInt8 {
        try need(1, field)
        defer { position &+= 1 }
        return base.load(fromByteOffset: position, as: UInt8.self)
    }

    @inline(__always)
    mutating func int16(_ field: StaticString) throws(RecordDecodingError) -> Int16 {
        try need(2, field)
        defer { position &+= 2 }
        return Int16(bigEndian: base.loadUnaligned(fromByteOffset: position, as: Int16.self))
    }

    @inline(__always)
    mutating func int32(_ field: StaticString) throws(RecordDecodingError) -> Int32 {
        try need(4, field)
        defer { position &+= 4 }
        return Int32(bigEndian: base.loadUnaligned(fromByteOffset: position, as: Int32.self))
    }

    @inline(__always)
    mutating func int64(_ field: StaticString) throws(RecordDecodingError) -> Int64 {
        try need(8, field)
        defer { position &+= 8 }
        return Int64(bigEndian: base.loadUnaligned(fromByteOffset: position, as: Int64.self))
    }

    /// Unsigned LEB128 of at most 5 bytes whose value fits 32 bits.
    @inline(__always)
    mutating func unsignedVarint(_ field: StaticString) throws(RecordDecodingError) -> UInt32 {
        // Fast path: one byte.
        if position < end {
            let b = base.load(fromByteOffset: position, as: UInt8.self)
            if b < 0x80 {
                position &+= 1
                return UInt32(b)
            }
        }
        return try unsignedVarintSlow(field)
    }

    mutating func unsignedVarintSlow(_ field: StaticString) throws(RecordDecodingError) -> UInt32 {
        let start = position
        var result: UInt32 = 0
        var shift: UInt32 = 0
        while true {
            guard position < end else {
                throw RecordDecodingError(path: field.description, offset: start, reason: .truncated(needed: position - start + 1, remaining: end - start))
            }
            let b = base.load(fromByteOffset: position, as: UInt8.self)
            position &+= 1
            if shift == 28 && b > 0x0F {
                throw RecordDecodingError(path: field.description, offset: start, reason: .malformedVarint)
            }
            result |= UInt32(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift &+= 7
        }
    }

    /// Unsigned LEB128 of at most 10 bytes whose value fits 64 bits.
    @inline(__always)
    mutating func unsignedVarlong(_ field: StaticString) throws(RecordDecodingError) -> UInt64 {
        if position < end {
            let b = base.load(fromByteOffset: position, as: UInt8.self)
            if b < 0x80 {
                position &+= 1
                return UInt64(b)
            }
        }
        return try unsignedVarlongSlow(field)
    }

    mutating func unsignedVarlongSlow(_ field: StaticString) throws(RecordDecodingError) -> UInt64 {
        let start = position
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else {
                throw RecordDecodingError(path: field.description, offset: start, reason: .truncated(needed: position - start + 1, remaining: end - start))
            }
            let b = base.load(fromByteOffset: position, as: UInt8.self)
            position &+= 1
            if shift == 63 && b > 0x01 {
                throw RecordDecodingError(path: field.description, offset: start, reason: .malformedVarint)
            }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift &+= 7
        }
    }

    /// Zig-zag signed varint.
    @inline(__always)
    mutating func varint(_ field: StaticString) throws(RecordDecodingError) -> Int32 {
        let u = try unsignedVarint(field)
        return Int32(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    /// Zig-zag signed varlong.
    @inline(__always)
    mutating func varlong(_ field: StaticString) throws(RecordDecodingError) -> Int64 {
        let u = try unsignedVarlong(field)
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    /// A varint length (-1 = null when `nullable`) followed by that many bytes; returns the
    /// bytes' range in the buffer and skips them. The length is checked against what is left.
    @inline(__always)
    mutating func varintBytes(_ field: StaticString, nullable: Bool) throws(RecordDecodingError) -> Range<Int>? {
        let at = position
        let n = try varint(field)
        if n < 0 {
            if n == -1 && nullable { return nil }
            throw RecordDecodingError(path: field.description, offset: at, reason: .invalidLength(Int64(n)))
        }
        guard Int(n) <= end &- position else {
            throw RecordDecodingError(path: field.description, offset: at, reason: .invalidLength(Int64(n)))
        }
        let start = position
        position &+= Int(n)
        return start ..< position
    }

    /// An int32 length (-1 = null) followed by that many bytes (legacy messages).
    mutating func int32Bytes(_ field: StaticString) throws(RecordDecodingError) -> Range<Int>? {
        let at = position
        let n = try int32(field)
        if n == -1 { return nil }
        guard n >= 0, Int(n) <= end &- position else {
            throw RecordDecodingError(path: field.description, offset: at, reason: .invalidLength(Int64(n)))
        }
        let start = position
        position &+= Int(n)
        return start ..< position
    }

    /// `count` bytes at the cursor as UTF-8 (invalid UTF-8 is an error); skips them.
    mutating func utf8(_ range: Range<Int>, _ field: StaticString) throws(RecordDecodingError) -> String {
        let p = UnsafeBufferPointer(start: (base + range.lowerBound).assumingMemoryBound(to: UInt8.self), count: range.count)
        guard let s = String(validating: p, as: UTF8.self) else {
            throw RecordDecodingError(path: field.description, offset: range.lowerBound, reason: .invalidUTF8)
        }
        return s
    }
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` that keeps the body's typed error (the standard one rethrows `any Error`).
    @inline(__always)
    func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let result: Result<R, E> = withUnsafeBytes { raw in
            do throws(E) { return .success(try body(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

/// Varint encoding straight into memory (the caller has made room: see `Varint.size`).
enum Varint {
    /// Bytes the unsigned LEB128 encoding of `v` takes (1…10).
    @inline(__always)
    static func size(_ v: UInt64) -> Int {
        // 7 payload bits per byte: ceil(bits / 7), at least 1.
        let bits = 64 &- v.leadingZeroBitCount
        return bits == 0 ? 1 : (bits &+ 6) / 7
    }

    @inline(__always) static func zigzag(_ v: Int32) -> UInt64 { UInt64(UInt32(bitPattern: (v << 1) ^ (v >> 31))) }
    @inline(__always) static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }

    /// Size of a zig-zag varint.
    @inline(__always) static func size(signed v: Int32) -> Int { size(zigzag(v)) }
    @inline(__always) static func size(signed v: Int64) -> Int { size(zigzag(v)) }

    /// Writes unsigned LEB128 at `p` and advances it.
    @inline(__always)
    static func put(_ v: UInt64, _ p: inout UnsafeMutableRawPointer) {
        var v = v
        while v >= 0x80 {
            p.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, as: UInt8.self)
            p += 1
            v &>>= 7
        }
        p.storeBytes(of: UInt8(truncatingIfNeeded: v), as: UInt8.self)
        p += 1
    }

    @inline(__always) static func put(signed v: Int32, _ p: inout UnsafeMutableRawPointer) { put(zigzag(v), &p) }
    @inline(__always) static func put(signed v: Int64, _ p: inout UnsafeMutableRawPointer) { put(zigzag(v), &p) }
}
