import Testing
@testable import KafkaProtocol

/// Request/response headers, header-version selection, and `FrameDissector`.
@Suite struct HeaderTests {
    func encode(_ h: RequestHeader, _ hv: Int16) throws -> [UInt8] {
        var w = ByteWriter()
        try h.encode(into: &w, headerVersion: hv)
        return w.take()
    }

    func encode(_ h: ResponseHeader, _ hv: Int16) throws -> [UInt8] {
        var w = ByteWriter()
        try h.encode(into: &w, headerVersion: hv)
        return w.take()
    }

    // MARK: Request header

    @Test func requestHeaderV1() throws {
        let h = RequestHeader(apiKey: .metadata, apiVersion: 12, correlationId: 7, clientId: "kw")
        let bytes = try encode(h, 1)
        #expect(bytes == hex("0003 000c 00000007 0002 6b77"))
        var r = ByteReader(bytes + [0xAA])
        #expect(try RequestHeader.decode(from: &r, headerVersion: 1) == h)
        #expect(r.remaining == 1)
    }

    @Test func requestHeaderV2KeepsClassicClientIdAndAddsTags() throws {
        let h = RequestHeader(apiKey: .metadata, apiVersion: 12, correlationId: 7, clientId: "kw")
        // Not "03 6b77": the client id stays an Int16-length string in v2.
        let bytes = try encode(h, 2)
        #expect(bytes == hex("0003 000c 00000007 0002 6b77 00"))
        var r = ByteReader(bytes)
        #expect(try RequestHeader.decode(from: &r, headerVersion: 2) == h)
        #expect(r.isAtEnd)
    }

    @Test func requestHeaderNullAndEmptyClientId() throws {
        let null = RequestHeader(apiKey: .apiVersions, apiVersion: 3, correlationId: -1, clientId: nil)
        #expect(try encode(null, 1) == hex("0012 0003 ffffffff ffff"))
        #expect(try encode(null, 2) == hex("0012 0003 ffffffff ffff 00"))
        var r = ByteReader(hex("0012 0003 ffffffff ffff 00"))
        let back = try RequestHeader.decode(from: &r, headerVersion: 2)
        #expect(back.clientId == nil)
        let empty = RequestHeader(apiKey: .apiVersions, apiVersion: 3, correlationId: 1, clientId: "")
        #expect(try encode(empty, 2) == hex("0012 0003 00000001 0000 00"))
    }

    @Test func requestHeaderUnknownTagsRoundTrip() throws {
        var h = RequestHeader(apiKey: .createTopics, apiVersion: 7, correlationId: 300, clientId: nil)
        h.unknownTaggedFields = [TaggedField(tag: 5, data: [0xAA])]
        let bytes = try encode(h, 2)
        #expect(bytes == hex("0013 0007 0000012c ffff 01 05 01 aa"))
        var r = ByteReader(bytes)
        #expect(try RequestHeader.decode(from: &r, headerVersion: 2) == h)
        // v1 has no tagged section at all.
        #expect(try encode(h, 1) == hex("0013 0007 0000012c ffff"))
    }

    @Test func peekDoesNotConsume() throws {
        let r = ByteReader(hex("0024 0002 00000001"))
        let (key, version) = try RequestHeader.peek(r)
        #expect(key == .saslAuthenticate && version == 2)
        #expect(r.offset == 0)
        #expect(throws: ProtocolDecodingError.self) { try RequestHeader.peek(ByteReader([0, 3, 0])) }
    }

    @Test func truncatedRequestHeaderNamesTheField() throws {
        var r = ByteReader(hex("0003 000c 000000"))
        let e = try #require(throws: ProtocolDecodingError.self) { try RequestHeader.decode(from: &r, headerVersion: 1) }
        #expect(e == ProtocolDecodingError(path: "correlation_id", offset: 4, reason: .truncated(needed: 4, remaining: 3)))
        var r2 = ByteReader(hex("0003 000c 00000001 0005 61"))
        let e2 = try #require(throws: ProtocolDecodingError.self) { try RequestHeader.decode(from: &r2, headerVersion: 1) }
        #expect(e2.path == "client_id" && e2.offset == 8 && e2.reason == .invalidLength(5))
    }

    // MARK: Response header

    @Test func responseHeaderV0AndV1() throws {
        #expect(try encode(ResponseHeader(correlationId: 7), 0) == hex("00000007"))
        #expect(try encode(ResponseHeader(correlationId: 7), 1) == hex("00000007 00"))
        var r0 = ByteReader(hex("0000002a 00"))
        #expect(try ResponseHeader.decode(from: &r0, headerVersion: 0).correlationId == 42)
        #expect(r0.remaining == 1) // v0 leaves the 00 to the body
        var r1 = ByteReader(hex("0000002a 01 02 01 ff"))
        let h1 = try ResponseHeader.decode(from: &r1, headerVersion: 1)
        #expect(h1.correlationId == 42 && h1.unknownTaggedFields == [TaggedField(tag: 2, data: [0xFF])])
        #expect(r1.isAtEnd)
        #expect(try encode(h1, 1) == hex("0000002a 01 02 01 ff"))
    }

    // MARK: Header versions

    @Test func headerVersionsFollowFlexibility() {
        #expect(HeaderVersions.request(MetadataRequest.self, version: 8) == 1)
        #expect(HeaderVersions.request(MetadataRequest.self, version: 9) == 2)
        #expect(HeaderVersions.response(MetadataRequest.self, version: 8) == 0)
        #expect(HeaderVersions.response(MetadataRequest.self, version: 9) == 1)
        #expect(HeaderVersions.request(CreateTopicsRequest.self, version: 4) == 1)
        #expect(HeaderVersions.request(CreateTopicsRequest.self, version: 5) == 2)
        #expect(HeaderVersions.request(SaslHandshakeRequest.self, version: 1) == 1)
        #expect(HeaderVersions.response(SaslHandshakeRequest.self, version: 1) == 0)
        #expect(HeaderVersions.request(SaslAuthenticateRequest.self, version: 2) == 2)
        #expect(HeaderVersions.response(SaslAuthenticateRequest.self, version: 2) == 1)
    }

    @Test func apiVersionsResponseHeaderIsAlwaysV0() {
        for v in ApiVersionsRequest.versions {
            #expect(HeaderVersions.response(ApiVersionsRequest.self, version: v) == 0)
            #expect(HeaderVersions.response(ApiVersionsResponse.self, version: v) == 0)
            #expect(HeaderVersions.request(ApiVersionsRequest.self, version: v) == (v >= 3 ? 2 : 1))
        }
    }

    @Test func registryAgreesWithHeaderVersions() throws {
        func check<R: KafkaRequest>(_ type: R.Type) throws {
            let api = try #require(ApiRegistry.all[R.apiKey])
            #expect(api.versions == R.versions && api.flexibleFrom == R.flexibleFrom)
            for v in R.versions {
                #expect(api.requestHeaderVersion(v) == HeaderVersions.request(R.self, version: v), "\(R.self) v\(v)")
                #expect(api.responseHeaderVersion(v) == HeaderVersions.response(R.self, version: v), "\(R.self) v\(v)")
            }
        }
        try check(ApiVersionsRequest.self)
        try check(MetadataRequest.self)
        try check(CreateTopicsRequest.self)
        try check(DeleteTopicsRequest.self)
        try check(SaslHandshakeRequest.self)
        try check(SaslAuthenticateRequest.self)
        #expect(ApiRegistry.all[.apiVersions]?.responseHeaderVersion(3) == 0)
        #expect(ApiRegistry.all[ApiKey(4)] == nil) // LeaderAndIsr: broker-internal
        // Every registered API (including ones added later) follows the same rule.
        for (key, api) in ApiRegistry.all {
            #expect(api.apiKey == key)
            for v in api.versions {
                let flexible = api.flexibleFrom.map { v >= $0 } ?? false
                #expect(api.requestHeaderVersion(v) == (flexible ? 2 : 1), "\(key) v\(v)")
                #expect(api.responseHeaderVersion(v) == (key == .apiVersions ? 0 : flexible ? 1 : 0), "\(key) v\(v)")
            }
        }
    }
}
