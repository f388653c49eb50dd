import Testing
@testable import KafkaProtocol

/// Deterministic inputs for the compression tests (xorshift64: no global randomness).
enum CompressionInputs {
    static func random(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
        var x = seed
        var out = [UInt8](repeating: 0, count: count)
        for i in 0 ..< count {
            x ^= x << 13
            x ^= x >> 7
            x ^= x << 17
            out[i] = UInt8(truncatingIfNeeded: x)
        }
        return out
    }

    /// Log-like lines with varying numbers: compressible, but not trivially.
    static func text(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count + 100)
        var i = 0
        while out.count < count {
            out += Array("ts=\(1_700_000_000_000 + i * 17) level=INFO topic=orders-\(i % 12) offset=\(i * 3) key=user-\(i * 7919 % 10007)\n".utf8)
            i += 1
        }
        return Array(out.prefix(count))
    }

    /// A short pattern repeated: long matches, overlapping copies (offset < length).
    static func repetitive(_ count: Int) -> [UInt8] {
        let pattern = Array("kafkawire!".utf8)
        return (0 ..< count).map { pattern[$0 % pattern.count] }
    }

    static let megabyte = 1 << 20
    static let cases: [(String, [UInt8])] = [
        ("empty", []),
        ("one byte", [0x61]),
        ("tiny", Array("hello, kafka".utf8)),
        ("1 MiB random", random(megabyte)),
        ("1 MiB repetitive", repetitive(megabyte)),
        ("1 MiB text", text(megabyte)),
        ("single repeated byte", [UInt8](repeating: 0, count: 300_000)),
    ]
}

let compressingCodecs: [RecordCompression] = [.gzip, .snappy, .lz4, .zstd]

@Suite struct CompressionRoundTripTests {
    @Test(arguments: compressingCodecs)
    func roundTripsEveryInput(codec: RecordCompression) throws {
        for (name, input) in CompressionInputs.cases {
            let packed = try Compression.compress(codec, input)
            let unpacked = try Compression.decompress(codec, packed, maxOutput: input.count)
            #expect(unpacked == input, "\(codec) \(name): round trip differs")
            if name.contains("repetitive") || name.contains("text") || name.contains("repeated") {
                #expect(packed.count < input.count / 3, "\(codec) \(name): \(packed.count) bytes, expected real compression")
            }
            if name.contains("random") {
                // Incompressible input may grow, but only by framing overhead.
                #expect(packed.count < input.count + input.count / 100 + 64, "\(codec) \(name): grew to \(packed.count)")
            }
        }
    }

    @Test func noneIsIdentityAndStillBounded() throws {
        let input = CompressionInputs.text(1000)
        #expect(try Compression.compress(.none, input) == input)
        #expect(try Compression.decompress(.none, input, maxOutput: 1000) == input)
        #expect(throws: CompressionError.outputTooLarge(.none, limit: 999)) {
            try Compression.decompress(.none, input, maxOutput: 999)
        }
    }

    @Test(arguments: [(RecordCompression.gzip, [-1, 0, 1, 6, 9]), (.lz4, [1, 2, 3, 9, 12]), (.zstd, [-5, 1, 3, 19])])
    func everyLevelRoundTrips(codec: RecordCompression, levels: [Int]) throws {
        let input = CompressionInputs.text(300_000) + CompressionInputs.random(10_000)
        var sizes: [Int: Int] = [:]
        for level in levels {
            let packed = try Compression.compress(codec, input, level: level)
            sizes[level] = packed.count
            #expect(try Compression.decompress(codec, packed, maxOutput: input.count) == input, "\(codec) level \(level)")
        }
        // Trying harder must pay off on text (guards against a level being ignored).
        let lowest = levels.filter { $0 > 0 }.min()!, highest = levels.max()!
        #expect(sizes[highest]! < sizes[lowest]!, "\(codec): level \(highest) gave \(sizes[highest]!) bytes, level \(lowest) \(sizes[lowest]!)")
    }

    @Test func invalidLevelsAreTypedErrors() throws {
        #expect(throws: CompressionError.invalidLevel(.gzip, level: 10, valid: -1 ... 9)) {
            try Compression.compress(.gzip, [1, 2, 3], level: 10)
        }
        #expect(throws: CompressionError.invalidLevel(.lz4, level: 0, valid: 1 ... 17)) {
            try Compression.compress(.lz4, [1, 2, 3], level: 0)
        }
        #expect(throws: CompressionError.invalidLevel(.lz4, level: 18, valid: 1 ... 17)) {
            try Compression.compress(.lz4, [1, 2, 3], level: 18)
        }
        let zstd = try ZstdLibrary.system.get()
        #expect(throws: CompressionError.invalidLevel(.zstd, level: 99, valid: zstd.levels)) {
            try Compression.compress(.zstd, [1, 2, 3], level: 99)
        }
        // Snappy has no levels; a level is ignored, as Kafka does.
        #expect(try Compression.compress(.snappy, [1, 2, 3], level: 5) == Compression.compress(.snappy, [1, 2, 3]))
    }

    @Test func whatWeWriteIsWhatKafkaClientsWrite() throws {
        let input = CompressionInputs.text(100_000)
        // gzip: one member, deflate, no name.
        let gz = try Compression.compress(.gzip, input)
        #expect(Array(gz.prefix(4)) == [0x1F, 0x8B, 0x08, 0x00])
        // snappy: xerial framing, version 1 / compatible 1, 32 KiB chunks (4 for 100 000 bytes).
        let sn = try Compression.compress(.snappy, input)
        #expect(Array(sn.prefix(16)) == Snappy.xerialMagic + [0, 0, 0, 1, 0, 0, 0, 1])
        var chunks = 0
        var pos = 16
        while pos < sn.count {
            let size = Int(sn[pos]) << 24 | Int(sn[pos + 1]) << 16 | Int(sn[pos + 2]) << 8 | Int(sn[pos + 3])
            let chunk = try sn[(pos + 4) ..< (pos + 4 + size)].withUnsafeBytes { try Snappy.readLength($0, at: 0) }
            #expect(chunk.length == min(32 * 1024, input.count - chunks * 32 * 1024))
            pos += 4 + size
            chunks += 1
        }
        #expect(chunks == 4 && pos == sn.count)
        // lz4: version 1, independent blocks, no checksums, no size, 64 KiB blocks (as Kafka's
        // Java client and librdkafka write; Java refuses linked blocks).
        let lz = try Compression.compress(.lz4, input)
        #expect(Array(lz.prefix(7)) == [0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0x82])
        #expect(Array(lz.suffix(4)) == [0, 0, 0, 0])
        // zstd: a standard frame.
        let zs = try Compression.compress(.zstd, input)
        #expect(Array(zs.prefix(4)) == [0x28, 0xB5, 0x2F, 0xFD])
    }

    @Test func emptyInputsCompressToWhatPeersAccept() throws {
        // Empty snappy is a header plus one empty block: kafka-python takes a bare 16-byte
        // header for raw snappy and fails.
        #expect(try Compression.compress(.snappy, []) == Snappy.xerialMagic + [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0])
        #expect(try Compression.compress(.lz4, []) == [0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0x82, 0, 0, 0, 0])
        #expect(try Compression.decompress(.snappy, Snappy.xerialMagic + [0, 0, 0, 1, 0, 0, 0, 1], maxOutput: 0) == [])
    }

    @Test func incompressibleLZ4BlocksAreStored() throws {
        let input = CompressionInputs.random(70_000)
        let lz = try Compression.compress(.lz4, input)
        // First block header: 65 536 with the "uncompressed" bit.
        #expect(Array(lz[7 ..< 11]) == [0x00, 0x00, 0x01, 0x80])
        #expect(Array(lz[11 ..< 11 + 65_536]) == Array(input.prefix(65_536)))
    }

    @Test func rawSnappyRoundTripsToo() throws {
        for (name, input) in CompressionInputs.cases {
            let raw = Snappy.compressRaw(input)
            let declared = try raw.withUnsafeBytes { (r) throws(CompressionError) in try Snappy.readLength(r, at: 0).length }
            #expect(declared == input.count, "raw snappy \(name) declares \(declared) bytes")
            #expect(try Compression.decompress(.snappy, raw, maxOutput: input.count) == input, "raw snappy \(name)")
        }
    }

    @Test func slicesAndBufferPointersDecompressWithoutCopying() throws {
        let input = CompressionInputs.text(50_000)
        for codec in compressingCodecs {
            let packed = try Compression.compress(codec, input)
            let framed = [0xAA, 0xBB] + packed + [0xCC]
            let slice = framed[2 ..< framed.count - 1]
            #expect(try Compression.decompress(codec, slice, maxOutput: input.count) == input, "\(codec) slice")
            let viaPointer = try packed.withUnsafeBytes { (raw) throws(CompressionError) in
                try Compression.decompress(codec, raw, maxOutput: input.count)
            }
            #expect(viaPointer == input, "\(codec) pointer")
        }
    }

    /// The adapters plug into the record layer: a v2 batch built with each codec decodes back
    /// to its records, and the decompressor's limit applies.
    @Test(arguments: compressingCodecs)
    func recordBatchesRoundTripThroughTheRecordLayer(codec: RecordCompression) throws {
        var builder = RecordBatchBuilder(compression: codec)
        let values = (0 ..< 50).map { CompressionInputs.text(200 + $0 * 10) }
        for (i, value) in values.enumerated() {
            try builder.append(timestamp: 1_700_000_000_000 + Int64(i), key: Array("k\(i)".utf8), value: value)
        }
        let bytes = try builder.build(compress: Compression.recordCompressor())
        let batch = try RecordBatch(bytes)
        #expect(batch.attributes.compression == codec)
        let records = try batch.decodeRecords(decompress: Compression.recordDecompressor(maxOutput: 1 << 20))
        #expect(records.map { $0.value.map(Array.init) } == values)
        #expect(throws: RecordDecodingError.self) {
            try batch.decodeRecords(decompress: Compression.recordDecompressor(maxOutput: 1000))
        }
    }

    /// Published XXH32 test vectors (seed 0 unless stated), and streaming in odd pieces.
    @Test func xxHash32MatchesReferenceVectors() {
        #expect(XXHash32.hash([UInt8]()) == 0x02CC_5D05)
        #expect(XXHash32.hash(Array("a".utf8)) == 0x550D_7456)
        #expect(XXHash32.hash(Array("abc".utf8)) == 0x32D1_53FF)
        #expect(XXHash32.hash(Array("Nobody inspects the spammish repetition".utf8)) == 0xE229_3B2F)
        let long = CompressionInputs.random(1000)
        let whole = XXHash32.hash(long, seed: 0x1234_5678)
        var streamed = XXHash32(seed: 0x1234_5678)
        var pos = 0
        for step in [1, 3, 15, 16, 17, 100, 5, 843] {
            long[pos ..< pos + step].withUnsafeBytes { streamed.update($0) }
            pos += step
        }
        #expect(pos == long.count && streamed.finalize() == whole)
    }
}
