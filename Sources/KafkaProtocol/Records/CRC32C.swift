// CRC-32C (Castagnoli), the checksum of record batches v2 (KIP-98), and the shared table-driven
// engine that CRC32 (IEEE, legacy messages) also uses.
//
// Why software: SSE4.2's `crc32` instruction is not reachable from Swift without C code or
// per-target compiler flags (importing the Clang intrinsic crashes instruction selection unless
// the whole module is built with -msse4.2), and KafkaProtocol has no C target. So:
//
// - slicing-by-8: eight 256-entry tables let one step consume 8 bytes with 8 independent
//   table lookups instead of 8 dependent ones;
// - three interleaved streams: one step still waits on the previous step's result (load latency
//   plus the xor tree), so large inputs are cut into blocks of 3 × 256 bytes whose thirds are
//   checksummed at the same time, then combined with "shift by N zero bytes" tables (a CRC is
//   linear: crc(A‖B) = shift_len(B)(crc(A)) ⊕ crc₀(B)). The CPU overlaps the three chains.
//
// Measured on this machine (AMD EPYC, release build): about 6 GB/s for large buffers;
// plain slicing-by-8 alone gets about 2 GB/s.

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by record batches v2.
public enum CRC32C {
    /// The checksum of `bytes`.
    /// - Parameter bytes: The data.
    /// - Returns: The checksum.
    @inlinable
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { update(0, $0) }
    }

    /// The checksum of `bytes`.
    /// - Parameter bytes: The data.
    /// - Returns: The checksum.
    @inlinable
    public static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { update(0, $0) }
    }

    /// Continues a checksum: `update(checksum(a), b) == checksum(a + b)`. Start from 0.
    /// - Parameters:
    ///   - crc: The checksum so far.
    ///   - bytes: The next data.
    /// - Returns: The checksum including `bytes`.
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        tables.update(crc, bytes)
    }

    /// Computed once, on first use (a constant, not mutable state).
    static let tables = CRCTables(reflectedPolynomial: 0x82F6_3B78)
}

/// Lookup tables for one reflected CRC-32 polynomial, and the checksum loop that uses them.
struct CRCTables: Sendable {
    /// Bytes per stream in one interleaved block; a block is three of these.
    static let stride = 256

    /// Eight slicing tables of 256 entries, table k at [k*256 ..< (k+1)*256]. Table 0 is the
    /// classic byte-at-a-time table; table k advances a byte's contribution by k more bytes.
    let slicing: [UInt32]
    /// "Append `stride` zero bytes" as four byte-indexed tables (register byte k at [k*256…]).
    let shift1: [UInt32]
    /// "Append 2 × `stride` zero bytes", same layout.
    let shift2: [UInt32]

    init(reflectedPolynomial poly: UInt32) {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0 ..< 256 {
            var c = UInt32(i)
            for _ in 0 ..< 8 { c = c & 1 != 0 ? (c >> 1) ^ poly : c >> 1 }
            t[i] = c
        }
        for k in 1 ..< 8 {
            for i in 0 ..< 256 {
                let previous = t[(k - 1) * 256 + i]
                t[k * 256 + i] = (previous >> 8) ^ t[Int(previous & 0xFF)]
            }
        }
        slicing = t
        shift1 = Self.zeroShiftTables(bytes: Self.stride, byteTable: t)
        shift2 = Self.zeroShiftTables(bytes: 2 * Self.stride, byteTable: t)
    }

    /// The linear map "feed `bytes` zero bytes into the register", tabulated per register byte.
    private static func zeroShiftTables(bytes: Int, byteTable t: [UInt32]) -> [UInt32] {
        // Image of each single register bit.
        var image = [UInt32](repeating: 0, count: 32)
        for bit in 0 ..< 32 {
            var r = UInt32(1) << UInt32(bit)
            for _ in 0 ..< bytes { r = t[Int(r & 0xFF)] ^ (r >> 8) }
            image[bit] = r
        }
        var out = [UInt32](repeating: 0, count: 4 * 256)
        for k in 0 ..< 4 {
            for v in 0 ..< 256 {
                var x: UInt32 = 0
                for j in 0 ..< 8 where (v >> j) & 1 == 1 { x ^= image[k * 8 + j] }
                out[k * 256 + v] = x
            }
        }
        return out
    }

    /// Continues `crc` (a finished checksum, 0 for none) over `bytes`.
    func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard var p = bytes.baseAddress, !bytes.isEmpty else { return crc }
        var n = bytes.count
        return slicing.withUnsafeBufferPointer { tb in
            shift1.withUnsafeBufferPointer { s1b in
                shift2.withUnsafeBufferPointer { s2b in
                    // The three buffers are 2048 and 1024 entries long by construction; every index
                    // below is a byte (< 256) plus a constant multiple of 256 inside that size.
                    let t = tb.baseAddress!, s1 = s1b.baseAddress!, s2 = s2b.baseAddress!
                    var r = ~crc
                    let stride = Self.stride
                    while n >= 3 * stride {
                        var a = r, b: UInt32 = 0, c: UInt32 = 0
                        var i = 0
                        while i < stride {
                            a = Self.step8(a, p + i, t)
                            b = Self.step8(b, p + stride + i, t)
                            c = Self.step8(c, p + 2 * stride + i, t)
                            i &+= 8
                        }
                        r = Self.shift(a, s2) ^ Self.shift(b, s1) ^ c
                        p += 3 * stride
                        n &-= 3 * stride
                    }
                    while n >= 8 {
                        r = Self.step8(r, p, t)
                        p += 8
                        n &-= 8
                    }
                    while n > 0 {
                        r = t[Int((r ^ UInt32(p.load(as: UInt8.self))) & 0xFF)] ^ (r >> 8)
                        p += 1
                        n &-= 1
                    }
                    return ~r
                }
            }
        }
    }

    /// Feeds 8 bytes at `p` into register `r` (slicing-by-8).
    @inline(__always)
    private static func step8(_ r: UInt32, _ p: UnsafeRawPointer, _ t: UnsafePointer<UInt32>) -> UInt32 {
        let w = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
        let lo = UInt32(truncatingIfNeeded: w) ^ r
        let hi = UInt32(truncatingIfNeeded: w &>> 32)
        let x = t[1792 + Int(lo & 0xFF)] ^ t[1536 + Int((lo &>> 8) & 0xFF)]
            ^ t[1280 + Int((lo &>> 16) & 0xFF)] ^ t[1024 + Int(lo &>> 24)]
        let y = t[768 + Int(hi & 0xFF)] ^ t[512 + Int((hi &>> 8) & 0xFF)]
            ^ t[256 + Int((hi &>> 16) & 0xFF)] ^ t[Int(hi &>> 24)]
        return x ^ y
    }

    /// Applies a tabulated zero-shift to register `r`.
    @inline(__always)
    private static func shift(_ r: UInt32, _ s: UnsafePointer<UInt32>) -> UInt32 {
        s[Int(r & 0xFF)] ^ s[256 + Int((r &>> 8) & 0xFF)] ^ s[512 + Int((r &>> 16) & 0xFF)] ^ s[768 + Int(r &>> 24)]
    }
}
