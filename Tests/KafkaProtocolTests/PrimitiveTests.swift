import Testing
@testable import KafkaProtocol

/// ByteWriter / ByteReader: fixed-width and variable-length primitives against hand-computed bytes.
@Suite struct PrimitiveTests {
    // MARK: Fixed width

    @Test func int8() throws {
        for (v, b) in [(Int8(0), UInt8(0x00)), (1, 0x01), (-1, 0xFF), (.max, 0x7F), (.min, 0x80)] {
            var w = ByteWriter()
            w.writeInt8(v)
            #expect(w.bytes == [b])
            var r = ByteReader(w.bytes)
            #expect(try r.readInt8("x") == v)
            #expect(r.isAtEnd)
        }
    }

    @Test func int16AndUInt16AreBigEndian() throws {
        let cases: [(Int16, [UInt8])] = [(0, hex("0000")), (1, hex("0001")), (-1, hex("ffff")), (0x1234, hex("1234")),
                                         (.max, hex("7fff")), (.min, hex("8000")), (-2, hex("fffe"))]
        for (v, b) in cases {
            var w = ByteWriter()
            w.writeInt16(v)
            #expect(w.bytes == b, "Int16 \(v)")
            var r = ByteReader(b)
            #expect(try r.readInt16("x") == v)
        }
        var w = ByteWriter()
        w.writeUInt16(0xFEDC)
        #expect(w.bytes == hex("fedc"))
        var r = ByteReader(hex("fedc"))
        #expect(try r.readUInt16("x") == 0xFEDC)
    }

    @Test func int32AndUInt32AreBigEndian() throws {
        let cases: [(Int32, [UInt8])] = [(0, hex("00000000")), (1, hex("00000001")), (-1, hex("ffffffff")),
                                         (0x0102_0304, hex("01020304")), (.max, hex("7fffffff")), (.min, hex("80000000"))]
        for (v, b) in cases {
            var w = ByteWriter()
            w.writeInt32(v)
            #expect(w.bytes == b, "Int32 \(v)")
            var r = ByteReader(b)
            #expect(try r.readInt32("x") == v)
        }
        var w = ByteWriter()
        w.writeUInt32(0xDEAD_BEEF)
        #expect(w.bytes == hex("deadbeef"))
        var r = ByteReader(hex("deadbeef"))
        #expect(try r.readUInt32("x") == 0xDEAD_BEEF)
    }

    @Test func int64IsBigEndian() throws {
        let cases: [(Int64, [UInt8])] = [(0, hex("0000000000000000")), (-1, hex("ffffffffffffffff")),
                                         (0x0102_0304_0506_0708, hex("0102030405060708")),
                                         (.max, hex("7fffffffffffffff")), (.min, hex("8000000000000000"))]
        for (v, b) in cases {
            var w = ByteWriter()
            w.writeInt64(v)
            #expect(w.bytes == b, "Int64 \(v)")
            var r = ByteReader(b)
            #expect(try r.readInt64("x") == v)
        }
    }

    @Test func float64IsIEEE754BigEndian() throws {
        let cases: [(Double, [UInt8])] = [(1.5, hex("3ff8000000000000")), (-2.0, hex("c000000000000000")),
                                          (0.0, hex("0000000000000000")), (-0.0, hex("8000000000000000")),
                                          (.infinity, hex("7ff0000000000000"))]
        for (v, b) in cases {
            var w = ByteWriter()
            w.writeFloat64(v)
            #expect(w.bytes == b, "Double \(v)")
            var r = ByteReader(b)
            let back = try r.readFloat64("x")
            #expect(back.bitPattern == v.bitPattern)
        }
        // A NaN payload survives bit-exactly.
        var r = ByteReader(hex("7ff8000000000123"))
        #expect(try r.readFloat64("x").bitPattern == 0x7FF8_0000_0000_0123)
    }

    @Test func boolWritesZeroOrOneAndReadsOnlyZeroOrOne() throws {
        var w = ByteWriter()
        w.writeBool(true)
        w.writeBool(false)
        #expect(w.bytes == [1, 0])
        var r = ByteReader([0, 1, 2, 0xFF])
        #expect(try r.readBool("x") == false)
        #expect(try r.readBool("x") == true)
        // Non-canonical: could not be re-encoded as it came (see HostileInputTests).
        #expect(throws: ProtocolDecodingError.self) { _ = try r.readBool("x") }
    }

    @Test func uuidIsSixteenBytesHighThenLow() throws {
        var w = ByteWriter()
        w.writeUUID(Samples.uuidA)
        #expect(w.bytes == hex("0123456789abcdef fedcba9876543210"))
        var r = ByteReader(w.bytes)
        #expect(try r.readUUID("id") == Samples.uuidA)
        #expect(Samples.uuidA.description == "01234567-89ab-cdef-fedc-ba9876543210")
        #expect(KafkaUUID.zero.description == "00000000-0000-0000-0000-000000000000")
        #expect(KafkaUUID(string: "01234567-89AB-CDEF-FEDC-BA9876543210") == Samples.uuidA)
        #expect(KafkaUUID(string: Samples.uuidB.description) == Samples.uuidB)
        #expect(KafkaUUID() == .zero)
    }

    @Test func uuidParsingRejectsMalformedStrings() {
        #expect(KafkaUUID(string: "") == nil)
        #expect(KafkaUUID(string: "01234567-89ab-cdef-fedc-ba987654321") == nil) // 31 digits
        #expect(KafkaUUID(string: "01234567-89ab-cdef-fedc-ba98765432100") == nil) // 33 digits
        #expect(KafkaUUID(string: "0123456g-89ab-cdef-fedc-ba9876543210") == nil) // not hex
    }

    /// Only hex digits, with dashes at the canonical 8-4-4-4-12 positions or none at all
    /// (`UInt64(_:radix:)` alone would also accept a leading `+`).
    @Test func uuidParsingIsStrict() {
        #expect(KafkaUUID(string: "+0000000-0000-0000-0000-000000000001") == nil)
        #expect(KafkaUUID(string: "00000000-0000-0000-+000-000000000001") == nil)
        #expect(KafkaUUID(string: "0123456789abcdeffedcba9876543210") == Samples.uuidA)
        #expect(KafkaUUID(string: "0123456789ab-cdef-fedc-ba98-76543210") == nil)
        #expect(KafkaUUID(string: "01234567-89ab-cdef-fedc-ba98765432-0") == nil)
    }

    @Test func readsAreBoundsCheckedWithFieldAndOffset() throws {
        var r = ByteReader([1, 2, 3])
        _ = try r.readUInt8("a")
        let e = try #require(throws: ProtocolDecodingError.self) { try r.readInt32("partition_index") }
        #expect(e == ProtocolDecodingError(path: "partition_index", offset: 1, reason: .truncated(needed: 4, remaining: 2)))
        // A failed read consumes nothing.
        #expect(r.offset == 1)
        #expect(try r.readInt16("b") == 0x0203)
        #expect(throws: ProtocolDecodingError.self) { try r.readUInt8("c") }
        var u = ByteReader(Array(repeating: 0, count: 15))
        #expect(throws: ProtocolDecodingError.self) { try u.readUUID("id") }
        #expect(u.offset == 0)
    }

    @Test func writerReservesAndPatchesSizes() {
        var w = ByteWriter()
        w.writeUInt8(0xAA)
        let at = w.reserveInt32()
        w.writeBytes([1, 2, 3])
        w.patchInt32(at: at, Int32(w.count - at - 4))
        #expect(w.bytes == hex("aa 00000003 010203"))
        w.patchInt32(at: at, -2)
        #expect(w.bytes == hex("aa fffffffe 010203"))
        let taken = w.take()
        #expect(taken.count == 8)
        #expect(w.count == 0)
        #expect(w.bytes.isEmpty)
    }

    @Test func subReaderReportsAbsoluteOffsets() throws {
        var r = ByteReader([9, 9, 1, 2, 3, 9])
        try r.skip(2, "pad")
        var sub = try r.sub(count: 3, "sub")
        #expect(r.offset == 5)
        #expect(sub.offset == 2 && sub.end == 5 && sub.remaining == 3)
        #expect(try sub.readUInt16("x") == 0x0102)
        let e = try #require(throws: ProtocolDecodingError.self) { try sub.readUInt16("y") }
        #expect(e.offset == 4)
        #expect(e.reason == .truncated(needed: 2, remaining: 1))
        #expect(sub.rest() == [3])
        #expect(throws: ProtocolDecodingError.self) { try r.sub(count: 2, "too-far") }
    }

    // MARK: Varints (unsigned LEB128, as in protobuf; zig-zag for signed)

    static let unsignedVarints: [(UInt32, String)] = [
        (0, "00"), (1, "01"), (63, "3f"), (64, "40"), (127, "7f"), (128, "80 01"), (300, "ac 02"),
        (16383, "ff 7f"), (16384, "80 80 01"), (1 << 21, "80 80 80 01"), (1 << 28, "80 80 80 80 01"),
        (UInt32.max, "ff ff ff ff 0f"),
    ]

    @Test func unsignedVarint() throws {
        for (v, b) in Self.unsignedVarints {
            var w = ByteWriter()
            w.writeUnsignedVarint(v)
            #expect(w.bytes == hex(b), "uvarint \(v) → \(dump(w.bytes))")
            var r = ByteReader(hex(b))
            #expect(try r.readUnsignedVarint("x") == v)
            #expect(r.isAtEnd)
        }
    }

    static let zigzagVarints: [(Int32, String)] = [
        (0, "00"), (-1, "01"), (1, "02"), (-2, "03"), (2, "04"), (63, "7e"), (-64, "7f"), (64, "80 01"),
        (-65, "81 01"), (1 << 28, "80 80 80 80 02"), (-(1 << 28), "ff ff ff ff 01"),
        (Int32.max, "fe ff ff ff 0f"), (Int32.min, "ff ff ff ff 0f"),
    ]

    @Test func zigzagVarint() throws {
        for (v, b) in Self.zigzagVarints {
            var w = ByteWriter()
            w.writeVarint(v)
            #expect(w.bytes == hex(b), "varint \(v) → \(dump(w.bytes))")
            var r = ByteReader(hex(b))
            #expect(try r.readVarint("x") == v)
            #expect(r.isAtEnd)
        }
    }

    static let unsignedVarlongs: [(UInt64, String)] = [
        (0, "00"), (1, "01"), (127, "7f"), (128, "80 01"), (1 << 28, "80 80 80 80 01"),
        (1 << 35, "80 80 80 80 80 01"), (UInt64(UInt32.max) + 1, "80 80 80 80 10"),
        (1 << 63, "80 80 80 80 80 80 80 80 80 01"), (UInt64.max, "ff ff ff ff ff ff ff ff ff 01"),
    ]

    @Test func unsignedVarlong() throws {
        for (v, b) in Self.unsignedVarlongs {
            var w = ByteWriter()
            w.writeUnsignedVarlong(v)
            #expect(w.bytes == hex(b), "uvarlong \(v) → \(dump(w.bytes))")
            var r = ByteReader(hex(b))
            #expect(try r.readUnsignedVarlong("x") == v)
            #expect(r.isAtEnd)
        }
    }

    static let zigzagVarlongs: [(Int64, String)] = [
        (0, "00"), (-1, "01"), (1, "02"), (63, "7e"), (64, "80 01"), (-64, "7f"), (-65, "81 01"),
        (1 << 28, "80 80 80 80 02"), (1 << 35, "80 80 80 80 80 02"), (-(1 << 35), "ff ff ff ff ff 01"),
        (Int64(Int32.max), "fe ff ff ff 0f"), (Int64(Int32.min), "ff ff ff ff 0f"),
        (Int64.max, "fe ff ff ff ff ff ff ff ff 01"), (Int64.min, "ff ff ff ff ff ff ff ff ff 01"),
    ]

    @Test func zigzagVarlong() throws {
        for (v, b) in Self.zigzagVarlongs {
            var w = ByteWriter()
            w.writeVarlong(v)
            #expect(w.bytes == hex(b), "varlong \(v) → \(dump(w.bytes))")
            var r = ByteReader(hex(b))
            #expect(try r.readVarlong("x") == v)
            #expect(r.isAtEnd)
        }
    }

    @Test func varintsReadOnlyTheirOwnBytes() throws {
        var r = ByteReader(hex("ac 02 7f 80 01"))
        #expect(try r.readUnsignedVarint("a") == 300)
        #expect(try r.readVarint("b") == -64)
        #expect(try r.readVarlong("c") == 64)
        #expect(r.isAtEnd)
    }

    @Test func paddedVarintsAreMalformed() throws {
        // Java's reader accepts padded encodings, but no Kafka implementation writes one, and a
        // padded varint would re-encode shorter: decode → encode must reproduce the input or
        // throw (the frames fuzz target found 0x88 0x00 in a Fetch response).
        var r = ByteReader(hex("81 80 00"))
        #expect(throws: ProtocolDecodingError.self) { _ = try r.readUnsignedVarint("x") }
    }
}
