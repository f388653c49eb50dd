import Testing
@testable import KafkaProtocol

/// Fields a version lacks: non-ignorable non-default values must throw `ProtocolEncodingError`,
/// ignorable ones are silently dropped (Kafka's generated-code semantics).
@Suite struct VersionGatingTests {
    func encodingError<M: KafkaMessage>(_ m: M, _ version: Int16, sourceLocation: SourceLocation = #_sourceLocation) throws -> ProtocolEncodingError {
        try #require(throws: ProtocolEncodingError.self, "\(M.self) v\(version) should not encode", sourceLocation: sourceLocation) {
            try m.encodedMessage(version: version)
        }
    }

    // MARK: Non-ignorable

    @Test func allowAutoTopicCreationFalseNeedsV4() throws {
        let m = MetadataRequest(topics: ["a"], allowAutoTopicCreation: false)
        for v: Int16 in 0 ... 3 {
            #expect(try encodingError(m, v).field == "allow_auto_topic_creation")
        }
        _ = try m.encodedMessage(version: 4)
        // The default (true) is fine everywhere.
        _ = try MetadataRequest(topics: ["a"], allowAutoTopicCreation: true).encodedMessage(version: 0)
    }

    @Test func includeClusterAuthorizedOperationsOnlyInV8ToV10() throws {
        var m = MetadataRequest(topics: nil, allowAutoTopicCreation: true)
        m.includeClusterAuthorizedOperations = true
        for v: Int16 in [4, 7, 11, 12, 13] {
            #expect(try encodingError(m, v).field == "include_cluster_authorized_operations", "v\(v)")
        }
        for v: Int16 in 8 ... 10 { _ = try m.encodedMessage(version: v) }
    }

    @Test func includeTopicAuthorizedOperationsNeedsV8() throws {
        var m = MetadataRequest(topics: nil, allowAutoTopicCreation: true)
        m.includeTopicAuthorizedOperations = true
        #expect(try encodingError(m, 7).field == "include_topic_authorized_operations")
        _ = try m.encodedMessage(version: 8)
    }

    @Test func validateOnlyIsPresentInEveryCreateTopicsVersion() throws {
        var m = CreateTopicsRequest()
        m.validateOnly = true
        for v in CreateTopicsRequest.versions {
            #expect(try m.encodedMessage(version: v).last == (v >= 5 ? 0x00 : 0x01))
        }
        #expect(try m.encodedMessage(version: 2) == hex("00000000 0000ea60 01"))
    }

    @Test func deleteTopicsTopicsNeedV6() throws {
        var m = DeleteTopicsRequest()
        m.topics = [.init(name: "a")]
        for v: Int16 in 1 ... 5 { #expect(try encodingError(m, v).field == "topics") }
    }

    @Test func nullWhereTheVersionDoesNotAllowIt() throws {
        #expect(try encodingError(MetadataRequest(topics: nil, allowAutoTopicCreation: true), 0).field == "topics")
        var t = MetadataRequest.Topic()
        t.name = nil
        var m = MetadataRequest()
        m.topics = [t]
        #expect(try encodingError(m, 9).field == "name")
        _ = try m.encodedMessage(version: 10)
        var r = DeleteTopicsResponse()
        var res = DeleteTopicsResponse.Result()
        res.name = nil
        r.responses = [res]
        #expect(try encodingError(r, 5).field == "name")
        _ = try r.encodedMessage(version: 6)
        var mr = MetadataResponse()
        var mt = MetadataResponse.Topic()
        mt.name = nil
        mr.topics = [mt]
        #expect(try encodingError(mr, 11).field == "name")
        var cr = CreateTopicsResponse()
        var ct = CreateTopicsResponse.Topic()
        ct.configs = nil
        cr.topics = [ct]
        _ = try cr.encodedMessage(version: 5) // nullable from v5
    }

    @Test func versionOutsideTheRangeIsRejected() throws {
        let e = try encodingError(MetadataRequest(), 14)
        #expect(e == ProtocolEncodingError(field: "MetadataRequest", reason: .unsupportedVersion(14)))
        #expect(try encodingError(CreateTopicsRequest(), 1).reason == .unsupportedVersion(1))
        #expect(try encodingError(DeleteTopicsResponse(), 0).reason == .unsupportedVersion(0))
        #expect(try encodingError(ApiVersionsRequest(), -1).reason == .unsupportedVersion(-1))
        #expect(try encodingError(SaslHandshakeRequest(), 2).reason == .unsupportedVersion(2))
    }

    /// The reasons carry a version number (`Reason.unsupportedAtVersion(Int16)`, described as
    /// "version \(v) cannot carry"), so it must be the version being encoded, not -1.
    @Test func encodingErrorsReportTheVersionBeingEncoded() throws {
        let e = try encodingError(MetadataRequest(topics: ["a"], allowAutoTopicCreation: false), 3)
        #expect(e.reason == .unsupportedAtVersion(3))
        #expect(!e.description.contains("-1"), "\(e.description)")
        let n = try encodingError(MetadataRequest(topics: nil, allowAutoTopicCreation: true), 0)
        #expect(n.reason == .nullNotAllowed(0))
    }

    /// Kafka's schema does not mark these response fields ignorable, so (like Kafka's generated
    /// `write`) a non-default value at a version without them must be refused, not dropped.
    @Test func nonIgnorableResponseFieldsAreNotSilentlyDropped() throws {
        var t = MetadataResponse.Topic()
        t.topicAuthorizedOperations = 0x0F
        var m = MetadataResponse()
        m.topics = [t]
        #expect(throws: ProtocolEncodingError.self, "topic_authorized_operations at v7") { try m.encodedMessage(version: 7) }
        var c = MetadataResponse()
        c.clusterAuthorizedOperations = 0x0F
        #expect(throws: ProtocolEncodingError.self, "cluster_authorized_operations at v7") { try c.encodedMessage(version: 7) }
        #expect(throws: ProtocolEncodingError.self, "cluster_authorized_operations at v11") { try c.encodedMessage(version: 11) }
    }

    // MARK: Ignorable

    @Test func ignorableFieldsAreDroppedSilently() throws {
        // ApiVersions: throttle_time_ms (v1+), client software (v3+).
        var av = ApiVersionsResponse()
        av.throttleTimeMs = 500
        av.supportedFeatures = []
        av.finalizedFeaturesEpoch = 3
        av.zkMigrationReady = true
        #expect(try av.encodedMessage(version: 0) == ApiVersionsResponse().encodedMessage(version: 0))
        #expect(try av.encodedMessage(version: 2) == hex("0000 00000000 000001f4"))
        #expect(try ApiVersionsRequest(clientSoftwareName: "x", clientSoftwareVersion: "y").encodedMessage(version: 2) == [])

        // Metadata response: everything added after v0 is ignorable except the authorized operations.
        var mr = Samples.metadataResponse(13)
        mr.topics.removeLast() // the null-named topic needs v12
        mr.topics[0].topicAuthorizedOperations = Int32.min
        let v0 = try mr.encodedMessage(version: 0)
        var bare = mr
        bare.throttleTimeMs = 0
        bare.clusterId = nil
        bare.controllerId = -1
        bare.errorCode = 0
        bare.brokers[0].rack = nil
        bare.topics[0].topicId = .zero
        bare.topics[0].isInternal = false
        for i in bare.topics[0].partitions.indices {
            bare.topics[0].partitions[i].leaderEpoch = -1
            bare.topics[0].partitions[i].offlineReplicas = []
        }
        #expect(v0 == (try bare.encodedMessage(version: 0)))

        // Metadata request topic id (v10+).
        var req = MetadataRequest(topics: ["a"], allowAutoTopicCreation: true)
        req.topics![0].topicId = Samples.uuidA
        #expect(try req.encodedMessage(version: 9) == MetadataRequest(topics: ["a"], allowAutoTopicCreation: true).encodedMessage(version: 9))

        // CreateTopics response: v5 fields and tag at v4, topic id at v6.
        let ct7 = Samples.createTopicsResponse(7)
        var ct4 = ct7
        for i in ct4.topics.indices {
            ct4.topics[i] = CreateTopicsResponse.Topic()
            ct4.topics[i].name = ct7.topics[i].name
            ct4.topics[i].errorCode = ct7.topics[i].errorCode
            ct4.topics[i].errorMessage = ct7.topics[i].errorMessage
        }
        ct4.unknownTaggedFields = []
        #expect(try ct7.encodedMessage(version: 4) == ct4.encodedMessage(version: 4))
        #expect(try Samples.createTopicsResponse(7).encodedMessage(version: 6) != ct4.encodedMessage(version: 6))

        // DeleteTopics: topic_names at v6, error_message before v5, topic_id before v6.
        var dt = DeleteTopicsRequest(names: ["a"], timeoutMs: 1, version: 6)
        dt.topicNames = ["ignored"]
        #expect(try dt.encodedMessage(version: 6) == DeleteTopicsRequest(names: ["a"], timeoutMs: 1, version: 6).encodedMessage(version: 6))
        var dr = DeleteTopicsResponse()
        var res = DeleteTopicsResponse.Result()
        res.name = "a"
        res.errorMessage = "dropped"
        res.topicId = Samples.uuidA
        dr.responses = [res]
        #expect(try dr.encodedMessage(version: 4) == hex("00000000 02 02 61 0000 00 00"))

        // SaslAuthenticate: session_lifetime_ms before v1.
        var sa = SaslAuthenticateResponse()
        sa.sessionLifetimeMs = 99
        #expect(try sa.encodedMessage(version: 0) == hex("0000 ffff 00000000"))
    }

    @Test func unknownTaggedFieldsAreDroppedInNonFlexibleVersions() throws {
        var m = MetadataRequest(topics: ["a"], allowAutoTopicCreation: true)
        m.unknownTaggedFields = [TaggedField(tag: 7, data: [1])]
        #expect(try m.encodedMessage(version: 8) == hex("00000001 0001 61 01 00 00"))
        #expect(try m.encodedMessage(version: 9) == hex("02 02 61 00 01 00 00 01 07 01 01"))
    }
}
