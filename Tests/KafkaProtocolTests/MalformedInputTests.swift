import Testing
@testable import KafkaProtocol

/// Hostile and broken input: every failure must be a `ProtocolDecodingError` naming the field
/// and the absolute offset — never a trap, never a huge allocation.
@Suite struct MalformedInputTests {
    /// Decodes `bytes` as `M` and returns the decoding error (failing the test if there is none).
    func decodeError<M: KafkaMessage>(_ type: M.Type, _ bytes: [UInt8], version: Int16,
                                      sourceLocation: SourceLocation = #_sourceLocation) throws -> ProtocolDecodingError {
        try #require(throws: ProtocolDecodingError.self, sourceLocation: sourceLocation) {
            try M(decoding: bytes, version: version)
        }
    }

    // MARK: Truncation

    @Test(arguments: [Int16(0), 1, 5, 7, 8, 9, 10, 12, 13])
    func truncatedMetadataResponseAlwaysThrows(version: Int16) throws {
        let full = try Samples.metadataResponse(version).encodedMessage(version: version)
        for n in 0 ..< full.count {
            let e = try decodeError(MetadataResponse.self, Array(full.prefix(n)), version: version)
            #expect(e.path.hasPrefix("MetadataResponse"), "v\(version) cut at \(n): \(e)")
            #expect(e.offset <= n, "v\(version) cut at \(n): offset \(e.offset) beyond the data")
            switch e.reason {
            case .truncated, .invalidLength: break
            default: Issue.record("v\(version) cut at \(n): unexpected reason \(e)")
            }
        }
    }

    @Test func truncatedMessagesOfEveryFamilyAlwaysThrow() throws {
        func check<M: KafkaMessage & Equatable>(_ m: M, _ v: Int16) throws {
            let full = try m.encodedMessage(version: v)
            for n in 0 ..< full.count {
                #expect(throws: ProtocolDecodingError.self, "\(M.self) v\(v) cut at \(n)") { try M(decoding: Array(full.prefix(n)), version: v) }
            }
        }
        for v in ApiVersionsResponse.versions { try check(Samples.apiVersionsResponse(v), v) }
        for v in ApiVersionsRequest.versions where v >= 3 { try check(Samples.apiVersionsRequest(v), v) }
        for v in CreateTopicsRequest.versions { try check(Samples.createTopicsRequest(v), v) }
        for v in CreateTopicsResponse.versions { try check(Samples.createTopicsResponse(v), v) }
        for v in DeleteTopicsRequest.versions { try check(Samples.deleteTopicsRequest(v), v) }
        for v in DeleteTopicsResponse.versions { try check(Samples.deleteTopicsResponse(v), v) }
        for v in SaslAuthenticateResponse.versions { try check(Samples.saslAuthenticateResponse(v), v) }
        for v in MetadataRequest.versions { try check(Samples.metadataRequest(v), v) }
    }

    @Test func truncationInsideLeaderEpochNamesTheFieldPath() throws {
        var m = MetadataResponse()
        var t = MetadataResponse.Topic()
        t.name = "t"
        var p = MetadataResponse.Partition()
        p.leaderEpoch = 3
        t.partitions = [p]
        m.topics = [t]
        let full = try m.encodedMessage(version: 7)
        // throttle 4 | brokers 4 | cluster_id 2 | controller 4 | topics 4 | error 2 | name 3 |
        // is_internal 1 | partitions 4 | error 2 | index 4 | leader 4 → leader_epoch at 38.
        #expect(Array(full[38 ..< 42]) == hex("00000003"))
        let e = try decodeError(MetadataResponse.self, Array(full.prefix(40)), version: 7)
        #expect(e == ProtocolDecodingError(path: "MetadataResponse.topics[0].partitions[0].leader_epoch", offset: 38,
                                           reason: .truncated(needed: 4, remaining: 2)))
    }

    @Test func truncationInsideAnInt32ArrayElementNamesTheIndex() throws {
        var m = MetadataResponse()
        var t = MetadataResponse.Topic()
        var p = MetadataResponse.Partition()
        p.replicaNodes = [1, 2, 3]
        t.partitions = [MetadataResponse.Partition(), p]
        m.topics = [t]
        let full = try m.encodedMessage(version: 0)
        // v0 partition: error 2 | index 4 | leader 4 | replicas count 4 | 3 × 4 | isr count 4
        let cut = full.count - 4 - 2 // inside replica_nodes[2]
        let e = try decodeError(MetadataResponse.self, Array(full.prefix(cut)), version: 0)
        #expect(e.path == "MetadataResponse.topics[0].partitions[1].replica_nodes[2]")
        #expect(e.offset == full.count - 8)
        #expect(e.reason == .truncated(needed: 4, remaining: 2))
    }

    // MARK: Lengths

    @Test func negativeLengthsOtherThanMinusOneAreInvalid() throws {
        // Classic string length -2.
        let s = try decodeError(SaslHandshakeRequest.self, hex("fffe 61"), version: 0)
        #expect(s == ProtocolDecodingError(path: "SaslHandshakeRequest.mechanism", offset: 0, reason: .invalidLength(-2)))
        // Classic array length -5.
        let a = try decodeError(SaslHandshakeResponse.self, hex("0000 fffffffb"), version: 1)
        #expect(a == ProtocolDecodingError(path: "SaslHandshakeResponse.mechanisms", offset: 2, reason: .invalidLength(-5)))
        // Classic bytes length Int32.min.
        let b = try decodeError(SaslAuthenticateRequest.self, hex("80000000"), version: 0)
        #expect(b == ProtocolDecodingError(path: "SaslAuthenticateRequest.auth_bytes", offset: 0, reason: .invalidLength(Int64(Int32.min))))
        // A nullable string also rejects -2.
        let n = try decodeError(SaslAuthenticateResponse.self, hex("0000 fffe"), version: 0)
        #expect(n == ProtocolDecodingError(path: "SaslAuthenticateResponse.error_message", offset: 2, reason: .invalidLength(-2)))
    }

    @Test func hugeLengthsFailBeforeAllocating() throws {
        let tenBytes = [UInt8](repeating: 0x61, count: 10)
        let bytes = try decodeError(SaslAuthenticateRequest.self, hex("7fffffff") + tenBytes, version: 0)
        #expect(bytes == ProtocolDecodingError(path: "SaslAuthenticateRequest.auth_bytes", offset: 0, reason: .invalidLength(Int64(Int32.max))))
        let array = try decodeError(SaslHandshakeResponse.self, hex("0000 7fffffff") + tenBytes, version: 0)
        #expect(array == ProtocolDecodingError(path: "SaslHandshakeResponse.mechanisms", offset: 2, reason: .invalidLength(Int64(Int32.max))))
        let string = try decodeError(SaslHandshakeRequest.self, hex("7fff") + tenBytes, version: 0)
        #expect(string == ProtocolDecodingError(path: "SaslHandshakeRequest.mechanism", offset: 0, reason: .invalidLength(32767)))
        // Compact: varint UInt32.max → length 4294967294.
        let compact = try decodeError(SaslAuthenticateRequest.self, hex("ffffffff0f") + tenBytes, version: 2)
        #expect(compact == ProtocolDecodingError(path: "SaslAuthenticateRequest.auth_bytes", offset: 0, reason: .invalidLength(4_294_967_294)))
        // A nested array: MetadataResponse.topics[0].partitions with count Int32.max.
        let nested = try decodeError(MetadataResponse.self, hex("00000000 00000001 0000 0001 74 7fffffff") + tenBytes, version: 0)
        #expect(nested == ProtocolDecodingError(path: "MetadataResponse.topics[0].partitions", offset: 13, reason: .invalidLength(Int64(Int32.max))))
        // A length of exactly what remains is fine; one more is not.
        #expect(try SaslAuthenticateRequest(decoding: hex("00000002 abcd"), version: 0).authBytes == [0xAB, 0xCD])
        let over = try decodeError(SaslAuthenticateRequest.self, hex("00000003 abcd"), version: 0)
        #expect(over.reason == .invalidLength(3))
    }

    @Test func hugeTaggedFieldCountsAndSizesAreRejected() throws {
        // ApiVersionsResponse v3: error 0 | api_keys [] | throttle 0 | tagged count 127 with 2 bytes left.
        let count = try decodeError(ApiVersionsResponse.self, hex("0000 01 00000000 7f 0000"), version: 3)
        #expect(count.path == "ApiVersionsResponse._tagged_fields")
        #expect(count.reason == .invalidLength(127))
        // One tagged field that claims 200 bytes.
        let size = try decodeError(ApiVersionsResponse.self, hex("0000 01 00000000 01 09 c801 00"), version: 3)
        #expect(size.path == "ApiVersionsResponse._tagged_fields.size")
        #expect(size.reason == .invalidLength(200))
    }

    // MARK: Varints

    @Test func overlongVarintsAreMalformed() throws {
        // Six bytes.
        var r = ByteReader(hex("80 80 80 80 80 00"))
        #expect(throws: ProtocolDecodingError(path: "len", offset: 0, reason: .malformedVarint)) { try r.readUnsignedVarint("len") }
        // Five bytes whose last one overflows 32 bits.
        var r2 = ByteReader(hex("ff ff ff ff 1f"))
        #expect(throws: ProtocolDecodingError(path: "len", offset: 0, reason: .malformedVarint)) { try r2.readUnsignedVarint("len") }
        // Eleven-byte varlong; ten-byte varlong overflowing 64 bits.
        var r3 = ByteReader(hex("80 80 80 80 80 80 80 80 80 80 00"))
        #expect(throws: ProtocolDecodingError(path: "d", offset: 0, reason: .malformedVarint)) { try r3.readVarlong("d") }
        var r4 = ByteReader(hex("ff ff ff ff ff ff ff ff ff 02"))
        #expect(throws: ProtocolDecodingError(path: "d", offset: 0, reason: .malformedVarint)) { try r4.readUnsignedVarlong("d") }
        // Inside a message: a compact length that never ends.
        let e = try decodeError(SaslAuthenticateRequest.self, hex("ff ff ff ff ff ff"), version: 2)
        #expect(e == ProtocolDecodingError(path: "SaslAuthenticateRequest.auth_bytes", offset: 0, reason: .malformedVarint))
    }

    @Test func truncatedVarintIsTruncatedNotMalformed() throws {
        var r = ByteReader(hex("01 80 80"))
        _ = try r.readUInt8("x")
        let e = try #require(throws: ProtocolDecodingError.self) { try r.readUnsignedVarint("len") }
        #expect(e.offset == 1)
        #expect(e.reason == .truncated(needed: 3, remaining: 2))
    }

    // MARK: Content

    @Test(arguments: ["c3 28", "c0 af", "ed a0 80", "80", "f8 88 80 80 80", "ff"])
    func invalidUTF8IsRejected(_ bad: String) throws {
        let payload = hex(bad)
        let e = try decodeError(SaslHandshakeRequest.self, [0, UInt8(payload.count)] + payload, version: 0)
        #expect(e == ProtocolDecodingError(path: "SaslHandshakeRequest.mechanism", offset: 2, reason: .invalidUTF8))
    }

    @Test func nullInNonNullableFieldIsRejected() throws {
        // MetadataResponse v11: topic name is not nullable until v12.
        // throttle | brokers [] | cluster_id null | controller | topics ×1 | error | name null @13 | id | …
        let v11 = hex("00000000 01 00 00000001 02 0000 00" + "00000000000000000000000000000000" + "00 01 00000000 00 00")
        let e = try decodeError(MetadataResponse.self, v11, version: 11)
        #expect(e == ProtocolDecodingError(path: "MetadataResponse.topics[0].name", offset: 13, reason: .unexpectedNull))
        // The same bytes are fine at v12, where null means "unknown topic id".
        let ok = try MetadataResponse(decoding: v11, version: 12)
        #expect(ok.topics.count == 1 && ok.topics[0].name == nil)
        // A non-nullable classic array sent as null.
        let brokers = try decodeError(MetadataResponse.self, hex("ffffffff"), version: 0)
        #expect(brokers == ProtocolDecodingError(path: "MetadataResponse.brokers", offset: 0, reason: .unexpectedNull))
        // MetadataRequest v9 topic name (nullable only from v10).
        let req = try decodeError(MetadataRequest.self, hex("02 00 00 01 00 00 00"), version: 9)
        #expect(req == ProtocolDecodingError(path: "MetadataRequest.topics[0].name", offset: 1, reason: .unexpectedNull))
        // MetadataRequest v0 topics (nullable only from v1).
        let v0 = try decodeError(MetadataRequest.self, hex("ffffffff"), version: 0)
        #expect(v0 == ProtocolDecodingError(path: "MetadataRequest.topics", offset: 0, reason: .unexpectedNull))
    }

    @Test func trailingBytesAreRejected() throws {
        let a = try decodeError(ApiVersionsRequest.self, [0x00], version: 0)
        #expect(a == ProtocolDecodingError(path: "ApiVersionsRequest", offset: 0, reason: .trailingBytes(1)))
        let m = try decodeError(MetadataRequest.self, hex("ffffffff 0000"), version: 1)
        #expect(m == ProtocolDecodingError(path: "MetadataRequest", offset: 4, reason: .trailingBytes(2)))
        let full = try Samples.createTopicsResponse(5).encodedMessage(version: 5)
        let c = try decodeError(CreateTopicsResponse.self, full + [0xEE], version: 5)
        #expect(c == ProtocolDecodingError(path: "CreateTopicsResponse", offset: full.count, reason: .trailingBytes(1)))
    }

    @Test func knownTagErrorsArePrefixedWithTheTagName() throws {
        // finalized_features_epoch (tag 1) with 9 bytes: one too many.
        let long = try decodeError(ApiVersionsResponse.self, hex("0000 01 00000000 01 01 09 0000000000000001 ff"), version: 3)
        #expect(long == ProtocolDecodingError(path: "ApiVersionsResponse.finalized_features_epoch", offset: 18, reason: .trailingBytes(1)))
        // ... with 4 bytes: too few for an int64.
        let short = try decodeError(ApiVersionsResponse.self, hex("0000 01 00000000 01 01 04 00000001"), version: 3)
        #expect(short == ProtocolDecodingError(path: "ApiVersionsResponse.finalized_features_epoch", offset: 10,
                                               reason: .truncated(needed: 8, remaining: 4)))
        // supported_features (tag 0) whose first element's name is truncated.
        let nested = try decodeError(ApiVersionsResponse.self, hex("0000 01 00000000 01 00 03 02 05 61"), version: 3)
        #expect(nested.path == "ApiVersionsResponse.supported_features[0].name")
        #expect(nested.reason == .invalidLength(4))
    }

    @Test func unsupportedVersionIsADecodingError() throws {
        let e = try decodeError(MetadataResponse.self, [], version: 14)
        #expect(e.path == "MetadataResponse")
        guard case .invalid = e.reason else { Issue.record("expected .invalid, got \(e.reason)"); return }
        let e2 = try decodeError(CreateTopicsRequest.self, hex("00000000 00000000 00"), version: 1)
        guard case .invalid = e2.reason else { Issue.record("expected .invalid, got \(e2.reason)"); return }
    }

    /// Every single-byte corruption of real messages either decodes or throws a decoding error.
    @Test func singleByteCorruptionNeverTraps() throws {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17; return seed }
        let samples: [(String, [UInt8], ([UInt8]) throws -> Void)] = try [
            ("Metadata v12", Samples.metadataResponse(12).encodedMessage(version: 12), { _ = try MetadataResponse(decoding: $0, version: 12) }),
            ("Metadata v4", Samples.metadataResponse(4).encodedMessage(version: 4), { _ = try MetadataResponse(decoding: $0, version: 4) }),
            ("ApiVersions v3", Samples.apiVersionsResponse(3).encodedMessage(version: 3), { _ = try ApiVersionsResponse(decoding: $0, version: 3) }),
            ("CreateTopics v7", Samples.createTopicsResponse(7).encodedMessage(version: 7), { _ = try CreateTopicsResponse(decoding: $0, version: 7) }),
        ]
        for (name, bytes, decode) in samples {
            for i in bytes.indices {
                for value in [UInt8(0x00), 0xFF, 0x7F, 0x80, UInt8(truncatingIfNeeded: next())] {
                    var b = bytes
                    b[i] = value
                    do { try decode(b) } catch is ProtocolDecodingError {} catch {
                        Issue.record("\(name) byte \(i) = \(value): non-decoding error \(error)")
                    }
                }
            }
        }
    }
}
