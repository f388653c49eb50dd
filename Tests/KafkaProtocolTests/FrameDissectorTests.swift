import Testing
@testable import KafkaProtocol

/// Whole frames: size prefix, header, body → JSON and re-encoding.
@Suite struct FrameDissectorTests {
    func frame(_ payload: [UInt8]) -> [UInt8] {
        var w = ByteWriter()
        w.writeInt32(Int32(payload.count))
        w.writeBytes(payload)
        return w.take()
    }

    func requestFrame<R: KafkaRequest>(_ body: R, version: Int16, correlationId: Int32 = 9, clientId: String? = "kw") throws -> [UInt8] {
        var w = ByteWriter()
        try RequestHeader(apiKey: R.apiKey, apiVersion: version, correlationId: correlationId, clientId: clientId)
            .encode(into: &w, headerVersion: HeaderVersions.request(R.self, version: version))
        try body.encode(into: &w, version: version)
        return frame(w.take())
    }

    @Test func dissectsAFlexibleMetadataRequest() throws {
        let f = try requestFrame(MetadataRequest(topics: ["orders"], allowAutoTopicCreation: true), version: 12)
        // size | key 3 | version 12 | correlation 9 | client id "kw" | header tags | body
        #expect(f == hex("00000029 0003 000c 00000009 0002 6b77 00 02 00000000000000000000000000000000 07 6f7264657273 00 01 00 00"))
        #expect(try FrameDissector.peekRequest(f) == (apiKey: ApiKey.metadata, apiVersion: 12))
        let d = try FrameDissector.dissectRequest(f)
        #expect(d.reencoded == f)
        #expect(d.apiKey == .metadata && d.apiVersion == 12)
        #expect(keys(d.json) == ["kind", "api", "api_key", "api_version", "header", "body"])
        #expect(d.json["kind"] == .string("request") && d.json["api"] == .string("Metadata"))
        #expect(d.json["api_key"] == .int(3) && d.json["api_version"] == .int(12))
        #expect(d.json["header"]?["client_id"] == .string("kw"))
        #expect(d.json["header"]?["correlation_id"] == .int(9))
        #expect(first(d.json["body"]?["topics"])?["name"] == .string("orders"))
        #expect(d.json["body"]?["allow_auto_topic_creation"] == .bool(true))
    }

    @Test func dissectsEveryRegisteredRequestAtEveryVersion() throws {
        func check<R: KafkaRequest & Equatable>(_ make: (Int16) -> R) throws {
            for v in R.versions {
                let f = try requestFrame(make(v), version: v, correlationId: Int32(v), clientId: v % 2 == 0 ? nil : "c")
                let d = try FrameDissector.dissectRequest(f)
                #expect(d.reencoded == f, "\(R.self) v\(v)")
                #expect(d.json["body"] == make(v).json(version: v), "\(R.self) v\(v)")
            }
        }
        try check(Samples.apiVersionsRequest)
        try check(Samples.metadataRequest)
        try check(Samples.createTopicsRequest)
        try check(Samples.deleteTopicsRequest)
        try check(Samples.saslHandshakeRequest)
        try check(Samples.saslAuthenticateRequest)
    }

    @Test func dissectsAnApiVersionsResponseWithV0Header() throws {
        var body = ApiVersionsResponse()
        body.apiKeys = [.init(apiKey: 18, minVersion: 0, maxVersion: 4)]
        let payload = hex("00000005") + (try body.encodedMessage(version: 3))
        let f = frame(payload)
        let d = try FrameDissector.dissectResponse(f, apiKey: .apiVersions, apiVersion: 3)
        #expect(d.reencoded == f)
        #expect(d.json["kind"] == .string("response"))
        #expect(d.json["header"] == .object([("correlation_id", .int(5))]))
        #expect(first(d.json["body"]?["api_keys"])?["max_version"] == .int(4))
    }

    @Test func dissectsAFlexibleResponseWithV1Header() throws {
        let body = try Samples.metadataResponse(12).encodedMessage(version: 12)
        let f = frame(hex("00000063 01 03 01 ee") + body)
        let d = try FrameDissector.dissectResponse(f, apiKey: .metadata, apiVersion: 12)
        #expect(d.reencoded == f)
        #expect(d.json["header"]?["correlation_id"] == .int(0x63))
        #expect(d.json["body"] == Samples.metadataResponse(12).json(version: 12))
        // The same frame read with a non-flexible version misparses: the header has no tags at v8.
        #expect(throws: FrameDissector.Failure.self) { try FrameDissector.dissectResponse(f, apiKey: .metadata, apiVersion: 8) }
    }

    @Test func sizePrefixMustMatch() throws {
        let good = try requestFrame(MetadataRequest(topics: nil, allowAutoTopicCreation: true), version: 1)
        for delta: Int32 in [-1, 1, 1000] {
            var bad = good
            let size = Int32(good.count - 4) + delta
            var sw = ByteWriter()
            sw.writeInt32(size)
            bad.replaceSubrange(0 ..< 4, with: sw.bytes)
            do {
                _ = try FrameDissector.dissectRequest(bad)
                Issue.record("size \(size) accepted")
            } catch let .decoding(e) {
                #expect(e.path == "size" && e.offset == 0)
            } catch { Issue.record("wrong failure \(error)") }
        }
        // Negative size, and a frame too short to hold a size.
        for bad in [hex("ffffffff"), hex("0000")] {
            do {
                _ = try FrameDissector.dissectResponse(bad, apiKey: .metadata, apiVersion: 1)
                Issue.record("accepted \(bad)")
            } catch let .decoding(e) {
                #expect(e.path == "size")
            } catch { Issue.record("wrong failure \(error)") }
        }
    }

    @Test func unsupportedApiKeyOrVersion() throws {
        // LeaderAndIsr (key 4) is broker-to-broker only and never registered here.
        let leaderAndIsr = frame(hex("0004 0007 00000001 ffff"))
        do {
            _ = try FrameDissector.dissectRequest(leaderAndIsr)
            Issue.record("LeaderAndIsr accepted")
        } catch let .unsupported(key, version) {
            #expect(key == ApiKey(4) && version == 7)
        } catch { Issue.record("wrong failure \(error)") }
        // Metadata v14 is beyond our range; CreateTopics v1 below it.
        for (key, version) in [(ApiKey.metadata, Int16(14)), (.createTopics, 1), (ApiKey(999), 0)] {
            var w = ByteWriter()
            w.writeInt16(key.rawValue)
            w.writeInt16(version)
            w.writeInt32(1)
            w.writeInt16(-1)
            do {
                _ = try FrameDissector.dissectRequest(frame(w.take()))
                Issue.record("\(key) v\(version) accepted")
            } catch let .unsupported(k, v) {
                #expect(k == key && v == version)
            } catch { Issue.record("wrong failure \(error)") }
            do {
                _ = try FrameDissector.dissectResponse(frame(hex("00000001")), apiKey: key, apiVersion: version)
                Issue.record("\(key) v\(version) response accepted")
            } catch let .unsupported(k, v) {
                #expect(k == key && v == version)
            } catch { Issue.record("wrong failure \(error)") }
        }
    }

    @Test func bodyErrorsCarryPathAndAbsoluteFrameOffset() throws {
        // ApiVersions v0 response: error | api_keys ×1 | key 18 | min 0 | (max missing)
        let f = frame(hex("00000001 0000 00000001 0012 0000"))
        do {
            _ = try FrameDissector.dissectResponse(f, apiKey: .apiVersions, apiVersion: 0)
            Issue.record("truncated body accepted")
        } catch let .decoding(e) {
            #expect(e == ProtocolDecodingError(path: "ApiVersionsResponse.api_keys[0].max_version", offset: 18,
                                               reason: .truncated(needed: 2, remaining: 0)))
        } catch { Issue.record("wrong failure \(error)") }
        // Trailing bytes after a request body.
        var ok = try requestFrame(SaslHandshakeRequest(mechanism: "PLAIN"), version: 1)
        ok.append(0)
        ok[3] += 1
        do {
            _ = try FrameDissector.dissectRequest(ok)
            Issue.record("trailing byte accepted")
        } catch let .decoding(e) {
            #expect(e.path == "SaslHandshakeRequest" && e.reason == .trailingBytes(1) && e.offset == ok.count - 1)
        } catch { Issue.record("wrong failure \(error)") }
    }

    @Test func failureDescriptionsNameTheProblem() {
        #expect(FrameDissector.Failure.unsupported(apiKey: .produce, version: 3).description.contains("Produce"))
        let e = ProtocolDecodingError(path: "a.b", offset: 12, reason: .invalidUTF8)
        #expect(FrameDissector.Failure.decoding(e).description.contains("a.b at offset 12: invalid UTF-8"))
    }
}
