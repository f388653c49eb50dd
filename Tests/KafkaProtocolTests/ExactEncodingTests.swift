import Testing
@testable import KafkaProtocol

/// Hand-computed wire bytes for each message family (from Kafka's protocol guide and schemas).
@Suite struct ExactEncodingTests {
    func expectBytes<M: KafkaMessage & Equatable>(_ m: M, _ version: Int16, _ expected: String,
                                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
        let bytes = try m.encodedMessage(version: version)
        #expect(bytes == hex(expected), "\(M.self) v\(version): got \(dump(bytes))", sourceLocation: sourceLocation)
        let back = try M(decoding: hex(expected), version: version)
        #expect(back == m, "\(M.self) v\(version) decoded differently", sourceLocation: sourceLocation)
    }

    @Test func apiVersionsRequest() throws {
        let m = ApiVersionsRequest(clientSoftwareName: "kwire", clientSoftwareVersion: "0.1")
        try expectBytes(ApiVersionsRequest(), 0, "")
        try expectBytes(ApiVersionsRequest(), 2, "")
        try expectBytes(m, 3, "06 6b77697265 04 302e31 00")
        try expectBytes(m, 4, "06 6b77697265 04 302e31 00")
        try expectBytes(ApiVersionsRequest(), 3, "01 01 00")
    }

    @Test func apiVersionsResponse() throws {
        var m = ApiVersionsResponse()
        m.apiKeys = [.init(apiKey: 18, minVersion: 0, maxVersion: 4)]
        try expectBytes(m, 0, "0000 00000001 0012 0000 0004")
        m.throttleTimeMs = 100
        try expectBytes(m, 1, "0000 00000001 0012 0000 0004 00000064")
        try expectBytes(m, 3, "0000 02 0012 0000 0004 00 00000064 00")
        m.finalizedFeaturesEpoch = 7
        try expectBytes(m, 3, "0000 02 0012 0000 0004 00 00000064 01 01 08 0000000000000007")
    }

    @Test func apiVersionsResponseTagsAreSortedAndOnlyPresentWhenNonNil() throws {
        var m = ApiVersionsResponse()
        m.zkMigrationReady = true
        m.supportedFeatures = []
        m.unknownTaggedFields = [TaggedField(tag: 9, data: [0xBB]), TaggedField(tag: 4, data: [0xAA])]
        let bytes = try m.encodedMessage(version: 3)
        #expect(bytes == hex("0000 01 00000000 04 | 00 01 01 | 03 01 01 | 04 01 aa | 09 01 bb"), "\(dump(bytes))")
        let back = try ApiVersionsResponse(decoding: bytes, version: 3)
        #expect(back.zkMigrationReady == true && back.supportedFeatures == [] && back.finalizedFeatures == nil && back.finalizedFeaturesEpoch == nil)
        #expect(back.unknownTaggedFields == [TaggedField(tag: 4, data: [0xAA]), TaggedField(tag: 9, data: [0xBB])])

        var f = ApiVersionsResponse()
        var sf = ApiVersionsResponse.SupportedFeature()
        sf.name = "f"
        sf.minVersion = 1
        sf.maxVersion = 2
        f.supportedFeatures = [sf]
        f.zkMigrationReady = false
        try expectBytes(f, 4, "0000 01 00000000 02 | 00 08 02 02 66 0001 0002 00 | 03 01 00")
    }

    @Test func apiVersionsUnknownTopLevelTagsSurviveByteExact() throws {
        let wire = hex("0000 01 00000000 03 | 01 08 0000000000000001 | 05 02 abcd | 81 01 00")
        let m = try ApiVersionsResponse(decoding: wire, version: 3)
        #expect(m.finalizedFeaturesEpoch == 1)
        #expect(m.unknownTaggedFields == [TaggedField(tag: 5, data: [0xAB, 0xCD]), TaggedField(tag: 129, data: [])])
        #expect(try m.encodedMessage(version: 3) == wire)
    }

    @Test func metadataRequest() throws {
        try expectBytes(MetadataRequest(topics: ["a"], allowAutoTopicCreation: true), 0, "00000001 0001 61")
        try expectBytes(MetadataRequest(topics: nil, allowAutoTopicCreation: true), 1, "ffffffff")
        try expectBytes(MetadataRequest(topics: [], allowAutoTopicCreation: true), 1, "00000000")
        try expectBytes(MetadataRequest(topics: nil, allowAutoTopicCreation: false), 4, "ffffffff 00")
        try expectBytes(MetadataRequest(topics: nil, allowAutoTopicCreation: true), 4, "ffffffff 01")
        var m8 = MetadataRequest(topics: nil, allowAutoTopicCreation: true)
        m8.includeTopicAuthorizedOperations = true
        try expectBytes(m8, 8, "ffffffff 01 00 01")
        try expectBytes(MetadataRequest(topics: nil, allowAutoTopicCreation: true), 9, "00 01 00 00 00")
        try expectBytes(MetadataRequest(topics: ["a"], allowAutoTopicCreation: false), 9, "02 02 61 00 00 00 00 00")
        try expectBytes(MetadataRequest(topics: nil, allowAutoTopicCreation: true), 11, "00 01 00 00")
        var byId = MetadataRequest(topics: nil, allowAutoTopicCreation: true)
        var t = MetadataRequest.Topic()
        t.topicId = Samples.uuidA
        t.name = nil
        byId.topics = [t]
        try expectBytes(byId, 10, "02 0123456789abcdef fedcba9876543210 00 00 01 00 00 00")
        byId.topics![0].name = "a"
        try expectBytes(byId, 12, "02 0123456789abcdef fedcba9876543210 02 61 00 01 00 00")
    }

    @Test func metadataResponse() throws {
        var m = MetadataResponse()
        m.brokers = [.init(nodeId: 1, host: "h", port: 9092)]
        var p = MetadataResponse.Partition()
        p.leaderId = 1
        p.leaderEpoch = 0
        p.replicaNodes = [1]
        p.isrNodes = [1]
        var t = MetadataResponse.Topic()
        t.name = "t"
        t.partitions = [p]
        m.topics = [t]
        m.controllerId = 1
        var v0 = m
        v0.controllerId = -1
        v0.topics[0].partitions[0].leaderEpoch = -1
        try expectBytes(v0, 0, """
            00000001 00000001 0001 68 00002384
            00000001 0000 0001 74
              00000001 0000 00000000 00000001 00000001 00000001 00000001 00000001
            """)
        try expectBytes(m, 9, """
            00000000
            02 00000001 02 68 00002384 00 00
            00 00000001
            02 0000 02 74 00
              02 0000 00000000 00000001 00000000 02 00000001 02 00000001 01 00
              80000000 00
            80000000 00
            """)
        var m13 = m
        m13.errorCode = 35
        try expectBytes(m13, 13, """
            00000000
            02 00000001 02 68 00002384 00 00
            00 00000001
            02 0000 02 74 00000000000000000000000000000000 00
              02 0000 00000000 00000001 00000000 02 00000001 02 00000001 01 00
              80000000 00
            0023 00
            """)
    }

    @Test func createTopicsRequest() throws {
        var m = CreateTopicsRequest()
        m.topics = [.init(name: "t", numPartitions: 3, replicationFactor: 1, configs: [.init(name: "k", value: nil)])]
        m.timeoutMs = 30000
        m.validateOnly = true
        try expectBytes(m, 2, "00000001 0001 74 00000003 0001 00000000 00000001 0001 6b ffff 00007530 01")
        try expectBytes(m, 5, "02 02 74 00000003 0001 01 02 02 6b 00 00 00 00007530 01 00")
        m.topics[0].assignments = [.init(partitionIndex: 0, brokerIds: [1, 2])]
        try expectBytes(m, 4, "00000001 0001 74 00000003 0001 00000001 00000000 00000002 00000001 00000002 00000001 0001 6b ffff 00007530 01")
        #expect(CreateTopicsRequest().timeoutMs == 60000)
    }

    @Test func createTopicsResponse() throws {
        var t = CreateTopicsResponse.Topic()
        t.name = "t"
        t.numPartitions = 3
        t.replicationFactor = 1
        t.configs = nil
        var m = CreateTopicsResponse()
        m.topics = [t]
        try expectBytes(m, 5, "00000000 02 02 74 0000 00 00000003 0001 00 00 00")
        m.topics[0].topicConfigErrorCode = 5
        try expectBytes(m, 5, "00000000 02 02 74 0000 00 00000003 0001 00 01 00 02 0005 00")
        m.topics[0].topicId = Samples.uuidB
        try expectBytes(m, 7, "00000000 02 02 74 11112222333344445555666677778888 0000 00 00000003 0001 00 01 00 02 0005 00")
        var c = CreateTopicsResponse.Config()
        c.name = "a"
        c.value = "b"
        c.readOnly = true
        c.isSensitive = true
        m.topics[0].configs = [c]
        m.topics[0].topicConfigErrorCode = nil
        m.topics[0].topicId = .zero
        try expectBytes(m, 6, "00000000 02 02 74 0000 00 00000003 0001 02 02 61 02 62 01 ff 01 00 00 00")
        var old = CreateTopicsResponse()
        var ot = CreateTopicsResponse.Topic()
        ot.name = "t"
        ot.errorCode = 36
        ot.errorMessage = "x"
        old.topics = [ot]
        old.throttleTimeMs = 1
        try expectBytes(old, 2, "00000001 00000001 0001 74 0024 0001 78")
    }

    @Test func deleteTopics() throws {
        try expectBytes(DeleteTopicsRequest(names: ["a"], timeoutMs: 1000, version: 1), 1, "00000001 0001 61 000003e8")
        try expectBytes(DeleteTopicsRequest(names: ["a"], timeoutMs: 1000, version: 4), 4, "02 02 61 000003e8 00")
        try expectBytes(DeleteTopicsRequest(names: ["a"], timeoutMs: 1000, version: 6), 6,
                        "02 02 61 00000000000000000000000000000000 00 000003e8 00")
        var r = DeleteTopicsResponse.Result()
        r.name = "a"
        var m = DeleteTopicsResponse()
        m.responses = [r]
        try expectBytes(m, 1, "00000000 00000001 0001 61 0000")
        try expectBytes(m, 5, "00000000 02 02 61 0000 00 00 00")
        m.responses[0].name = nil
        m.responses[0].topicId = Samples.uuidA
        m.responses[0].errorMessage = "e"
        try expectBytes(m, 6, "00000000 02 00 0123456789abcdeffedcba9876543210 0000 02 65 00 00")
    }

    @Test func sasl() throws {
        try expectBytes(SaslHandshakeRequest(mechanism: "PLAIN"), 0, "0005 504c41494e")
        var hs = SaslHandshakeResponse()
        hs.mechanisms = ["PLAIN"]
        try expectBytes(hs, 1, "0000 00000001 0005 504c41494e")
        try expectBytes(SaslAuthenticateRequest(authBytes: [1, 2]), 0, "00000002 0102")
        try expectBytes(SaslAuthenticateRequest(authBytes: [1, 2]), 2, "03 0102 00")
        var r = SaslAuthenticateResponse()
        r.sessionLifetimeMs = 1000
        try expectBytes(r, 1, "0000 ffff 00000000 00000000000003e8")
        try expectBytes(r, 2, "0000 00 01 00000000000003e8 00")
    }
}
