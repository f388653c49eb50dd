import Testing
import KafkaProtocol

/// A stand-in codec for tests: "compresses" by reversing the bytes behind a 2-byte marker, and
/// refuses anything else, so a test sees exactly which bytes went through it.
enum FakeCodec {
    struct Refused: Error {}
    static let marker: [UInt8] = [0xC0, 0xDE]

    static func compress(_ codec: RecordCompression, _ bytes: [UInt8]) throws -> [UInt8] {
        marker + bytes.reversed()
    }

    static func decompress(_ codec: RecordCompression, _ bytes: [UInt8]) throws -> [UInt8] {
        guard bytes.starts(with: marker) else { throw Refused() }
        return bytes.dropFirst(2).reversed()
    }
}

/// Builds a batch and returns its bytes (tests' shorthand).
func buildBatch(
    baseOffset: Int64 = 0, compression: RecordCompression = .none, isControl: Bool = false,
    _ records: [(ts: Int64, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader])]
) throws -> [UInt8] {
    var b = RecordBatchBuilder(baseOffset: baseOffset, compression: compression, isControl: isControl)
    for r in records { try b.append(timestamp: r.ts, key: r.key, value: r.value, headers: r.headers) }
    return try b.build(compress: FakeCodec.compress)
}

@Suite struct RecordsBatchTests {
    /// Computed independently (Python, bit-at-a-time CRC-32C) from the layout in the protocol
    /// guide: two records, the second with a null key, an empty value and a timestamp delta of 5.
    static let handComputed = hex("""
        0000000000000000 00000045 ffffffff 02 c41f1730 | 0000 00000001
        0000018bcfe56800 0000018bcfe56805 ffffffffffffffff ffff ffffffff 00000002
        18 00 00 00 02 6b 02 76 02 | 02 68 02 78
        0c 00 0a 02 01 00 00
        """)

    @Test func encodesAHandComputedBatchByteForByte() throws {
        var b = RecordBatchBuilder()
        try b.append(timestamp: 1_700_000_000_000, key: utf8("k"), value: utf8("v"), headers: [RecordHeader(key: "h", value: utf8("x"))])
        try b.append(timestamp: 1_700_000_000_005, key: nil, value: [])
        #expect(b.recordCount == 2)
        #expect(b.sizeInBytes == Self.handComputed.count)
        let bytes = try b.build()
        #expect(bytes == Self.handComputed, "\(dump(bytes))")
    }

    @Test func decodesTheHandComputedBatch() throws {
        let batch = try RecordBatch(Self.handComputed)
        #expect(batch.baseOffset == 0)
        #expect(batch.batchLength == 69)
        #expect(batch.partitionLeaderEpoch == -1)
        #expect(batch.magic == 2)
        #expect(batch.crc == 0xC41F_1730)
        #expect(batch.computedCRC == 0xC41F_1730)
        #expect(batch.attributes.rawValue == 0)
        #expect(batch.lastOffsetDelta == 1)
        #expect(batch.baseTimestamp == 1_700_000_000_000)
        #expect(batch.maxTimestamp == 1_700_000_000_005)
        #expect(batch.producerId == -1 && batch.producerEpoch == -1 && batch.baseSequence == -1)
        #expect(batch.recordCount == 2)
        let records = try batch.decodeRecords()
        #expect(records == [
            Record(offset: 0, timestamp: 1_700_000_000_000, key: utf8("k")[...], value: utf8("v")[...], headers: [RecordHeader(key: "h", value: utf8("x"))]),
            Record(offset: 1, timestamp: 1_700_000_000_005, key: nil, value: [], headers: []),
        ])
        // Views into the input: indices are the input's.
        #expect(records[0].key?.startIndex == 66)
    }

    @Test func recordValuesCompareByContentAndCanBeEdited() throws {
        let decoded = try RecordBatch(Self.handComputed).decodeRecords()[0]
        let made = Record(offset: 0, timestamp: 1_700_000_000_000, key: utf8("k")[...], value: utf8("v")[...], headers: [RecordHeader(key: "h", value: utf8("x"))])
        #expect(decoded == made)
        #expect(made.key?.startIndex == 0 && made.value?.startIndex == 1) // its own buffer
        var edited = decoded
        edited.key = nil
        #expect(edited.key == nil && edited.value == utf8("v")[...] && edited.headers == decoded.headers)
        edited.value = []
        #expect(edited.value == [] && edited.value != nil)
        #expect(edited != decoded)
        #expect(decoded.key == utf8("k")[...]) // the original is untouched
    }

    @Test func headerFieldsAndAttributesRoundTrip() throws {
        var b = RecordBatchBuilder(
            baseOffset: 1234, producerId: 77, producerEpoch: 3, baseSequence: 40,
            isTransactional: true, partitionLeaderEpoch: 9
        )
        try b.append(timestamp: 50, key: nil, value: utf8("a"))
        try b.append(timestamp: 20, key: nil, value: utf8("b")) // earlier than the first: negative delta
        try b.append(timestamp: 90, key: nil, value: utf8("c"))
        let batch = try RecordBatch(b.build())
        #expect(batch.baseOffset == 1234 && batch.lastOffset == 1236 && batch.nextOffset == 1237)
        #expect(batch.producerId == 77 && batch.producerEpoch == 3 && batch.baseSequence == 40)
        #expect(batch.partitionLeaderEpoch == 9)
        #expect(batch.isTransactional && !batch.isControl)
        #expect(batch.attributes.rawValue == 0x10)
        #expect(batch.baseTimestamp == 50 && batch.maxTimestamp == 90)
        let records = try batch.decodeRecords()
        #expect(records.map(\.offset) == [1234, 1235, 1236])
        #expect(records.map(\.timestamp) == [50, 20, 90])
    }

    @Test func attributeBits() {
        let a = RecordBatchAttributes(compression: .zstd, timestampType: .logAppendTime, isTransactional: true, isControl: true, hasDeleteHorizon: true)
        #expect(a.rawValue == 0b111_1100)
        #expect(a.compression == .zstd && a.timestampType == .logAppendTime && a.isTransactional && a.isControl && a.hasDeleteHorizon)
        let unknown = RecordBatchAttributes(rawValue: 0x0006)
        #expect(unknown.compression == nil && unknown.compressionCodec == 6)
        #expect(RecordBatchAttributes(rawValue: 0x0002).compression == .snappy)
        #expect(RecordCompression.allCases.map(\.rawValue) == [0, 1, 2, 3, 4])
    }

    @Test(arguments: [RecordCompression.none, .gzip])
    func roundTripsManyShapes(compression: RecordCompression) throws {
        let big = (0 ..< 100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let shapes: [(ts: Int64, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader])] = [
            (1000, nil, nil, []),
            (1000, [], [], []),
            (1001, utf8("key"), nil, []),
            (999, nil, utf8("value"), [RecordHeader(key: "h", value: nil)]),
            (1002, [0xFF, 0x00], [0x80], [RecordHeader(key: "", value: []), RecordHeader(key: "dup", value: [1]), RecordHeader(key: "dup", value: [2])]),
            (Int64.max / 2, utf8("ключ 🔑"), big, [RecordHeader(key: "заголовок", value: big)]),
            (-1, Array(repeating: 7, count: 200), Array(repeating: 9, count: 128), (0 ..< 70).map { RecordHeader(key: "k\($0)", value: [UInt8($0)]) }),
        ]
        let bytes = try buildBatch(baseOffset: 5, compression: compression, shapes)
        let batch = try RecordBatch(bytes)
        #expect(batch.attributes.compression == compression)
        #expect(batch.recordCount == Int32(shapes.count))
        #expect(batch.lastOffsetDelta == Int32(shapes.count - 1))
        #expect(batch.maxTimestamp == Int64.max / 2)
        let records = try batch.decodeRecords(decompress: FakeCodec.decompress)
        #expect(records.count == shapes.count)
        for (i, (r, s)) in zip(records, shapes).enumerated() {
            #expect(r.offset == 5 + Int64(i))
            #expect(r.timestamp == s.ts)
            #expect(r.key.map(Array.init) == s.key, "record \(i) key")
            #expect(r.value.map(Array.init) == s.value, "record \(i) value")
            #expect(r.headers == s.headers, "record \(i) headers")
        }
        // Null and empty stay distinct.
        #expect(records[0].key == nil && records[0].value == nil)
        #expect(records[1].key == [] && records[1].value == [])
        // Re-appending the decoded records reproduces the batch.
        var again = RecordBatchBuilder(baseOffset: 5, compression: compression)
        for r in records { try again.append(r) }
        #expect(try again.build(compress: FakeCodec.compress) == bytes)
    }

    @Test func manyRecordsRoundTripThroughTheLazyReader() throws {
        var b = RecordBatchBuilder(baseOffset: 100, capacity: 64) // forces the buffer to grow
        for i in 0 ..< 5000 {
            try b.append(timestamp: 1_700_000_000_000 + Int64(i % 97), key: utf8("key-\(i)"), value: Array(repeating: UInt8(i & 0xFF), count: i % 300), headers: i % 3 == 0 ? [RecordHeader(key: "i", value: utf8("\(i)"))] : [])
        }
        let before = b.sizeInBytes
        let bytes = try b.build()
        #expect(bytes.count == before)
        let batch = try RecordBatch(bytes)
        var reader = try batch.records()
        var i = 0
        while let r = try reader.next() {
            #expect(r.offset == 100 + Int64(i))
            #expect(r.key == utf8("key-\(i)")[...])
            #expect(r.value?.count == i % 300 && r.value?.allSatisfy { $0 == UInt8(i & 0xFF) } == true)
            #expect(r.headers.count == (i % 3 == 0 ? 1 : 0))
            i += 1
        }
        #expect(i == 5000)
        #expect(reader.remaining == 0)
    }

    @Test func sizeOfRecordPredictsWhatAppendAdds() throws {
        var b = RecordBatchBuilder()
        let cases: [(Int64, [UInt8]?, [UInt8]?, [RecordHeader])] = [
            (10, nil, nil, []), (10_000_000, utf8("k"), Array(repeating: 1, count: 300), [RecordHeader(key: "a", value: nil)]),
            (-5, [], Array(repeating: 2, count: 70_000), []),
        ]
        for (ts, k, v, h) in cases {
            let predicted = b.sizeOfRecord(timestamp: ts, keyCount: k?.count, valueCount: v?.count, headers: h)
            let before = b.sizeInBytes
            try b.append(timestamp: ts, key: k, value: v, headers: h)
            #expect(b.sizeInBytes - before == predicted)
        }
    }

    @Test func logAppendTimeGivesEveryRecordTheMaxTimestamp() throws {
        var b = RecordBatchBuilder(timestampType: .logAppendTime)
        try b.append(timestamp: 10, key: nil, value: [1])
        try b.append(timestamp: 30, key: nil, value: [2])
        let batch = try RecordBatch(b.build())
        #expect(batch.timestampType == .logAppendTime)
        #expect(try batch.decodeRecords().map(\.timestamp) == [30, 30])
    }

    @Test func emptyBuilderBuildsAnEmptyBatch() throws {
        let batch = try RecordBatch(RecordBatchBuilder(baseOffset: 3).build())
        #expect(batch.recordCount == 0 && batch.lastOffsetDelta == -1)
        #expect(batch.baseTimestamp == -1 && batch.maxTimestamp == -1)
        #expect(try batch.decodeRecords().isEmpty)
    }

    // MARK: Compression injection

    @Test func compressedRecordsSectionGoesThroughTheCodecFunctions() throws {
        var seen: [(RecordCompression, Int)] = []
        var b = RecordBatchBuilder(compression: .lz4)
        try b.append(timestamp: 1, key: utf8("a"), value: utf8("b"))
        let plainSize = b.sizeInBytes
        let bytes = try b.build { codec, input in
            seen.append((codec, input.count))
            return try FakeCodec.compress(codec, input)
        }
        #expect(seen.count == 1 && seen[0].0 == .lz4 && seen[0].1 == plainSize - RecordBatch.headerSize)
        // Header, then the marker our fake codec put in front: the section was replaced.
        #expect(Array(bytes[61 ..< 63]) == FakeCodec.marker)
        let batch = try RecordBatch(bytes)
        #expect(batch.attributes.compression == .lz4 && batch.attributes.rawValue == 3)
        var asked: [RecordCompression] = []
        let records = try batch.decodeRecords { codec, input in
            asked.append(codec)
            return try FakeCodec.decompress(codec, input)
        }
        #expect(asked == [.lz4])
        #expect(records.map { $0.value.map(Array.init) } == [utf8("b")])
    }

    @Test func compressedBatchWithoutDecompressorIsATypedError() throws {
        let bytes = try buildBatch(compression: .snappy, [(1, nil, [1], [])])
        let batch = try RecordBatch(bytes) // the header and CRC are fine
        #expect(batch.attributes.compression == .snappy)
        let e = #expect(throws: RecordDecodingError.self) { try batch.decodeRecords() }
        #expect(e?.reason == .unsupportedCompression(.snappy))
    }

    @Test func failingDecompressorIsReported() throws {
        let bytes = try buildBatch(compression: .zstd, [(1, nil, [1], [])])
        let e = #expect(throws: RecordDecodingError.self) {
            try RecordBatch(bytes).decodeRecords { _, _ in throw FakeCodec.Refused() }
        }
        guard case let .decompressionFailed(codec, _)? = e?.reason else { Issue.record("\(String(describing: e))"); return }
        #expect(codec == .zstd)
    }

    @Test func buildingACompressedBatchWithoutCompressorIsATypedError() throws {
        var b = RecordBatchBuilder(compression: .gzip)
        try b.append(timestamp: 1, key: nil, value: [1])
        let e = #expect(throws: RecordEncodingError.self) { try b.build() }
        #expect(e?.reason == .unsupportedCompression(.gzip))
    }

    // MARK: Control batches

    @Test func decodesCommitAndAbortMarkers() throws {
        var b = RecordBatchBuilder(baseOffset: 40, producerId: 12, producerEpoch: 1, isTransactional: true, isControl: true)
        try b.appendControl(type: .commit, coordinatorEpoch: 7, timestamp: 1_700_000_000_123)
        let commit = try RecordBatch(b.build())
        #expect(commit.isControl && commit.isTransactional)
        #expect(try commit.controlRecords() == [ControlRecord(offset: 40, timestamp: 1_700_000_000_123, type: .commit, coordinatorEpoch: 7)])

        // Hand-built abort marker: key version 0, type 0; value version 0, epoch 0x01020304.
        let abortBytes = try buildBatch(baseOffset: 41, isControl: true, [(5, hex("0000 0000"), hex("0000 01020304"), [])])
        let abort = try RecordBatch(abortBytes).controlRecords()
        #expect(abort.count == 1)
        #expect(abort[0].type == .abort && abort[0].version == 0 && abort[0].coordinatorEpoch == 0x0102_0304 && abort[0].offset == 41)
        #expect(ControlRecord.key(type: .abort) == hex("0000 0000"))
        #expect(ControlRecord.key(type: .commit) == hex("0000 0001"))
        #expect(ControlRecord.endTransactionMarkerValue(coordinatorEpoch: -2) == hex("0000 fffffffe"))
    }

    @Test func controlRecordsOfOtherTypesAndBadKeys() throws {
        let other = try RecordBatch(buildBatch(isControl: true, [(5, hex("0000 0003"), hex("00"), [])])).controlRecords()
        #expect(other[0].type == .snapshotHeader && other[0].coordinatorEpoch == nil)
        #expect(ControlRecordType(rawValue: 99).description == "UNKNOWN(99)")

        let short = try RecordBatch(buildBatch(isControl: true, [(5, hex("0000 01"), nil, [])]))
        #expect(throws: RecordDecodingError.self) { try short.controlRecords() }
        let noKey = try RecordBatch(buildBatch(isControl: true, [(5, nil, nil, [])]))
        #expect(throws: RecordDecodingError.self) { try noKey.controlRecords() }
        let shortValue = try RecordBatch(buildBatch(isControl: true, [(5, hex("0000 0001"), hex("0000 01"), [])]))
        #expect(throws: RecordDecodingError.self) { try shortValue.controlRecords() }
        // Not a control batch: no control records.
        #expect(try RecordBatch(buildBatch([(5, hex("0000 0001"), nil, [])])).controlRecords().isEmpty)
    }
}
