import Testing
@testable import KafkaProtocol

/// Hostile and damaged input: every failure is a typed `CompressionError` naming the codec,
/// nothing traps, and no output grows past `maxOutput`.
@Suite struct CompressionCorruptionTests {
    static let input = CompressionInputs.text(6000) + CompressionInputs.random(300)

    /// Decompresses, turning any error into a CompressionError for the caller to inspect.
    static func attempt(_ codec: RecordCompression, _ bytes: [UInt8], maxOutput: Int) -> Result<[UInt8], CompressionError> {
        do { return .success(try Compression.decompress(codec, bytes, maxOutput: maxOutput)) } catch { return .failure(error) }
    }

    static func expectCorrupt(
        _ codec: RecordCompression, _ bytes: [UInt8], _ fragment: String, maxOutput: Int = 1 << 20,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        switch attempt(codec, bytes, maxOutput: maxOutput) {
        case .success: Issue.record("\(codec): corrupt input decoded", sourceLocation: sourceLocation)
        case let .failure(.corrupt(c, detail)):
            #expect(c == codec, sourceLocation: sourceLocation)
            #expect(detail.contains(fragment), "\(codec): '\(detail)' lacks '\(fragment)'", sourceLocation: sourceLocation)
        case let .failure(other): Issue.record("\(codec): expected .corrupt, got \(other)", sourceLocation: sourceLocation)
        }
    }

    // MARK: - Every codec

    /// Every strict prefix fails, except where the format has no end marker (xerial snappy ends
    /// after any whole chunk; its bare 16-byte header is an empty stream).
    @Test(arguments: compressingCodecs)
    func everyTruncationIsAnError(codec: RecordCompression) throws {
        let packed = try Compression.compress(codec, Self.input)
        for length in 0 ..< packed.count {
            switch Self.attempt(codec, Array(packed.prefix(length)), maxOutput: Self.input.count) {
            case let .success(output):
                #expect(codec == .snappy && length == 16 && output.isEmpty, "\(codec) prefix \(length) decoded to \(output.count) bytes")
            case let .failure(error):
                #expect(error.codec == codec)
                if case .corrupt = error {} else { Issue.record("\(codec) prefix \(length): \(error)") }
            }
        }
    }

    /// Damage anywhere never traps and never yields more than maxOutput; where the format has
    /// checksums (gzip CRC-32, zstd, LZ4 with checksums) it is always detected.
    @Test(arguments: compressingCodecs)
    func damageAnywhereIsContained(codec: RecordCompression) throws {
        let small = Array(Self.input.prefix(2000))
        let packed = try Compression.compress(codec, small)
        var detected = 0
        for position in 0 ..< packed.count {
            for flip: UInt8 in [0x01, 0x80, 0xFF] {
                var damaged = packed
                damaged[position] ^= flip
                switch Self.attempt(codec, damaged, maxOutput: small.count) {
                case let .success(output):
                    #expect(output.count <= small.count)
                case let .failure(error):
                    #expect(error.codec == codec)
                    detected += 1
                }
            }
        }
        #expect(detected > 0)
        if codec == .gzip {
            // The magic and the CRC-32/length trailer are always checked (the mtime, flags and
            // padding bits are not, by the format's design).
            for position in Array(0 ..< 3) + Array(packed.count - 8 ..< packed.count) {
                var damaged = packed
                damaged[position] ^= 0x01
                guard case .failure = Self.attempt(codec, damaged, maxOutput: small.count) else {
                    Issue.record("gzip: damage at byte \(position) went unnoticed")
                    continue
                }
            }
        }
    }

    @Test(arguments: compressingCodecs)
    func garbageIsCorrupt(codec: RecordCompression) {
        for garbage in [[UInt8](), [0], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], CompressionInputs.random(100, seed: 7)] {
            switch Self.attempt(codec, garbage, maxOutput: 1 << 20) {
            case .success(let out):
                // A zero byte is a valid raw snappy block of length 0.
                #expect(codec == .snappy && garbage == [0] && out.isEmpty, "\(codec): \(garbage.count) garbage bytes decoded")
            case let .failure(error):
                #expect(error.codec == codec)
                if case .corrupt = error {} else { Issue.record("\(codec): \(error)") }
            }
        }
    }

    /// A bomb: a little input that expands hugely stops at maxOutput.
    @Test(arguments: compressingCodecs)
    func maxOutputStopsBombs(codec: RecordCompression) throws {
        let size = 2 << 20
        let zeros = [UInt8](repeating: 0, count: size)
        let packed = try Compression.compress(codec, zeros)
        #expect(packed.count < size / 20)
        for limit in [0, 1, 65_535, 65_536, 1 << 20, size - 1] {
            #expect(throws: CompressionError.outputTooLarge(codec, limit: limit)) {
                try Compression.decompress(codec, packed, maxOutput: limit)
            }
        }
        #expect(try Compression.decompress(codec, packed, maxOutput: size).count == size)
        // A negative limit is treated as 0.
        #expect(throws: CompressionError.outputTooLarge(codec, limit: 0)) {
            try Compression.decompress(codec, packed, maxOutput: -5)
        }
    }

    // MARK: - gzip

    @Test func gzipTrailingBytesAndBadChecksum() throws {
        let packed = try Compression.compress(.gzip, Self.input)
        Self.expectCorrupt(.gzip, packed + [0, 0, 0, 0], "member 2")
        Self.expectCorrupt(.gzip, packed + Array("junk".utf8), "member 2")
        var badCRC = packed
        badCRC[badCRC.count - 6] ^= 0x10
        Self.expectCorrupt(.gzip, badCRC, "incorrect data check")
        Self.expectCorrupt(.gzip, [0x78, 0x9C] + Array(packed.dropFirst(10)), "incorrect header check")
        // A second, valid member is fine.
        #expect(try Compression.decompress(.gzip, packed + packed, maxOutput: 2 * Self.input.count) == Self.input + Self.input)
    }

    // MARK: - snappy

    @Test func snappyHostileLengthsAndOffsets() throws {
        // Declares 256 MiB with 2 bytes of body: corrupt before anything is allocated, whatever the limit.
        Self.expectCorrupt(.snappy, [0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x41], "more than 2 bytes can hold", maxOutput: Int(Int32.max))
        // Declares 2 000 000 bytes with a body that could hold them: rejected against the limit
        // before decoding (the body is not even valid).
        #expect(throws: CompressionError.outputTooLarge(.snappy, limit: 1 << 20)) {
            try Compression.decompress(.snappy, [0x80, 0x89, 0x7A] + [UInt8](repeating: 0xFE, count: 100_000), maxOutput: 1 << 20)
        }
        Self.expectCorrupt(.snappy, Snappy.xerialMagic + [0, 0, 0, 1], "xerial header truncated (12 of 16 bytes)")
        Self.expectCorrupt(.snappy, [0xFF, 0xFF, 0xFF, 0xFF, 0x1F], "exceeds 32 bits", maxOutput: Int.max)
        Self.expectCorrupt(.snappy, [0x80, 0x80, 0x80, 0x80, 0x80, 0x01], "longer than 5 bytes")
        // Literal "ab", then copy with offset 0 / offset past the output.
        Self.expectCorrupt(.snappy, [6, 0x04, 0x61, 0x62, 0x01, 0x00], "offset 0")
        Self.expectCorrupt(.snappy, [6, 0x04, 0x61, 0x62, 0x01, 0x03], "offset 3 with 2 bytes decoded")
        Self.expectCorrupt(.snappy, [6, 0x04, 0x61, 0x62, 0x0E, 0x09, 0x00, 0x00, 0x00], "offset 9")
        // A valid overlapping copy: "ab" + copy(offset 2, length 4) = "ababab".
        #expect(try Compression.decompress(.snappy, [6, 0x04, 0x61, 0x62, 0x01, 0x02], maxOutput: 6) == Array("ababab".utf8))
        // Literal longer than the input / than the declared length; declared length not reached.
        Self.expectCorrupt(.snappy, [5, 0x10, 0x61, 0x62], "runs past the input")
        Self.expectCorrupt(.snappy, [1, 0x04, 0x61, 0x62], "runs past the declared length")
        Self.expectCorrupt(.snappy, [3, 0x04, 0x61, 0x62], "decodes to 2 bytes, declares 3")
        Self.expectCorrupt(.snappy, [10, 0xF4], "literal length at byte 2 truncated")
        // Copy running past the declared length.
        Self.expectCorrupt(.snappy, [4, 0x04, 0x61, 0x62, 0x01, 0x02], "past the declared length 4")
    }

    @Test func xerialChunkLengthsAreChecked() throws {
        let header = Snappy.xerialMagic + [0, 0, 0, 1, 0, 0, 0, 1]
        Self.expectCorrupt(.snappy, header + [0, 0, 0, 9, 1, 0x00], "claims 9 bytes, 2 left")
        Self.expectCorrupt(.snappy, header + [0, 0, 0, 2, 1, 0x00] + [0, 0], "chunk length at byte 22 truncated")
        Self.expectCorrupt(.snappy, header + [0xFF, 0xFF, 0xFF, 0xFF, 1], "claims 4294967295 bytes")
        // Two chunks of 40 000 declared bytes each against a 50 000-byte limit: rejected before decoding.
        let chunk = Snappy.compressRaw(CompressionInputs.repetitive(40_000))
        let size: [UInt8] = [0, 0, UInt8(chunk.count >> 8), UInt8(chunk.count & 0xFF)]
        let two = header + size + chunk + size + chunk
        #expect(try Compression.decompress(.snappy, two, maxOutput: 80_000) == CompressionInputs.repetitive(40_000) + CompressionInputs.repetitive(40_000))
        #expect(throws: CompressionError.outputTooLarge(.snappy, limit: 50_000)) {
            try Compression.decompress(.snappy, two, maxOutput: 50_000)
        }
    }

    // MARK: - lz4

    /// A frame around one raw block, with a correct header checksum.
    static func lz4Frame(flg: UInt8 = 0x60, bd: UInt8 = 0x40, extra: [UInt8] = [], blocks: [[UInt8]], trailer: [UInt8] = []) -> [UInt8] {
        let descriptor = [flg, bd] + extra
        var out: [UInt8] = [0x04, 0x22, 0x4D, 0x18] + descriptor + [UInt8(truncatingIfNeeded: XXHash32.hash(descriptor) >> 8)]
        for block in blocks {
            let n = UInt32(block.count)
            out += [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)] + block
        }
        return out + [0, 0, 0, 0] + trailer
    }

    @Test func lz4BlockOffsetsAndLengthsAreChecked() throws {
        // "abcd" literals, then a match of 4 at offset 4, then empty last literals: "abcdabcd".
        let good: [UInt8] = [0x40, 0x61, 0x62, 0x63, 0x64, 0x04, 0x00, 0x00]
        #expect(try Compression.decompress(.lz4, Self.lz4Frame(blocks: [good]), maxOutput: 8) == Array("abcdabcd".utf8))
        Self.expectCorrupt(.lz4, Self.lz4Frame(blocks: [[0x40, 0x61, 0x62, 0x63, 0x64, 0x00, 0x00, 0x00]]), "offset 0")
        Self.expectCorrupt(.lz4, Self.lz4Frame(blocks: [[0x40, 0x61, 0x62, 0x63, 0x64, 0x05, 0x00, 0x00]]), "offset 5")
        Self.expectCorrupt(.lz4, Self.lz4Frame(blocks: [[0x50, 0x61, 0x62]]), "5 literals")
        Self.expectCorrupt(.lz4, Self.lz4Frame(blocks: [[0x40, 0x61, 0x62, 0x63, 0x64, 0x04]]), "offset at block byte 5 truncated")
        Self.expectCorrupt(.lz4, Self.lz4Frame(blocks: [[0xF0]]), "literal length runs past")
        Self.expectCorrupt(.lz4, Self.lz4Frame(blocks: [[0x4F, 0x61, 0x62, 0x63, 0x64, 0x04, 0x00]]), "match length runs past")
        // Bytes after the last sequence's literals are read as a match offset, which is cut off.
        Self.expectCorrupt(.lz4, Self.lz4Frame(blocks: [good + [0x04]]), "offset at block byte 8 truncated")
    }

    @Test func lz4MatchesCannotReachIntoAnIndependentBlocksPredecessor() throws {
        let first: [UInt8] = [0x40, 0x61, 0x62, 0x63, 0x64] // "abcd"
        let second: [UInt8] = [0x00, 0x04, 0x00, 0x00] // match offset 4: reaches into block 1
        Self.expectCorrupt(.lz4, Self.lz4Frame(flg: 0x60, blocks: [first, second]), "reaches before the window")
        // With linked blocks (FLG bit 5 clear) the same bytes are valid.
        #expect(try Compression.decompress(.lz4, Self.lz4Frame(flg: 0x40, blocks: [first, second]), maxOutput: 100) == Array("abcdabcd".utf8))
    }

    @Test func lz4FrameHeaderIsChecked() throws {
        let block: [UInt8] = [0x30, 0x61, 0x62, 0x63]
        #expect(try Compression.decompress(.lz4, Self.lz4Frame(blocks: [block]), maxOutput: 3) == Array("abc".utf8))
        var badMagic = Self.lz4Frame(blocks: [block])
        badMagic[0] = 0x05
        Self.expectCorrupt(.lz4, badMagic, "bad magic 0x184d2205")
        var badHC = Self.lz4Frame(blocks: [block])
        badHC[6] ^= 0x01
        Self.expectCorrupt(.lz4, badHC, "header checksum mismatch")
        Self.expectCorrupt(.lz4, Self.lz4Frame(flg: 0xA0, blocks: [block]), "version 2")
        Self.expectCorrupt(.lz4, Self.lz4Frame(flg: 0x62, blocks: [block]), "reserved bits")
        Self.expectCorrupt(.lz4, Self.lz4Frame(bd: 0x41, blocks: [block]), "reserved bits")
        Self.expectCorrupt(.lz4, Self.lz4Frame(bd: 0x30, blocks: [block]), "block size id 3")
        Self.expectCorrupt(.lz4, Self.lz4Frame(flg: 0x61, extra: [1, 2, 3, 4], blocks: [block]), "dictionary")
        // Content size: must match, and must fit the limit before anything is decoded.
        let size3: [UInt8] = [3, 0, 0, 0, 0, 0, 0, 0]
        #expect(try Compression.decompress(.lz4, Self.lz4Frame(flg: 0x68, extra: size3, blocks: [block]), maxOutput: 3) == Array("abc".utf8))
        Self.expectCorrupt(.lz4, Self.lz4Frame(flg: 0x68, extra: [4, 0, 0, 0, 0, 0, 0, 0], blocks: [block]), "declares 4")
        #expect(throws: CompressionError.outputTooLarge(.lz4, limit: 1 << 20)) {
            try Compression.decompress(.lz4, Self.lz4Frame(flg: 0x68, extra: [0, 0, 0, 0, 0, 0, 0, 0x40], blocks: [block]), maxOutput: 1 << 20)
        }
        // A block claiming more than the frame's block size, or than the input holds.
        var huge = Self.lz4Frame(blocks: [block])
        huge[7 ..< 11] = [0x01, 0x00, 0x01, 0x00] // 65 537 > 64 KiB
        Self.expectCorrupt(.lz4, huge, "more than the frame's 65536")
        var long = Self.lz4Frame(blocks: [block])
        long[7] = 0x40
        Self.expectCorrupt(.lz4, long, "claims 64 bytes")
    }

    @Test func lz4ChecksumsAreVerifiedWhenPresent() throws {
        let block: [UInt8] = [0x30, 0x61, 0x62, 0x63]
        let blockSum = XXHash32.hash(block)
        let le = { (v: UInt32) -> [UInt8] in [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
        // Block checksum (FLG bit 4) follows the block's data.
        let withBlockSum = Self.lz4Frame(flg: 0x70, blocks: [block + le(blockSum)])
        // lz4Frame counts the checksum into the block size; rebuild the size field correctly.
        var fixed = withBlockSum
        fixed[7] = 4
        #expect(try Compression.decompress(.lz4, fixed, maxOutput: 3) == Array("abc".utf8))
        fixed[11 + 4] ^= 1
        Self.expectCorrupt(.lz4, fixed, "block checksum mismatch")
        // Content checksum (FLG bit 2) after the end mark.
        let contentSum = XXHash32.hash(Array("abc".utf8))
        #expect(try Compression.decompress(.lz4, Self.lz4Frame(flg: 0x64, blocks: [block], trailer: le(contentSum)), maxOutput: 3) == Array("abc".utf8))
        Self.expectCorrupt(.lz4, Self.lz4Frame(flg: 0x64, blocks: [block], trailer: le(contentSum ^ 1)), "content checksum mismatch")
        Self.expectCorrupt(.lz4, Self.lz4Frame(flg: 0x64, blocks: [block], trailer: [1, 2]), "truncated content checksum")
    }

    @Test func lz4SkippableAndConcatenatedFrames() throws {
        let frame = Self.lz4Frame(blocks: [[0x30, 0x61, 0x62, 0x63]])
        let skippable: [UInt8] = [0x5A, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 9, 9, 9]
        #expect(try Compression.decompress(.lz4, skippable + frame + frame, maxOutput: 6) == Array("abcabc".utf8))
        Self.expectCorrupt(.lz4, skippable, "only skippable")
        Self.expectCorrupt(.lz4, [0x5A, 0x2A, 0x4D, 0x18, 30, 0, 0, 0, 9], "claims 30 bytes")
        Self.expectCorrupt(.lz4, frame + [0x04, 0x22], "truncated magic")
        // An uncompressed ("stored") block, and a stored block over the limit.
        let stored = Self.lz4Frame(blocks: []).dropLast(4) + [3, 0, 0, 0x80, 0x78, 0x79, 0x7A, 0, 0, 0, 0]
        #expect(try Compression.decompress(.lz4, Array(stored), maxOutput: 3) == Array("xyz".utf8))
        #expect(throws: CompressionError.outputTooLarge(.lz4, limit: 2)) {
            try Compression.decompress(.lz4, Array(stored), maxOutput: 2)
        }
    }

    // MARK: - zstd

    @Test func zstdTrailingGarbageAndOversizedFrames() throws {
        let packed = try Compression.compress(.zstd, Self.input)
        Self.expectCorrupt(.zstd, packed + [1, 2, 3, 4, 5, 6, 7, 8], "near input byte \(packed.count)")
        // Two frames back to back are one stream.
        #expect(try Compression.decompress(.zstd, packed + packed, maxOutput: 2 * Self.input.count) == Self.input + Self.input)
        // The declared content size is checked before decoding.
        #expect(throws: CompressionError.outputTooLarge(.zstd, limit: 100)) {
            try Compression.decompress(.zstd, packed, maxOutput: 100)
        }
    }

    // MARK: - zstd unavailable

    @Test func missingLibzstdIsATypedErrorAndOtherCodecsStillWork() throws {
        let missing = ZstdLibrary.load(names: ["libkwire-no-such-zstd.so.1"])
        guard case let .failure(.unavailable(codec, reason)) = missing else {
            Issue.record("loading a missing library gave \(missing)")
            return
        }
        #expect(codec == .zstd)
        #expect(reason.contains("libkwire-no-such-zstd.so.1"))
        #expect(throws: CompressionError.unavailable(.zstd, reason: reason)) {
            try Compression.compress(.zstd, [1, 2, 3], level: nil, zstd: missing)
        }
        #expect(throws: CompressionError.unavailable(.zstd, reason: reason)) {
            try Compression.decompress(.zstd, [0x28, 0xB5, 0x2F, 0xFD], maxOutput: 10, zstd: missing)
        }
        for other in [RecordCompression.none, .gzip, .snappy, .lz4] {
            let packed = try Compression.compress(other, Self.input, level: nil, zstd: missing)
            #expect(try Compression.decompress(other, packed, maxOutput: Self.input.count, zstd: missing) == Self.input)
        }
    }

    @Test func aLibraryThatIsNotLibzstdIsUnavailable() {
        // zlib is loadable everywhere we build, and has none of zstd's functions.
        let notZstd = ZstdLibrary.load(names: ["libz.so.1"])
        guard case let .failure(.unavailable(.zstd, reason)) = notZstd else {
            Issue.record("libz.so.1 as zstd gave \(notZstd)")
            return
        }
        #expect(reason.contains("has no ZSTD_versionNumber"))
    }

    @Test func theSystemLibraryLoads() throws {
        let zstd = try ZstdLibrary.system.get()
        #expect(zstd.version.hasPrefix("1."))
        #expect(zstd.levels.contains(3) && zstd.levels.contains(19))
    }
}
