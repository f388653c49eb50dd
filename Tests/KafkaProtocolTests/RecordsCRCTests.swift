import Testing
import KafkaProtocol

/// CRC-32C (record batches v2) and CRC-32 IEEE (legacy messages) against published vectors and a
/// bit-at-a-time reference, across the lengths where the table engine switches strategy
/// (8-byte steps, the 768-byte three-stream blocks, byte tails).
@Suite struct RecordsCRCTests {
    /// Bit-at-a-time reflected CRC-32: slow, obviously right.
    static func reference(_ bytes: [UInt8], polynomial: UInt32) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0 ..< 8 { c = c & 1 != 0 ? (c >> 1) ^ polynomial : c >> 1 }
        }
        return ~c
    }

    /// Deterministic pseudo-random bytes (xorshift).
    static func noise(_ n: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
        var x = seed
        return (0 ..< n).map { _ in
            x ^= x << 13
            x ^= x >> 7
            x ^= x << 17
            return UInt8(truncatingIfNeeded: x >> 24)
        }
    }

    @Test func crc32cRFC3720Vectors() {
        // RFC 3720 appendix B.4.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0 ..< 32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0 ..< 32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
        // The CRC catalogue's check value.
        #expect(CRC32C.checksum(utf8("123456789")) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
    }

    @Test func crc32IEEEVectors() {
        #expect(CRC32.checksum(utf8("123456789")) == 0xCBF4_3926)
        #expect(CRC32.checksum(utf8("The quick brown fox jumps over the lazy dog")) == 0x414F_A339)
        #expect(CRC32.checksum([UInt8](repeating: 0, count: 32)) == 0x190A_55AD)
        #expect(CRC32.checksum([]) == 0)
    }

    @Test func matchesTheBitwiseReferenceAtEveryStrategyBoundary() {
        let data = Self.noise(5000)
        var lengths = Array(0 ... 40)
        for block in [768, 1536, 2304] { lengths += Array(block - 9 ... block + 9) }
        lengths += [1000, 3333, 4999, 5000]
        for n in lengths {
            let bytes = Array(data[0 ..< n])
            #expect(CRC32C.checksum(bytes) == Self.reference(bytes, polynomial: 0x82F6_3B78), "CRC-32C length \(n)")
            #expect(CRC32.checksum(bytes) == Self.reference(bytes, polynomial: 0xEDB8_8320), "CRC-32 length \(n)")
        }
    }

    @Test func unalignedStartsAndSlicesAgree() {
        let data = Self.noise(2000)
        for start in 0 ..< 9 {
            let slice = data[start ..< 1900]
            #expect(CRC32C.checksum(slice) == Self.reference(Array(slice), polynomial: 0x82F6_3B78), "start \(start)")
        }
    }

    @Test func updateContinuesAChecksum() {
        let data = Self.noise(2400)
        let whole = CRC32C.checksum(data)
        for split in [0, 1, 7, 8, 767, 768, 769, 1600, 2399, 2400] {
            let continued = data.withUnsafeBytes { raw in
                CRC32C.update(CRC32C.update(0, UnsafeRawBufferPointer(rebasing: raw[..<split])), UnsafeRawBufferPointer(rebasing: raw[split...]))
            }
            #expect(continued == whole, "split at \(split)")
        }
    }

    @Test func everySingleBitFlipChangesTheChecksum() {
        let data = Self.noise(100)
        let good = CRC32C.checksum(data)
        for i in data.indices {
            for bit in 0 ..< 8 {
                var bad = data
                bad[i] ^= 1 << bit
                #expect(CRC32C.checksum(bad) != good)
            }
        }
    }
}
