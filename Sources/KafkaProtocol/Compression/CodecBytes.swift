/// Unaligned little/big-endian loads and match copying shared by the pure-Swift codecs.
/// Callers check bounds; these do not.
enum CodecBytes {
    @inline(__always)
    static func load32(_ p: UnsafePointer<UInt8>) -> UInt32 {
        UInt32(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt32.self))
    }

    @inline(__always)
    static func load64(_ p: UnsafePointer<UInt8>) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
    }

    @inline(__always)
    static func readBE32(_ buf: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(buf[at]) << 24 | UInt32(buf[at + 1]) << 16 | UInt32(buf[at + 2]) << 8 | UInt32(buf[at + 3])
    }

    @inline(__always)
    static func readLE32(_ buf: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(buf[at]) | UInt32(buf[at + 1]) << 8 | UInt32(buf[at + 2]) << 16 | UInt32(buf[at + 3]) << 24
    }

    /// How many bytes from `a` and `b` are equal, up to `limit`.
    @inline(__always)
    static func matchLength(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ limit: Int) -> Int {
        var n = 0
        while n + 8 <= limit {
            let x = load64(a + n) ^ load64(b + n)
            if x != 0 { return n + x.trailingZeroBitCount >> 3 }
            n += 8
        }
        while n < limit && a[n] == b[n] { n += 1 }
        return n
    }

    /// Copies `length` bytes from `src` to `dst`. Short copies move two whole words when both
    /// sides have at least 16 bytes of room (`srcRoom`, `dstRoom`: bytes valid from each
    /// pointer), which is faster than a call to memcpy; bytes past `length` then get written
    /// but are overwritten later or lie beyond the output's count.
    @inline(__always)
    static func copyLiteral(
        _ dst: UnsafeMutablePointer<UInt8>, _ src: UnsafePointer<UInt8>, _ length: Int, dstRoom: Int, srcRoom: Int
    ) {
        if length <= 16 && dstRoom >= 16 && srcRoom >= 16 {
            let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(src)
            d.storeBytes(of: s.loadUnaligned(as: UInt64.self), as: UInt64.self)
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: 8, as: UInt64.self), toByteOffset: 8, as: UInt64.self)
        } else {
            dst.update(from: src, count: length)
        }
    }

    /// Copies `length` bytes from `offset` bytes back to `dst` (which the caller has checked are
    /// in bounds), where the source may overlap the destination (a run repeats its pattern).
    /// Never writes past `dst + length`.
    @inline(__always)
    static func copyMatch(_ dst: UnsafeMutablePointer<UInt8>, offset: Int, length: Int) {
        if offset >= length && length > 16 {
            dst.update(from: dst - offset, count: length)
            return
        }
        // Word copies from `distance` back. Output repeats with period `offset`, so any multiple
        // of it is as good a distance; one of at least 8 makes each word read only bytes already
        // written. The first `distance - offset` bytes (< 8) must come from the real source.
        var distance = offset
        var i = 0
        if offset < 8 {
            distance = offset * ((7 + offset) / offset)
            let head = min(length, distance - offset)
            while i < head {
                dst[i] = dst[i - offset]
                i += 1
            }
        }
        let raw = UnsafeMutableRawPointer(dst)
        while i + 8 <= length {
            raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: i - distance, as: UInt64.self), toByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < length {
            dst[i] = dst[i - distance]
            i += 1
        }
    }
}
