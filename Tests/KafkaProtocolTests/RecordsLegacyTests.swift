import Testing
import KafkaProtocol

/// Big-endian bytes of a fixed-width integer.
func be<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }

/// A legacy message (magic 0 or 1) with a correct CRC-32.
func legacyMessage(offset: Int64, magic: Int8, attributes: Int8 = 0, timestamp: Int64 = 0, key: [UInt8]?, value: [UInt8]?) -> [UInt8] {
    var body: [UInt8] = [UInt8(bitPattern: magic), UInt8(bitPattern: attributes)]
    if magic >= 1 { body += be(timestamp) }
    body += key.map { be(Int32($0.count)) + $0 } ?? be(Int32(-1))
    body += value.map { be(Int32($0.count)) + $0 } ?? be(Int32(-1))
    return be(offset) + be(Int32(4 + body.count)) + be(CRC32.checksum(body)) + body
}

/// Legacy message sets (magic 0/1), decoding only.
@Suite struct RecordsLegacyTests {
    @Test func decodesHandComputedMessages() throws {
        // CRCs computed independently with Python's zlib.crc32.
        let v0 = hex("0000000000000007 00000014 a4cdab3a 00 00 00000001 6b 00000005 68656c6c6f")
        let v1 = hex("0000000000000008 00000019 1cff7dfc 01 00 0000018bcfe56800 ffffffff 00000003 616263")
        #expect(legacyMessage(offset: 7, magic: 0, key: utf8("k"), value: utf8("hello")) == v0)
        var reader = RecordSetReader(v0 + v1)
        guard case let .legacy(m0)? = try reader.next(), case let .legacy(m1)? = try reader.next() else {
            Issue.record("expected two legacy messages")
            return
        }
        #expect(try reader.next() == nil && reader.completeBytes == v0.count + v1.count)
        #expect(m0.magic == 0 && m0.offset == 7 && m0.crc == 0xA4CD_AB3A && m0.timestamp == nil && m0.compression == RecordCompression.none)
        #expect(m1.magic == 1 && m1.offset == 8 && m1.timestamp == 1_700_000_000_000 && m1.timestampType == .createTime)
        #expect(try m0.records() == [Record(offset: 7, timestamp: -1, key: utf8("k")[...], value: utf8("hello")[...])])
        #expect(try m1.records() == [Record(offset: 8, timestamp: 1_700_000_000_000, key: nil, value: utf8("abc")[...])])
    }

    @Test func nullAndEmptyStayDistinct() throws {
        let set = legacyMessage(offset: 0, magic: 1, key: nil, value: nil) + legacyMessage(offset: 1, magic: 1, key: [], value: [])
        let (records, complete) = try RecordSetReader.readAll(set)
        #expect(complete == set.count)
        #expect(records[0].key == nil && records[0].value == nil)
        #expect(records[1].key == [] && records[1].value == [])
    }

    @Test func crcMismatchIsDetected() throws {
        var m = legacyMessage(offset: 0, magic: 1, key: utf8("k"), value: utf8("v"))
        m[m.count - 1] ^= 0x20
        var reader = RecordSetReader(m)
        let e = #expect(throws: RecordDecodingError.self) { _ = try reader.next() }
        guard case .crcMismatch? = e?.reason else { Issue.record("\(String(describing: e))"); return }
        var lenient = RecordSetReader(m, verifyCRC: false)
        guard case let .legacy(msg)? = try lenient.next() else { Issue.record("no message"); return }
        #expect(msg.value.map(Array.init) == utf8("V"))
    }

    @Test func partialTrailingMessageStopsCleanly() throws {
        let a = legacyMessage(offset: 0, magic: 0, key: nil, value: utf8("first"))
        let b = legacyMessage(offset: 1, magic: 0, key: nil, value: utf8("second"))
        for cut in a.count ..< a.count + b.count {
            let (records, complete) = try RecordSetReader.readAll(Array((a + b)[..<cut]))
            #expect(records.count == 1 && complete == a.count, "cut \(cut)")
        }
    }

    @Test func malformedLegacyMessagesAreTypedErrors() {
        // Key length beyond the message, with a valid CRC over the damaged body.
        let body: [UInt8] = [0, 0] + be(Int32(50)) + [1, 2, 3, 4, 5, 6, 7, 8]
        let bad = be(Int64(0)) + be(Int32(4 + body.count)) + be(CRC32.checksum(body)) + body
        var r = RecordSetReader(bad)
        let e = #expect(throws: RecordDecodingError.self) { _ = try r.next() }
        #expect(e?.reason == .invalidLength(50))

        // Magic 1 too short for its timestamp.
        let short: [UInt8] = [1, 0] + [UInt8](repeating: 0, count: 12)
        let m = be(Int64(0)) + be(Int32(4 + short.count)) + be(CRC32.checksum(short)) + short
        var r2 = RecordSetReader(m)
        #expect(throws: RecordDecodingError.self) { _ = try r2.next() }

        // Bytes left over after the value.
        let extra: [UInt8] = [0, 0] + be(Int32(-1)) + be(Int32(-1)) + [9]
        let x = be(Int64(0)) + be(Int32(4 + extra.count)) + be(CRC32.checksum(extra)) + extra
        var r3 = RecordSetReader(x)
        let e3 = #expect(throws: RecordDecodingError.self) { _ = try r3.next() }
        #expect(e3?.reason == .trailingBytes(1))
    }

    // MARK: Compressed wrappers

    /// The "compressed" form of `inner` our test decompressor recognises.
    static func blob(_ inner: [UInt8]) -> [UInt8] { FakeCodec.marker + inner.reversed() }

    @Test func magic1WrapperHasRelativeInnerOffsets() throws {
        // Inner offsets 0, 1, 2; the wrapper carries the absolute offset of the last one (102).
        let inner = (0 ..< 3).flatMap { i in
            legacyMessage(offset: Int64(i), magic: 1, timestamp: 1000 + Int64(i), key: utf8("k\(i)"), value: utf8("v\(i)"))
        }
        let wrapper = legacyMessage(offset: 102, magic: 1, attributes: 1, timestamp: 5000, key: nil, value: Self.blob(inner))
        var reader = RecordSetReader(wrapper)
        guard case let .legacy(m)? = try reader.next() else { Issue.record("no message"); return }
        #expect(m.compression == .gzip)

        let e = #expect(throws: RecordDecodingError.self) { _ = try m.records() }
        #expect(e?.reason == .unsupportedCompression(.gzip))

        var asked: [RecordCompression] = []
        let records = try m.records { codec, bytes in
            asked.append(codec)
            return try FakeCodec.decompress(codec, bytes)
        }
        #expect(asked == [.gzip])
        #expect(records.map(\.offset) == [100, 101, 102])
        #expect(records.map(\.timestamp) == [1000, 1001, 1002])
        #expect(records.map { $0.key.map(Array.init) } == [utf8("k0"), utf8("k1"), utf8("k2")])
        #expect(records.map { $0.value.map(Array.init) } == [utf8("v0"), utf8("v1"), utf8("v2")])
        #expect(records.allSatisfy { $0.headers.isEmpty })
    }

    @Test func magic1LogAppendTimeWrapperOverridesInnerTimestamps() throws {
        let inner = legacyMessage(offset: 0, magic: 1, timestamp: 1, key: nil, value: [1]) + legacyMessage(offset: 1, magic: 1, timestamp: 2, key: nil, value: [2])
        let wrapper = legacyMessage(offset: 11, magic: 1, attributes: 0x08 | 2, timestamp: 777, key: nil, value: Self.blob(inner))
        let (records, _) = try RecordSetReader.readAll(wrapper, decompress: FakeCodec.decompress)
        #expect(records.map(\.offset) == [10, 11])
        #expect(records.map(\.timestamp) == [777, 777])
    }

    @Test func magic0WrapperKeepsAbsoluteInnerOffsets() throws {
        let inner = legacyMessage(offset: 40, magic: 0, key: nil, value: [1]) + legacyMessage(offset: 41, magic: 0, key: nil, value: [2])
        let wrapper = legacyMessage(offset: 41, magic: 0, attributes: 2, key: nil, value: Self.blob(inner))
        let (records, complete) = try RecordSetReader.readAll(wrapper, decompress: FakeCodec.decompress)
        #expect(complete == wrapper.count)
        #expect(records.map(\.offset) == [40, 41])
        #expect(records.map(\.timestamp) == [-1, -1])
    }

    @Test func badWrappersAreTypedErrors() throws {
        // Nested compression.
        let nested = legacyMessage(offset: 0, magic: 1, attributes: 1, key: nil, value: Self.blob(legacyMessage(offset: 0, magic: 1, key: nil, value: [1])))
        let outer = legacyMessage(offset: 0, magic: 1, attributes: 1, key: nil, value: Self.blob(nested))
        #expect(throws: RecordDecodingError.self) { _ = try RecordSetReader.readAll(outer, decompress: FakeCodec.decompress) }
        // A truncated inner set.
        let inner = legacyMessage(offset: 0, magic: 1, key: nil, value: [1, 2, 3])
        let cut = legacyMessage(offset: 0, magic: 1, attributes: 1, key: nil, value: Self.blob(Array(inner.dropLast())))
        #expect(throws: RecordDecodingError.self) { _ = try RecordSetReader.readAll(cut, decompress: FakeCodec.decompress) }
        // A null wrapper value.
        let null = legacyMessage(offset: 0, magic: 1, attributes: 1, key: nil, value: nil)
        #expect(throws: RecordDecodingError.self) { _ = try RecordSetReader.readAll(null, decompress: FakeCodec.decompress) }
        // An unassigned codec.
        let odd = legacyMessage(offset: 0, magic: 1, attributes: 6, key: nil, value: [1])
        let e = #expect(throws: RecordDecodingError.self) { _ = try RecordSetReader.readAll(odd, decompress: FakeCodec.decompress) }
        #expect(e?.reason == .unknownCompressionCodec(6))
    }

    @Test func mixedFormatsInOneRecordSet() throws {
        // A log upgraded from message format v1 to v2: old messages, then a v2 batch.
        let old = legacyMessage(offset: 0, magic: 1, timestamp: 5, key: nil, value: utf8("old"))
        let new = try buildBatch(baseOffset: 1, [(6, nil, utf8("new"), [RecordHeader(key: "h", value: nil)])])
        let (records, complete) = try RecordSetReader.readAll(old + new)
        #expect(complete == old.count + new.count)
        #expect(records.map(\.offset) == [0, 1])
        #expect(records.map { $0.value.map(Array.init) } == [utf8("old"), utf8("new")])
        #expect(records[1].headers == [RecordHeader(key: "h", value: nil)])
    }
}
