import Testing
@testable import KafkaProtocol

/// Every version of every message: a value with every field of that version set to a
/// non-default value encodes, decodes to an equal value, and re-encodes to the same bytes.
@Suite struct MessageRoundTripTests {
    @Test(arguments: ApiVersionsRequest.versions)
    func apiVersionsRequest(version: Int16) throws {
        let bytes = try expectRoundTrip(Samples.apiVersionsRequest(version), version: version)
        #expect(bytes.isEmpty == (version < 3))
    }

    @Test(arguments: ApiVersionsResponse.versions)
    func apiVersionsResponse(version: Int16) throws {
        try expectRoundTrip(Samples.apiVersionsResponse(version), version: version)
    }

    @Test(arguments: MetadataRequest.versions)
    func metadataRequest(version: Int16) throws {
        try expectRoundTrip(Samples.metadataRequest(version), version: version)
        if version >= 1 {
            // Null (all topics) and empty (no topics) are different requests from v1.
            var all = Samples.metadataRequest(version)
            all.topics = nil
            var none = all
            none.topics = []
            let a = try expectRoundTrip(all, version: version)
            let n = try expectRoundTrip(none, version: version)
            #expect(a != n)
        }
    }

    @Test(arguments: MetadataResponse.versions)
    func metadataResponse(version: Int16) throws {
        try expectRoundTrip(Samples.metadataResponse(version), version: version)
        // Also with the nullable fields null / empty where the version has them.
        var m = Samples.metadataResponse(version)
        m.brokers = []
        m.topics[0].partitions = []
        if version >= 2 { m.clusterId = "" }
        try expectRoundTrip(m, version: version)
    }

    @Test(arguments: CreateTopicsRequest.versions)
    func createTopicsRequest(version: Int16) throws {
        try expectRoundTrip(Samples.createTopicsRequest(version), version: version)
    }

    @Test(arguments: CreateTopicsResponse.versions)
    func createTopicsResponse(version: Int16) throws {
        try expectRoundTrip(Samples.createTopicsResponse(version), version: version)
    }

    @Test(arguments: DeleteTopicsRequest.versions)
    func deleteTopicsRequest(version: Int16) throws {
        try expectRoundTrip(Samples.deleteTopicsRequest(version), version: version)
    }

    @Test(arguments: DeleteTopicsResponse.versions)
    func deleteTopicsResponse(version: Int16) throws {
        try expectRoundTrip(Samples.deleteTopicsResponse(version), version: version)
    }

    @Test(arguments: SaslHandshakeRequest.versions)
    func saslHandshake(version: Int16) throws {
        try expectRoundTrip(Samples.saslHandshakeRequest(version), version: version)
        try expectRoundTrip(Samples.saslHandshakeResponse(version), version: version)
    }

    @Test(arguments: SaslAuthenticateRequest.versions)
    func saslAuthenticate(version: Int16) throws {
        try expectRoundTrip(Samples.saslAuthenticateRequest(version), version: version)
        try expectRoundTrip(Samples.saslAuthenticateResponse(version), version: version)
        var empty = SaslAuthenticateResponse()
        empty.errorMessage = ""
        try expectRoundTrip(empty, version: version)
    }

    /// Decoding fills in the defaults of fields a version lacks, whatever the value held before.
    @Test func fieldsAbsentAtAVersionDecodeToTheirDefaults() throws {
        var old = MetadataResponse()
        old.topics = [MetadataResponse.Topic()]
        old.topics[0].partitions = [MetadataResponse.Partition()]
        let bytes = try old.encodedMessage(version: 0)
        let back = try MetadataResponse(decoding: bytes, version: 0)
        #expect(back.controllerId == -1)
        #expect(back.clusterId == nil)
        #expect(back.topics[0].topicAuthorizedOperations == Int32.min)
        #expect(back.topics[0].partitions[0].leaderEpoch == -1)
        #expect(back.clusterAuthorizedOperations == Int32.min)
        let ct = try CreateTopicsResponse(decoding: Samples.createTopicsResponse(4).encodedMessage(version: 4), version: 4)
        #expect(ct.topics[0].numPartitions == -1 && ct.topics[0].replicationFactor == -1)
        #expect(ct.topics[0].topicConfigErrorCode == nil)
    }

    /// The same value can be re-encoded at another version when it only uses common fields.
    @Test func valueIsReencodableAcrossVersions() throws {
        let m = MetadataRequest(topics: ["a", "b"], allowAutoTopicCreation: true)
        for v in MetadataRequest.versions {
            let back = try MetadataRequest(decoding: m.encodedMessage(version: v), version: v)
            #expect(back.topics?.map(\.name) == ["a", "b"], "v\(v)")
        }
    }

    @Test func deleteTopicsConvenienceInitFillsTheFieldOfTheVersion() throws {
        let v5 = DeleteTopicsRequest(names: ["x"], timeoutMs: 5, version: 5)
        #expect(v5.topicNames == ["x"] && v5.topics.isEmpty)
        let v6 = DeleteTopicsRequest(names: ["x"], timeoutMs: 5, version: 6)
        #expect(v6.topics == [.init(name: "x")] && v6.topicNames.isEmpty)
        try expectRoundTrip(v5, version: 5)
        try expectRoundTrip(v6, version: 6)
    }

    @Test func apiVersionsResponseRangeLookup() {
        var m = ApiVersionsResponse()
        m.apiKeys = [.init(apiKey: 3, minVersion: 0, maxVersion: 12), .init(apiKey: 19, minVersion: 5, maxVersion: 2)]
        #expect(m.range(for: .metadata) == 0 ... 12)
        #expect(m.range(for: .createTopics) == nil) // min > max
        #expect(m.range(for: .fetch) == nil)
    }

    @Test func messagesDeclareTheSchemaVersionRanges() {
        #expect(ApiVersionsRequest.apiKey.rawValue == 18 && ApiVersionsResponse.apiKey.rawValue == 18)
        #expect(MetadataRequest.apiKey.rawValue == 3 && CreateTopicsRequest.apiKey.rawValue == 19)
        #expect(DeleteTopicsRequest.apiKey.rawValue == 20 && SaslHandshakeRequest.apiKey.rawValue == 17)
        #expect(SaslAuthenticateRequest.apiKey.rawValue == 36)
        #expect(MetadataRequest.isFlexible(9) && !MetadataRequest.isFlexible(8))
        #expect(!SaslHandshakeRequest.isFlexible(1))
        #expect(SaslAuthenticateResponse.isFlexible(2) && !SaslAuthenticateResponse.isFlexible(1))
        #expect(MetadataResponse.messageName == "MetadataResponse")
    }
}
