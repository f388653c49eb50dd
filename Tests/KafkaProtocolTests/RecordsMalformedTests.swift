import Testing
import KafkaProtocol

/// Hostile and truncated record sets: partial trailing batches stop cleanly, corruption and bad
/// lengths are typed errors, nothing traps.
@Suite struct RecordsMalformedTests {
    static func twoBatches() throws -> (bytes: [UInt8], first: Int) {
        let a = try buildBatch(baseOffset: 0, [(1, utf8("a"), utf8("one"), [RecordHeader(key: "h", value: [1])]), (2, nil, utf8("two"), [])])
        let b = try buildBatch(baseOffset: 2, [(3, utf8("c"), utf8("three"), [])])
        return (a + b, a.count)
    }

    /// Decodes every entry and its records; returns the offsets seen and where the walk stopped.
    static func walk(_ bytes: [UInt8], verifyCRC: Bool = true) throws(RecordDecodingError) -> (offsets: [Int64], complete: Int, partial: Int) {
        var reader = RecordSetReader(bytes, verifyCRC: verifyCRC)
        var offsets: [Int64] = []
        while let entry = try reader.next() {
            offsets += try entry.records().map(\.offset)
        }
        return (offsets, reader.completeBytes, reader.partialBytes)
    }

    @Test func partialTrailingBatchStopsCleanlyAtEveryCut() throws {
        let (bytes, first) = try Self.twoBatches()
        for cut in 0 ... bytes.count {
            let r = try Self.walk(Array(bytes[..<cut]))
            if cut == bytes.count {
                #expect(r.offsets == [0, 1, 2] && r.complete == bytes.count && r.partial == 0)
            } else if cut >= first {
                #expect(r.offsets == [0, 1], "cut \(cut)")
                #expect(r.complete == first && r.partial == cut - first, "cut \(cut)")
            } else {
                #expect(r.offsets.isEmpty && r.complete == 0 && r.partial == cut, "cut \(cut)")
            }
        }
    }

    @Test func readAllReportsCompleteBytes() throws {
        let (bytes, first) = try Self.twoBatches()
        let (records, complete) = try RecordSetReader.readAll(Array(bytes.dropLast(3)))
        #expect(records.map(\.offset) == [0, 1])
        #expect(complete == first)
    }

    @Test func hugeDeclaredBatchLengthIsJustPartial() throws {
        // A length far beyond the buffer: nothing is allocated, the walk stops.
        var bytes = try buildBatch([(1, nil, [1], [])])
        bytes.replaceSubrange(8 ..< 12, with: [0x7F, 0xFF, 0xFF, 0xFF])
        let r = try Self.walk(bytes)
        #expect(r.offsets.isEmpty && r.complete == 0 && r.partial == bytes.count)
    }

    @Test func crcCorruptionIsDetectedAnywhereItCovers() throws {
        let (bytes, first) = try Self.twoBatches()
        // Every byte from the attributes to the end of the first batch is covered.
        for i in 21 ..< first {
            var bad = bytes
            bad[i] ^= 0x01
            var reader = RecordSetReader(bad)
            let e = #expect(throws: RecordDecodingError.self) { _ = try reader.next() }
            guard case .crcMismatch? = e?.reason else { Issue.record("byte \(i): \(String(describing: e))"); continue }
            #expect(e?.path == "batch[0].crc")
            // Framing is intact: the walk can go on to the next batch.
            guard case let .batch(next)? = try reader.next() else { Issue.record("byte \(i): no second batch"); continue }
            #expect(next.baseOffset == 2)
        }
        // The stored CRC itself.
        var bad = bytes
        bad[17] ^= 0x80
        #expect(throws: RecordDecodingError.self) { _ = try RecordBatch(Array(bad[..<first])) }
        // Without verification the corrupted batch is read.
        bad = bytes
        bad[first - 2] ^= 0x01 // the "o" of "two"
        #expect(try Self.walk(bad, verifyCRC: false).offsets == [0, 1, 2])
    }

    @Test func headerFieldsOutsideTheCRCDoNotFailIt() throws {
        // The base offset and leader epoch are rewritten by the broker, so they are not covered.
        var bytes = try buildBatch([(1, nil, [1], [])])
        bytes[7] = 9
        bytes[15] = 3
        let batch = try RecordBatch(bytes)
        #expect(batch.baseOffset == 9 && batch.partitionLeaderEpoch == Int32(bitPattern: 0xFFFF_FF03))
    }

    @Test func invalidFramingIsATypedErrorThatEndsTheWalk() throws {
        var bytes = try buildBatch([(1, nil, [1], [])])
        bytes.replaceSubrange(8 ..< 12, with: [0, 0, 0, 5]) // below any entry's minimum
        var reader = RecordSetReader(bytes)
        let e = #expect(throws: RecordDecodingError.self) { _ = try reader.next() }
        #expect(e?.reason == .invalidLength(5))
        #expect(reader.isBroken)
        #expect(throws: RecordDecodingError.self) { _ = try reader.next() }

        var negative = bytes
        negative.replaceSubrange(8 ..< 12, with: [0xFF, 0xFF, 0xFF, 0xFF])
        var r2 = RecordSetReader(negative)
        #expect(throws: RecordDecodingError.self) { _ = try r2.next() }
    }

    @Test func unknownMagicAndUnknownCodec() throws {
        var bytes = try buildBatch([(1, nil, [1], [])])
        bytes[16] = 3
        var reader = RecordSetReader(bytes)
        let e = #expect(throws: RecordDecodingError.self) { _ = try reader.next() }
        #expect(e?.reason == .unsupportedMagic(3))

        // Codec 7 (unassigned): the header reads, the records do not.
        var b = RecordBatchBuilder()
        try b.append(timestamp: 1, key: nil, value: [1])
        var raw = try b.build()
        raw[22] = 0x07
        raw.replaceSubrange(17 ..< 21, with: crcBytes(raw))
        let batch = try RecordBatch(raw)
        #expect(batch.attributes.compression == nil)
        let e2 = #expect(throws: RecordDecodingError.self) { try batch.decodeRecords() }
        #expect(e2?.reason == .unknownCompressionCodec(7))
    }

    // MARK: Records section, crafted by hand (valid CRC, bad content)

    /// A batch whose records section is `records` with `count` declared (CRC made valid).
    static func batch(count: Int32, records: [UInt8]) -> [UInt8] {
        var header = hex("""
            0000000000000000 00000000 ffffffff 02 00000000 | 0000 00000000
            0000000000000000 0000000000000000 ffffffffffffffff ffff ffffffff
            """)
        header += withUnsafeBytes(of: count.bigEndian, Array.init)
        var out = header + records
        // last_offset_delta = count - 1: record offset deltas must lie within the batch.
        out.replaceSubrange(23 ..< 27, with: withUnsafeBytes(of: max(count - 1, 0).bigEndian, Array.init))
        out.replaceSubrange(8 ..< 12, with: withUnsafeBytes(of: Int32(out.count - 12).bigEndian, Array.init))
        out.replaceSubrange(17 ..< 21, with: crcBytes(out))
        return out
    }

    static func decodeError(count: Int32, records: [UInt8]) -> RecordDecodingError? {
        do {
            _ = try RecordBatch(batch(count: count, records: records)).decodeRecords()
            return nil
        } catch {
            return error
        }
    }

    @Test func aValidHandCraftedRecordDecodes() throws {
        // length 6: attributes, ts delta 0, offset delta 0, key null, value "" , 0 headers
        let records = try RecordBatch(Self.batch(count: 1, records: hex("0c 00 00 00 01 00 00"))).decodeRecords()
        #expect(records == [Record(offset: 0, timestamp: 0, key: nil, value: [])])
    }

    @Test(arguments: [
        // (name, count, records section, expected reason)
        ("record length past the section", 1, "10 00 00 00 01 00 00", RecordDecodingError.Reason.invalidLength(8)),
        ("negative record length", 1, "01 00 00 00 01 00 00", .invalidLength(-1)),
        ("record length shorter than its fields", 1, "0a 00 00 00 01 00 00 00", .truncated(needed: 1, remaining: 0)), // header count cut off
        ("record length longer than its fields", 1, "0e 00 00 00 01 00 00 00", .invalid("record length 7 but its fields took 6 bytes")),
        ("key length past the record", 1, "0c 00 00 00 08 00 00", .invalidLength(4)),
        ("key length -2", 1, "0c 00 00 00 03 00 00", .invalidLength(-2)),
        ("value length past the record", 1, "0c 00 00 00 01 7e 00", .invalidLength(63)),
        ("malformed varint length", 1, "ff ff ff ff ff 01 00 00 00 01 00 00", .malformedVarint),
        ("varint longer than 5 bytes", 1, "80 80 80 80 80 00 00", .malformedVarint),
        ("malformed varlong timestamp delta", 1, "1a 00 ff ff ff ff ff ff ff ff ff 7f 00 01 00 00", .malformedVarint),
        ("negative header count", 1, "0c 00 00 00 01 00 01", .invalidLength(-1)),
        ("header count past the record", 1, "0c 00 00 00 01 00 7e", .invalidLength(63)),
        ("null header key", 1, "10 00 00 00 01 00 02 01 00", .invalidLength(-1)),
        ("header key not UTF-8", 1, "12 00 00 00 01 00 02 02 ff 00", .invalidUTF8),
        ("a zero-length record", 2, "0c 00 00 00 01 00 00 00 00 00 00 00 00 00", .truncated(needed: 1, remaining: 0)),
        ("record count beyond what fits", 3, "0c 00 00 00 01 00 00 00 00 00 00 00 00 00", .invalid("3 records cannot fit in 14 bytes")),
        ("negative record count", -1, "0c 00 00 00 01 00 00", .invalidLength(-1)),
        ("bytes after the last record", 1, "0c 00 00 00 01 00 00 00", .trailingBytes(1)),
    ] as [(String, Int32, String, RecordDecodingError.Reason)])
    func malformedRecordsAreTypedErrors(name: String, count: Int32, records: String, reason: RecordDecodingError.Reason) {
        let e = Self.decodeError(count: count, records: hex(records))
        #expect(e?.reason == reason, "\(name): \(String(describing: e))")
    }

    @Test func errorsNameTheRecordAndField() {
        let e = Self.decodeError(count: 2, records: hex("0c 00 00 00 01 00 00  12 00 00 02 01 00 02 02 ff 00"))
        #expect(e?.path == "batch(base_offset 0).records[1].headers[0].key")
        #expect(e?.offset == 61 + 7 + 8)
    }

    @Test func lazyReaderStopsAtTheFirstBadRecord() throws {
        let batch = try RecordBatch(Self.batch(count: 2, records: hex("0c 00 00 00 01 00 00  0c 00 00 00 07 00 00")))
        var reader = try batch.records()
        #expect(try reader.next()?.offset == 0)
        #expect(throws: RecordDecodingError.self) { _ = try reader.next() }
    }

    /// Every single-byte change and every truncation of a realistic batch, with CRC checks off so
    /// the decoder sees the damage: errors are fine, traps are not.
    @Test func mutatedBatchesNeverTrap() throws {
        let bytes = try buildBatch(baseOffset: 0, [
            (1, utf8("key"), utf8("value"), [RecordHeader(key: "h1", value: utf8("v1")), RecordHeader(key: "h2", value: nil)]),
            (2, nil, [], []),
            (3, utf8("k"), Array(repeating: 0x41, count: 200), [RecordHeader(key: "x", value: [])]),
        ])
        var outcomes = (ok: 0, failed: 0)
        for i in bytes.indices {
            for v: UInt8 in [0x00, 0x01, 0x7F, 0x80, 0xFF, bytes[i] ^ 0x40] {
                var bad = bytes
                bad[i] = v
                if (try? Self.walk(bad, verifyCRC: false)) != nil { outcomes.ok += 1 } else { outcomes.failed += 1 }
            }
        }
        for cut in 0 ..< bytes.count {
            // Truncating inside the records while keeping batch_length consistent.
            var short = Array(bytes[..<cut])
            if cut >= 12 { short.replaceSubrange(8 ..< 12, with: withUnsafeBytes(of: Int32(cut - 12).bigEndian, Array.init)) }
            if (try? Self.walk(short, verifyCRC: false)) != nil { outcomes.ok += 1 } else { outcomes.failed += 1 }
        }
        #expect(outcomes.failed > 0 && outcomes.ok > 0)
    }
}

/// The big-endian CRC-32C of a batch's bytes 21…end (what goes at 17…20).
func crcBytes(_ batch: [UInt8]) -> [UInt8] {
    withUnsafeBytes(of: CRC32C.checksum(Array(batch[21...])).bigEndian, Array.init)
}
