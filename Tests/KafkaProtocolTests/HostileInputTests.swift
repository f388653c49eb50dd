import Foundation
import Testing
@testable import KafkaProtocol

/// What a hostile broker or middlebox can put on the wire must be a typed error (or bounded
/// work), never a trap, a quadratic decode or an allocation sized by a lie.
@Suite struct HostileInputTests {
    // MARK: Tagged fields (KIP-482: strictly ascending tags)

    /// An ApiVersions v3 response (the first thing read from a broker, before authentication)
    /// whose top-level tagged-field section holds `count` empty fields with ascending tags.
    static func apiVersionsWithTags(_ tags: [UInt32]) -> [UInt8] {
        var w = ByteWriter()
        w.writeInt16(0)                 // error_code
        w.writeUnsignedVarint(1)        // api_keys: compact array of 0 entries
        w.writeInt32(0)                 // throttle_time_ms
        w.writeUnsignedVarint(UInt32(tags.count))
        for t in tags {
            w.writeUnsignedVarint(t)
            w.writeUnsignedVarint(0)
        }
        return w.take()
    }

    @Test func manyTaggedFieldsDecodeInLinearTime() throws {
        // 250 k tags in ~1 MB: a search of the tags seen so far per tag made this take ~11 s.
        let tags = (0 ..< 250_000).map { UInt32($0) + 10 }
        let bytes = Self.apiVersionsWithTags(tags)
        let start = ContinuousClock.now
        let r = try ApiVersionsResponse(decoding: bytes, version: 3)
        let took = ContinuousClock.now - start
        #expect(r.unknownTaggedFields.count == 250_000)
        // Generous: linear decoding takes well under a second even in a debug build.
        #expect(took < .seconds(3), "took \(took)")
        // Lossless: the same bytes come back.
        #expect(try r.encoded(version: 3) == bytes)
    }

    @Test func repeatedOrDescendingTagsAreRejected() {
        for tags: [UInt32] in [[5, 5], [7, 3], [1, 2, 2], [9, 10, 4]] {
            let e = #expect(throws: ProtocolDecodingError.self, "\(tags)") {
                _ = try ApiVersionsResponse(decoding: Self.apiVersionsWithTags(tags), version: 3)
            }
            #expect(e?.path.contains("_tagged_fields.tag") == true, "\(tags): \(String(describing: e))")
        }
        #expect(throws: Never.self) { _ = try ApiVersionsResponse(decoding: Self.apiVersionsWithTags([20, 21, 300]), version: 3) }
    }

    // MARK: Array reservations

    /// An element 4 KiB in memory but one byte on the wire.
    struct Wide: DefaultConstructible {
        var first: Int8 = 0
        var block = InlineBlock()
    }
    /// 4 KiB of inline storage.
    struct InlineBlock {
        var a = (InlineRow(), InlineRow(), InlineRow(), InlineRow(), InlineRow(), InlineRow(), InlineRow(), InlineRow())
    }
    struct InlineRow {
        var a: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0, 0, 0, 0)
        var b: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0, 0, 0, 0)
        var c: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0, 0, 0, 0)
        var d: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0, 0, 0, 0)
        var e: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0, 0, 0, 0)
        var f: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0, 0, 0, 0)
        var g: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0, 0, 0, 0)
        var h: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0, 0, 0, 0)
    }

    @Test func arrayReservationIsBoundedByMemoryNotByWireCount() throws {
        #expect(MemoryLayout<Wide>.stride >= 4096)
        // 8 M one-byte elements claimed and present, the 6th invalid: reserving count × stride
        // up front asked for 32 GiB before a single element decoded (an allocation failure
        // is a trap); now at most 64 KiB is reserved and the decode fails at element 5.
        var bytes = [UInt8](repeating: 0, count: 4 + 8_000_000)
        bytes.replaceSubrange(0 ..< 4, with: [0x00, 0x7A, 0x12, 0x00]) // 8,000,000
        bytes[4 + 5] = 1
        var d = WireDecoder(reader: ByteReader(bytes))
        var out: [Wide] = []
        #expect(WireDecoder.maxReservedElements(Wide.self) * MemoryLayout<Wide>.stride <= 65536 + 16 * MemoryLayout<Wide>.stride)
        let e = #expect(throws: ProtocolDecodingError.self) {
            try d.array(&out, "wide", compact: false) { c, w in
                try c.int8(&w.first, "first")
                if w.first != 0 { throw ProtocolDecodingError(path: "first", offset: c.reader.offset - 1, reason: .invalid("bad")) }
            }
        }
        #expect(e?.path == "wide[5].first")
    }

    // MARK: Public readers never trap on negative counts

    @Test func byteReaderRejectsNegativeCounts() throws {
        var r = ByteReader([1, 2, 3, 4])
        #expect(throws: ProtocolDecodingError.self) { _ = try r.readUTF8(count: -1, "s") }
        #expect(throws: ProtocolDecodingError.self) { try r.skip(-2, "s") }
        #expect(throws: ProtocolDecodingError.self) { _ = try r.sub(count: -1, "s") }
        #expect(throws: ProtocolDecodingError.self) { _ = try r.readBytes(count: -1, "s") }
        #expect(r.offset == 0)
        #expect(try r.readUInt32("x") == 0x0102_0304)
    }

    // MARK: Decompression

    @Test(arguments: [RecordCompression.gzip, .snappy, .lz4, .zstd, .none])
    func decompressWithoutALimitDoesNotTrap(codec: RecordCompression) throws {
        let input = [UInt8]((0 ..< 100_000).map { UInt8(truncatingIfNeeded: $0 % 251) })
        let packed = try Compression.compress(codec, input)
        #expect(try Compression.decompress(codec, packed, maxOutput: .max) == input)
        #expect(try Compression.decompress(codec, packed, maxOutput: Int.max - 1) == input)
        #expect(throws: CompressionError.self) { _ = try Compression.decompress(codec, packed, maxOutput: 10) }
        #expect(throws: CompressionError.self) { _ = try Compression.decompress(codec, packed, maxOutput: -5) }
    }

    static func compressedBatch(records: Int, valueSize: Int, baseOffset: Int64 = 0) throws -> [UInt8] {
        var b = RecordBatchBuilder(baseOffset: baseOffset, compression: .gzip)
        for _ in 0 ..< records { try b.append(timestamp: 1, key: nil, value: [UInt8](repeating: 0x61, count: valueSize)) }
        return try b.build(compress: Compression.recordCompressor())
    }

    @Test func aSharedBudgetBoundsTheBatchesOfOneFetchTogether() throws {
        // Three batches that inflate to ~1 MB each; a budget of 2.5 MB admits two.
        let one = try Self.compressedBatch(records: 10, valueSize: 100_000)
        let set = one + (try Self.compressedBatch(records: 10, valueSize: 100_000, baseOffset: 10)) + (try Self.compressedBatch(records: 10, valueSize: 100_000, baseOffset: 20))
        #expect(set.count < 20_000)
        let budget = DecompressionBudget(bytes: 2_500_000)
        let decompress = budget.decompressor(maxPerBatch: 64 << 20)
        var reader = RecordSetReader(set)
        var offsets: [Int64] = []
        var stopped: RecordDecodingError?
        do {
            while let entry = try reader.next() { offsets += try entry.records(decompress: decompress).map(\.offset) }
        } catch {
            stopped = error
        }
        #expect(offsets == Array(0 ..< 20))
        #expect(budget.used > 2_000_000 && budget.used <= 2_500_000)
        guard case .decompressionBudgetExhausted? = stopped?.reason else {
            Issue.record("expected the budget to stop the third batch, got \(String(describing: stopped))")
            return
        }
        // A batch too large on its own is still an ordinary decompression failure.
        let small = DecompressionBudget(bytes: 10 << 20).decompressor(maxPerBatch: 100_000)
        var r2 = RecordSetReader(one)
        let e = #expect(throws: RecordDecodingError.self) { _ = try r2.next()?.records(decompress: small) }
        guard case .decompressionFailed? = e?.reason else {
            Issue.record("expected decompressionFailed, got \(String(describing: e))")
            return
        }
    }

    // MARK: Offsets near Int64.max

    @Test func aBatchWhoseNextOffsetIsNotRepresentableIsRejected() throws {
        // Ten records based at Int64.max - 2: the last record's offset and the next fetch
        // position would pass Int64.max. The base offset is outside the CRC.
        var batch = try buildBatch([(1, nil, [1], [])] + Array(repeating: (Int64(1), nil, [1], []), count: 9))
        batch.replaceSubrange(0 ..< 8, with: be(Int64.max - 2))
        var reader = RecordSetReader(batch)
        let e = #expect(throws: RecordDecodingError.self) { _ = try reader.next() }
        #expect(e?.path.contains("base_offset") == true, "\(String(describing: e))")

        // The largest base offset that still leaves a next offset decodes.
        batch.replaceSubrange(0 ..< 8, with: be(Int64.max - 10))
        var ok = RecordSetReader(batch)
        guard case let .batch(b)? = try ok.next() else { Issue.record("no batch"); return }
        #expect(b.nextOffset == Int64.max)
        #expect(try b.decodeRecords().last?.offset == Int64.max - 1)
    }

    @Test func aRecordOffsetDeltaBeyondTheBatchIsRejected() throws {
        // One record claiming offset_delta 5 in a batch whose last_offset_delta is 0.
        var b = RecordBatchBuilder(baseOffset: Int64.max - 1)
        try b.append(timestamp: 1, key: nil, value: [7])
        var batch = try b.build()
        // Record layout after the 61-byte header: length, attributes, timestamp_delta, offset_delta.
        #expect(batch[63] == 0) // timestamp delta 0
        batch[64] = 10          // zig-zag 5
        let crc = batch.withUnsafeBytes { CRC32C.update(0, UnsafeRawBufferPointer(rebasing: $0[21...])) }
        batch.replaceSubrange(17 ..< 21, with: be(crc))
        var reader = RecordSetReader(batch)
        guard case let .batch(parsed)? = try reader.next() else { Issue.record("no batch"); return }
        let e = #expect(throws: RecordDecodingError.self) { _ = try parsed.decodeRecords() }
        #expect(e?.path.contains("offset_delta") == true, "\(String(describing: e))")
    }

    @Test func legacyOffsetsWithoutANextOffsetAreRejected() throws {
        let m = legacyMessage(offset: Int64.max, magic: 1, key: nil, value: [1])
        var reader = RecordSetReader(m)
        let e = #expect(throws: RecordDecodingError.self) { _ = try reader.next() }
        #expect(e?.path.contains("offset") == true, "\(String(describing: e))")
        var ok = RecordSetReader(legacyMessage(offset: Int64.max - 1, magic: 1, key: nil, value: [1]))
        #expect(try ok.next()?.records().first?.offset == Int64.max - 1)
    }

    // MARK: Large record counts

    @Test func batchesWithMoreRecordsThanTheReservationDecodeCompletely() throws {
        var b = RecordBatchBuilder()
        let n = RecordReader.maxReservedRecords + 3_000
        for i in 0 ..< n { try b.append(timestamp: Int64(i), key: nil, value: [UInt8(truncatingIfNeeded: i)]) }
        let batch = try b.build()
        var reader = RecordSetReader(batch)
        guard case let .batch(parsed)? = try reader.next() else { Issue.record("no batch"); return }
        let records = try parsed.decodeRecords()
        #expect(records.count == n)
        #expect(records.map(\.offset) == (0 ..< Int64(n)).map { $0 })
        #expect(records[n - 1].value.map(Array.init) == [UInt8(truncatingIfNeeded: n - 1)])
    }

    // MARK: Canonical encodings only (found by the frames fuzz target)

    @Test func booleansOtherThanZeroOrOneAreRejected() throws {
        // A Metadata v12 request with allow_auto_topic_creation = 0x61 decoded as true and
        // re-encoded as 0x01: decode → encode must reproduce the input or throw.
        var request = MetadataRequest(topics: nil)
        request.allowAutoTopicCreation = true
        var good = try request.encoded(version: 12)
        #expect(try MetadataRequest(decoding: good, version: 12).allowAutoTopicCreation == true)
        let at = try #require(good.lastIndex(of: 1))
        good[at] = 0x61
        let e = #expect(throws: ProtocolDecodingError.self) { _ = try MetadataRequest(decoding: good, version: 12) }
        #expect(e?.path.contains("allow_auto_topic_creation") == true, "\(String(describing: e))")
        var r = ByteReader([0, 1, 2])
        #expect(try r.readBool("b") == false)
        #expect(try r.readBool("b") == true)
        #expect(throws: ProtocolDecodingError.self) { _ = try r.readBool("b") }
    }

    @Test func paddedVarintsAreRejected() throws {
        // Found by the frames target in a Fetch v12 response: 0x88 0x00 read as 8 and
        // re-encoded as 0x08.
        for bytes: [UInt8] in [[0x88, 0x00], [0x80, 0x00], [0xFF, 0x80, 0x00]] {
            var r = ByteReader(bytes)
            #expect(throws: ProtocolDecodingError.self, "\(bytes)") { _ = try r.readUnsignedVarint("v") }
            var l = ByteReader(bytes)
            #expect(throws: ProtocolDecodingError.self, "\(bytes)") { _ = try l.readUnsignedVarlong("v") }
        }
        var ok = ByteReader([0x00, 0x80, 0x01, 0xFF, 0x7F])
        #expect(try ok.readUnsignedVarint("v") == 0)
        #expect(try ok.readUnsignedVarint("v") == 128)
        #expect(try ok.readUnsignedVarint("v") == 16383)
    }
}
