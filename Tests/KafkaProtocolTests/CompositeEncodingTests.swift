import Testing
@testable import KafkaProtocol

/// Strings, bytes, arrays (classic / compact / nullable) and tagged-field sections through
/// `WireEncoder` / `WireDecoder`.
@Suite struct CompositeEncodingTests {
    // MARK: Strings

    @Test func classicStringHasInt16Length() throws {
        var s = "kwire"
        #expect(try encodeWith { try $0.string(&s, "s", compact: false) } == hex("0005") + utf8("kwire"))
        var empty = ""
        #expect(try encodeWith { try $0.string(&empty, "s", compact: false) } == hex("0000"))
        var out = "junk"
        try decodeWith(hex("0003 616263")) { try $0.string(&out, "s", compact: false) }
        #expect(out == "abc")
        try decodeWith(hex("0000")) { try $0.string(&out, "s", compact: false) }
        #expect(out == "")
    }

    @Test func compactStringHasVarintLengthPlusOne() throws {
        var s = "kwire"
        #expect(try encodeWith { try $0.string(&s, "s", compact: true) } == hex("06") + utf8("kwire"))
        var empty = ""
        #expect(try encodeWith { try $0.string(&empty, "s", compact: true) } == hex("01"))
        // 127 bytes: length+1 = 128 needs two varint bytes.
        var long = String(repeating: "x", count: 127)
        let enc = try encodeWith { try $0.string(&long, "s", compact: true) }
        #expect(Array(enc.prefix(2)) == hex("80 01") && enc.count == 129)
        var out = ""
        #expect(try decodeWith(enc) { try $0.string(&out, "s", compact: true) } == 0)
        #expect(out == long)
    }

    @Test func stringLengthCountsUTF8BytesNotCharacters() throws {
        var s = "é🙂" // 2 + 4 bytes, 2 characters
        #expect(try encodeWith { try $0.string(&s, "s", compact: false) } == hex("0006 c3a9 f09f9982"))
        #expect(try encodeWith { try $0.string(&s, "s", compact: true) } == hex("07 c3a9 f09f9982"))
    }

    @Test func nullableStringDistinguishesNullFromEmpty() throws {
        var null: String? = nil
        var empty: String? = ""
        #expect(try encodeWith { try $0.nullableString(&null, "s", compact: false, nullable: true) } == hex("ffff"))
        #expect(try encodeWith { try $0.nullableString(&empty, "s", compact: false, nullable: true) } == hex("0000"))
        #expect(try encodeWith { try $0.nullableString(&null, "s", compact: true, nullable: true) } == hex("00"))
        #expect(try encodeWith { try $0.nullableString(&empty, "s", compact: true, nullable: true) } == hex("01"))

        var out: String? = "junk"
        try decodeWith(hex("ffff")) { try $0.nullableString(&out, "s", compact: false, nullable: true) }
        #expect(out == nil)
        try decodeWith(hex("0000")) { try $0.nullableString(&out, "s", compact: false, nullable: true) }
        #expect(out == "")
        out = "junk"
        try decodeWith(hex("00")) { try $0.nullableString(&out, "s", compact: true, nullable: true) }
        #expect(out == nil)
        try decodeWith(hex("01")) { try $0.nullableString(&out, "s", compact: true, nullable: true) }
        #expect(out == "")
    }

    @Test func nullInNonNullableStringIsRejectedBothWays() throws {
        var null: String? = nil
        let e = try #require(throws: ProtocolEncodingError.self) {
            try encodeWith { try $0.nullableString(&null, "name", compact: true, nullable: false) }
        }
        #expect(e.field == "name")
        var out: String? = "x"
        let d = try #require(throws: ProtocolDecodingError.self) {
            try decodeWith(hex("ffff")) { try $0.nullableString(&out, "name", compact: false, nullable: false) }
        }
        #expect(d == ProtocolDecodingError(path: "name", offset: 0, reason: .unexpectedNull))
        var plain = ""
        let d2 = try #require(throws: ProtocolDecodingError.self) {
            try decodeWith(hex("00")) { try $0.string(&plain, "host", compact: true) }
        }
        #expect(d2 == ProtocolDecodingError(path: "host", offset: 0, reason: .unexpectedNull))
    }

    @Test func classicStringLongerThanInt16MaxCannotBeEncoded() throws {
        var s = String(repeating: "a", count: Int(Int16.max) + 1)
        let e = try #require(throws: ProtocolEncodingError.self) { try encodeWith { try $0.string(&s, "mechanism", compact: false) } }
        #expect(e == ProtocolEncodingError(field: "mechanism", reason: .tooLong(32768)))
        var ok = String(repeating: "a", count: Int(Int16.max))
        #expect(try encodeWith { try $0.string(&ok, "m", compact: false) }.prefix(2) == [0x7F, 0xFF])
    }

    // MARK: Bytes

    @Test func bytesClassicCompactAndNullable() throws {
        var b: [UInt8] = [0xAB, 0xCD]
        #expect(try encodeWith { try $0.bytes(&b, "b", compact: false) } == hex("00000002 abcd"))
        #expect(try encodeWith { try $0.bytes(&b, "b", compact: true) } == hex("03 abcd"))
        var null: [UInt8]? = nil
        var empty: [UInt8]? = []
        #expect(try encodeWith { try $0.nullableBytes(&null, "b", compact: false, nullable: true) } == hex("ffffffff"))
        #expect(try encodeWith { try $0.nullableBytes(&empty, "b", compact: false, nullable: true) } == hex("00000000"))
        #expect(try encodeWith { try $0.nullableBytes(&null, "b", compact: true, nullable: true) } == hex("00"))
        #expect(try encodeWith { try $0.nullableBytes(&empty, "b", compact: true, nullable: true) } == hex("01"))

        var out: [UInt8]? = [9]
        try decodeWith(hex("ffffffff")) { try $0.nullableBytes(&out, "b", compact: false, nullable: true) }
        #expect(out == nil)
        try decodeWith(hex("00000000")) { try $0.nullableBytes(&out, "b", compact: false, nullable: true) }
        #expect(out == [])
        try decodeWith(hex("03 0102")) { try $0.nullableBytes(&out, "b", compact: true, nullable: true) }
        #expect(out == [1, 2])
        var plain: [UInt8] = []
        #expect(try decodeWith(hex("00000001 ff ee")) { try $0.bytes(&plain, "b", compact: false) } == 1)
        #expect(plain == [0xFF])
    }

    // MARK: Arrays

    @Test func int32ArrayClassicAndCompact() throws {
        var a: [Int32] = [1, -1]
        #expect(try encodeWith { try $0.int32Array(&a, "a", compact: false) } == hex("00000002 00000001 ffffffff"))
        #expect(try encodeWith { try $0.int32Array(&a, "a", compact: true) } == hex("03 00000001 ffffffff"))
        var empty: [Int32] = []
        #expect(try encodeWith { try $0.int32Array(&empty, "a", compact: false) } == hex("00000000"))
        #expect(try encodeWith { try $0.int32Array(&empty, "a", compact: true) } == hex("01"))
        var out: [Int32] = [7]
        try decodeWith(hex("03 00000005 00000006")) { try $0.int32Array(&out, "a", compact: true) }
        #expect(out == [5, 6])
    }

    @Test func stringArrayUsesTheSameCompactnessForElements() throws {
        var a = ["a", ""]
        #expect(try encodeWith { try $0.stringArray(&a, "a", compact: false) } == hex("00000002 0001 61 0000"))
        #expect(try encodeWith { try $0.stringArray(&a, "a", compact: true) } == hex("03 02 61 01"))
        var out: [String] = []
        try decodeWith(hex("03 02 61 01")) { try $0.stringArray(&out, "a", compact: true) }
        #expect(out == ["a", ""])
    }

    @Test func nullableArrayDistinguishesNullFromEmpty() throws {
        func enc(_ v: [Int32]?, compact: Bool) throws -> [UInt8] {
            var v = v
            return try encodeWith { try $0.nullableArray(&v, "a", compact: compact, nullable: true) { c, e in try c.int32(&e, "") } }
        }
        #expect(try enc(nil, compact: false) == hex("ffffffff"))
        #expect(try enc([], compact: false) == hex("00000000"))
        #expect(try enc(nil, compact: true) == hex("00"))
        #expect(try enc([], compact: true) == hex("01"))
        #expect(try enc([3], compact: true) == hex("02 00000003"))

        func dec(_ b: [UInt8], compact: Bool) throws -> [Int32]? {
            var v: [Int32]? = [99]
            try decodeWith(b) { try $0.nullableArray(&v, "a", compact: compact, nullable: true) { c, e in try c.int32(&e, "") } }
            return v
        }
        #expect(try dec(hex("ffffffff"), compact: false) == nil)
        #expect(try dec(hex("00000000"), compact: false) == [])
        #expect(try dec(hex("00"), compact: true) == nil)
        #expect(try dec(hex("01"), compact: true) == [])

        var null: [Int32]? = nil
        #expect(throws: ProtocolEncodingError.self) {
            try encodeWith { try $0.nullableArray(&null, "a", compact: false, nullable: false) { c, e in try c.int32(&e, "") } }
        }
    }

    // MARK: Tagged fields

    /// A struct with two known tags (1 and 5) to exercise the tagged-field section.
    struct Tagged: ProtocolStruct, Equatable {
        var plain: Int16 = 0
        var one: Int32?
        var five: String?
        var unknownTaggedFields: [TaggedField] = []
        mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.int16(&plain, "plain")
            try c.taggedFields(&unknownTaggedFields) { c in
                try c.tag(1, &one, "one") { c, v in try c.int32(&v, "") }
                try c.tag(5, &five, "five") { c, v in try c.string(&v, "", compact: true) }
            }
        }
    }

    @Test func emptyTaggedSectionIsOneZeroByte() throws {
        #expect(try Tagged().encoded(version: 0) == hex("0000 00"))
    }

    @Test func knownAndUnknownTagsAreWrittenInAscendingOrder() throws {
        var t = Tagged()
        t.plain = 7
        t.one = 258
        t.five = "hi"
        t.unknownTaggedFields = [TaggedField(tag: 200, data: [0xCC]), TaggedField(tag: 3, data: [0xAA, 0xBB]), TaggedField(tag: 0, data: [])]
        let bytes = try t.encoded(version: 0)
        #expect(bytes == hex("""
            0007
            05
            00 00
            01 04 00000102
            03 02 aabb
            05 03 03 6869
            c801 01 cc
            """), "\(dump(bytes))")

        let (back, left) = try decodeStruct(Tagged.self, bytes, version: 0)
        #expect(left == 0)
        #expect(back.plain == 7 && back.one == 258 && back.five == "hi")
        // Unknown tags are kept verbatim (in wire order) and re-emitted byte-exactly.
        #expect(back.unknownTaggedFields == [TaggedField(tag: 0, data: []), TaggedField(tag: 3, data: [0xAA, 0xBB]), TaggedField(tag: 200, data: [0xCC])])
        #expect(try back.encoded(version: 0) == bytes)
    }

    @Test func absentKnownTagsAreNotWrittenAndDecodeAsNil() throws {
        var t = Tagged()
        t.five = ""
        let bytes = try t.encoded(version: 0)
        #expect(bytes == hex("0000 01 05 01 01"))
        let (back, _) = try decodeStruct(Tagged.self, bytes, version: 0)
        #expect(back.one == nil)
        #expect(back.five == "")
        #expect(back.unknownTaggedFields.isEmpty)
    }

    @Test func unknownOnlyTagsSurviveDecodeEncode() throws {
        let wire = hex("0001 02 07 03 010203 8001 00")
        let (back, left) = try decodeStruct(Tagged.self, wire, version: 0)
        #expect(left == 0)
        #expect(back.unknownTaggedFields == [TaggedField(tag: 7, data: [1, 2, 3]), TaggedField(tag: 128, data: [])])
        #expect(try back.encoded(version: 0) == wire)
    }

    @Test func knownTagWithTrailingBytesIsRejected() throws {
        // Tag 1 claims 5 bytes but an int32 only uses 4.
        let e = try #require(throws: ProtocolDecodingError.self) {
            try decodeStruct(Tagged.self, hex("0000 01 01 05 00000001 ff"), version: 0)
        }
        #expect(e.path == "one")
        #expect(e.reason == .trailingBytes(1))
        #expect(e.offset == 9)
    }

    @Test func nonFlexibleVersionsHaveNoTaggedSection() throws {
        var unknown = [TaggedField(tag: 1, data: [1])]
        #expect(try encodeWith { try $0.taggedFields(&unknown, flexible: false) } == [])
        #expect(try encodeWith { try $0.taggedFields(&unknown, flexible: true) } == hex("01 01 01 01"))
    }

    // MARK: Every scalar kind, nested structs, stream positions

    /// Exercises the coder methods no message uses yet, plus `nested`.
    struct Scalars: ProtocolStruct, Equatable {
        struct Inner: ProtocolStruct, Equatable {
            var x: UInt16 = 0
            var label: String?
            mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
                try c.uint16(&x, "x")
                try c.nullableString(&label, "label", compact: false, nullable: true)
            }
        }
        var a: Int8 = 0
        var b: UInt32 = 0
        var c: Int64 = 0
        var d: Double = 0
        var e = false
        var id = KafkaUUID.zero
        var inner = Inner()
        var blob: [UInt8]? = nil
        mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.int8(&a, "a")
            try c.uint32(&b, "b")
            try c.int64(&self.c, "c")
            try c.float64(&d, "d")
            try c.bool(&e, "e")
            try c.uuid(&id, "id")
            try c.nested(&inner, "inner") { c, v in try v.visit(&c, version: version) }
            try c.nullableBytes(&blob, "blob", compact: true, nullable: true)
        }
    }

    @Test func everyScalarKindRoundTripsAndDescribes() throws {
        var s = Scalars()
        s.a = -2
        s.b = 0xFFFF_FFFE
        s.c = -3
        s.d = 0.5
        s.e = true
        s.id = Samples.uuidB
        s.inner = .init(x: 0xBEEF, label: "L")
        s.blob = [0x0A]
        let bytes = try s.encoded(version: 0)
        #expect(bytes == hex("""
            fe fffffffe fffffffffffffffd 3fe0000000000000 01 11112222333344445555666677778888
            beef 0001 4c 02 0a
            """), "\(dump(bytes))")
        let (back, left) = try decodeStruct(Scalars.self, bytes, version: 0)
        #expect(back == s && left == 0)
        #expect(s.json(version: 0) == .object([
            ("a", .int(-2)), ("b", .int(4_294_967_294)), ("c", .int(-3)), ("d", .double(0.5)), ("e", .bool(true)),
            ("id", .string("11112222-3333-4444-5555-666677778888")),
            ("inner", .object([("x", .int(0xBEEF)), ("label", .string("L"))])), ("blob", .string("0a")),
        ]))
    }

    @Test func nestedErrorsArePrefixedWithTheStructName() throws {
        let bytes = try Scalars().encoded(version: 0)
        // Cut inside inner.label's length (a: 1, b: 4, c: 8, d: 8, e: 1, id: 16, x: 2 → label at 40).
        let e = try #require(throws: ProtocolDecodingError.self) { try decodeStruct(Scalars.self, Array(bytes.prefix(41)), version: 0) }
        #expect(e == ProtocolDecodingError(path: "inner.label", offset: 40, reason: .truncated(needed: 2, remaining: 1)))
    }

    @Test func encodeAppendsAndDecodeLeavesTheReaderAfterTheValue() throws {
        var w = ByteWriter()
        w.writeBytes([0xAA])
        try SaslHandshakeRequest(mechanism: "A").encode(into: &w, version: 0)
        try SaslHandshakeRequest(mechanism: "BC").encode(into: &w, version: 0)
        #expect(w.bytes == hex("aa 0001 41 0002 4243"))
        var r = ByteReader(w.bytes)
        try r.skip(1, "pad")
        #expect(try SaslHandshakeRequest(from: &r, version: 0).mechanism == "A")
        #expect(r.offset == 4)
        #expect(try SaslHandshakeRequest(from: &r, version: 0).mechanism == "BC")
        #expect(r.isAtEnd)
        // The whole-message initializer insists on consuming everything.
        var r2 = ByteReader(hex("0001 41 0002 4243"))
        #expect(throws: ProtocolDecodingError.self) { try SaslHandshakeRequest(decodingAll: &r2, version: 0) }
    }
}

@Suite struct DuplicateTagTests {
    @Test func aTagGivenTwiceIsRejected() {
        // ApiVersionsRequest v3: two empty compact strings, then 2 tagged fields both with tag 5.
        let bytes: [UInt8] = [0x01, 0x01, 0x02, 0x05, 0x01, 0xAA, 0x05, 0x01, 0xBB]
        do {
            _ = try ApiVersionsRequest(decoding: bytes, version: 3)
            Issue.record("expected a decoding error")
        } catch let e as ProtocolDecodingError {
            #expect(e.path.hasSuffix("_tagged_fields.tag"))
            #expect(e.offset == 6)
        } catch { Issue.record("unexpected \(error)") }
    }
}
