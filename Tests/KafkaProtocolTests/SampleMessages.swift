@testable import KafkaProtocol

/// Values with a non-default value in every field that exists at the given version (and the
/// default in every field that does not), shared by the round-trip, JSON and schema tests.
enum Samples {
    static let uuidA = KafkaUUID(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
    static let uuidB = KafkaUUID(high: 0x1111_2222_3333_4444, low: 0x5555_6666_7777_8888)

    /// Unknown tagged fields for a flexible struct (none otherwise). Tag 1000 needs a 2-byte varint.
    static func unknown(_ flexible: Bool) -> [TaggedField] {
        flexible ? [TaggedField(tag: 90, data: [0xDE, 0xAD]), TaggedField(tag: 1000, data: [])] : []
    }

    // MARK: ApiVersions

    static func apiVersionsRequest(_ v: Int16) -> ApiVersionsRequest {
        var m = v >= 3 ? ApiVersionsRequest(clientSoftwareName: "kwire", clientSoftwareVersion: "0.1.0-beta") : ApiVersionsRequest()
        m.unknownTaggedFields = unknown(v >= 3)
        return m
    }

    static func apiVersionsResponse(_ v: Int16) -> ApiVersionsResponse {
        let flex = v >= 3
        var m = ApiVersionsResponse()
        m.errorCode = 35
        var a = ApiVersionsResponse.ApiVersion(apiKey: 18, minVersion: 0, maxVersion: 4)
        a.unknownTaggedFields = unknown(flex)
        m.apiKeys = [a, .init(apiKey: 3, minVersion: 1, maxVersion: 13)]
        m.throttleTimeMs = v >= 1 ? 250 : 0
        if flex {
            var sf = ApiVersionsResponse.SupportedFeature()
            sf.name = "metadata.version"
            sf.minVersion = 1
            sf.maxVersion = 27
            sf.unknownTaggedFields = unknown(true)
            var ff = ApiVersionsResponse.FinalizedFeature()
            ff.name = "kraft.version"
            ff.maxVersionLevel = 1
            ff.minVersionLevel = 0
            m.supportedFeatures = [sf]
            m.finalizedFeaturesEpoch = 42
            m.finalizedFeatures = [ff]
            m.zkMigrationReady = true
        }
        m.unknownTaggedFields = unknown(flex)
        return m
    }

    // MARK: Metadata

    static func metadataRequest(_ v: Int16) -> MetadataRequest {
        var m = MetadataRequest()
        var t1 = MetadataRequest.Topic(name: "orders")
        var t2 = MetadataRequest.Topic(name: "payments")
        if v >= 10 {
            t1.topicId = uuidA
            t2 = MetadataRequest.Topic()
            t2.name = nil
            t2.topicId = uuidB
        }
        t1.unknownTaggedFields = unknown(v >= 9)
        m.topics = [t1, t2]
        m.allowAutoTopicCreation = v >= 4 ? false : true
        m.includeClusterAuthorizedOperations = (8 ... 10).contains(v)
        m.includeTopicAuthorizedOperations = v >= 8
        m.unknownTaggedFields = unknown(v >= 9)
        return m
    }

    static func metadataResponse(_ v: Int16) -> MetadataResponse {
        let flex = v >= 9
        var m = MetadataResponse()
        m.throttleTimeMs = v >= 3 ? 123 : 0
        var b1 = MetadataResponse.Broker(nodeId: 1, host: "b1.example.com", port: 9092, rack: v >= 1 ? "rack-a" : nil)
        b1.unknownTaggedFields = unknown(flex)
        m.brokers = [b1, .init(nodeId: 2, host: "b2", port: 9093)]
        m.clusterId = v >= 2 ? "cluster-xyz" : nil
        m.controllerId = v >= 1 ? 2 : -1

        var p0 = MetadataResponse.Partition()
        p0.errorCode = 0
        p0.partitionIndex = 0
        p0.leaderId = 1
        p0.leaderEpoch = v >= 7 ? 5 : -1
        p0.replicaNodes = [1, 2]
        p0.isrNodes = [1]
        p0.offlineReplicas = v >= 5 ? [2] : []
        p0.unknownTaggedFields = unknown(flex)
        var p1 = MetadataResponse.Partition()
        p1.errorCode = 9
        p1.partitionIndex = 1
        p1.leaderId = -1
        p1.leaderEpoch = v >= 7 ? 0 : -1
        p1.replicaNodes = [2, 1]
        p1.isrNodes = []

        var t = MetadataResponse.Topic()
        t.errorCode = 0
        t.name = "orders"
        t.topicId = v >= 10 ? uuidA : .zero
        t.isInternal = v >= 1
        t.partitions = [p0, p1]
        t.topicAuthorizedOperations = v >= 8 ? 0x0F00 : Int32.min
        t.unknownTaggedFields = unknown(flex)
        m.topics = [t]
        if v >= 12 {
            var missing = MetadataResponse.Topic()
            missing.errorCode = 100
            missing.name = nil
            missing.topicId = uuidB
            m.topics.append(missing)
        }
        m.clusterAuthorizedOperations = (8 ... 10).contains(v) ? 0x7F : Int32.min
        m.errorCode = v >= 13 ? 41 : 0
        m.unknownTaggedFields = unknown(flex)
        return m
    }

    // MARK: CreateTopics

    static func createTopicsRequest(_ v: Int16) -> CreateTopicsRequest {
        let flex = v >= 5
        var t1 = CreateTopicsRequest.Topic(name: "t1", numPartitions: -1, replicationFactor: -1, configs: [
            .init(name: "cleanup.policy", value: "compact"), .init(name: "retention.ms", value: nil),
        ])
        var a0 = CreateTopicsRequest.Assignment(partitionIndex: 0, brokerIds: [1, 2])
        a0.unknownTaggedFields = unknown(flex)
        t1.assignments = [a0, .init(partitionIndex: 1, brokerIds: [2, 3])]
        t1.configs[0].unknownTaggedFields = unknown(flex)
        t1.unknownTaggedFields = unknown(flex)
        var m = CreateTopicsRequest()
        m.topics = [t1, .init(name: "t2", numPartitions: 3, replicationFactor: 2)]
        m.timeoutMs = 30000
        m.validateOnly = true
        m.unknownTaggedFields = unknown(flex)
        return m
    }

    static func createTopicsResponse(_ v: Int16) -> CreateTopicsResponse {
        let flex = v >= 5
        var c1 = CreateTopicsResponse.Config()
        c1.name = "cleanup.policy"
        c1.value = "compact"
        c1.readOnly = true
        c1.configSource = 5
        c1.isSensitive = true
        c1.unknownTaggedFields = unknown(flex)
        var c2 = CreateTopicsResponse.Config()
        c2.name = "sasl.jaas.config"
        c2.value = nil
        c2.configSource = 1
        var t1 = CreateTopicsResponse.Topic()
        t1.name = "t1"
        t1.topicId = v >= 7 ? uuidA : .zero
        t1.errorCode = 0
        t1.errorMessage = nil
        t1.topicConfigErrorCode = flex ? 29 : nil
        t1.numPartitions = flex ? 3 : -1
        t1.replicationFactor = flex ? 2 : -1
        t1.configs = flex ? [c1, c2] : []
        t1.unknownTaggedFields = unknown(flex)
        var t2 = CreateTopicsResponse.Topic()
        t2.name = "t2"
        t2.errorCode = 36
        t2.errorMessage = "Topic 't2' already exists."
        t2.configs = flex ? nil : []
        var m = CreateTopicsResponse()
        m.throttleTimeMs = 10
        m.topics = [t1, t2]
        m.unknownTaggedFields = unknown(flex)
        return m
    }

    // MARK: DeleteTopics

    static func deleteTopicsRequest(_ v: Int16) -> DeleteTopicsRequest {
        var m = DeleteTopicsRequest()
        if v >= 6 {
            var t = DeleteTopicsRequest.Topic(name: "a")
            t.unknownTaggedFields = unknown(true)
            m.topics = [t, .init(name: nil, topicId: uuidA)]
        } else {
            m.topicNames = ["a", "bb"]
        }
        m.timeoutMs = 15000
        m.unknownTaggedFields = unknown(v >= 4)
        return m
    }

    static func deleteTopicsResponse(_ v: Int16) -> DeleteTopicsResponse {
        var r1 = DeleteTopicsResponse.Result()
        r1.name = "a"
        r1.topicId = v >= 6 ? uuidA : .zero
        r1.unknownTaggedFields = unknown(v >= 4)
        var r2 = DeleteTopicsResponse.Result()
        r2.name = v >= 6 ? nil : "bb"
        r2.topicId = v >= 6 ? uuidB : .zero
        r2.errorCode = 3
        r2.errorMessage = v >= 5 ? "This server does not host this topic-partition." : nil
        var m = DeleteTopicsResponse()
        m.throttleTimeMs = 7
        m.responses = [r1, r2]
        m.unknownTaggedFields = unknown(v >= 4)
        return m
    }

    // MARK: SASL

    static func saslHandshakeRequest(_ v: Int16) -> SaslHandshakeRequest { SaslHandshakeRequest(mechanism: "SCRAM-SHA-512") }

    static func saslHandshakeResponse(_ v: Int16) -> SaslHandshakeResponse {
        var m = SaslHandshakeResponse()
        m.errorCode = 33
        m.mechanisms = ["PLAIN", "SCRAM-SHA-256", ""]
        return m
    }

    static func saslAuthenticateRequest(_ v: Int16) -> SaslAuthenticateRequest {
        var m = SaslAuthenticateRequest(authBytes: [0x00] + utf8("user") + [0x00] + utf8("pä55") + [0xFF])
        m.unknownTaggedFields = unknown(v >= 2)
        return m
    }

    static func saslAuthenticateResponse(_ v: Int16) -> SaslAuthenticateResponse {
        var m = SaslAuthenticateResponse()
        m.errorCode = 58
        m.errorMessage = "Authentication failed"
        m.authBytes = [0x72, 0x3D, 0x00, 0xFF]
        m.sessionLifetimeMs = v >= 1 ? 3_600_000 : 0
        m.unknownTaggedFields = unknown(v >= 2)
        return m
    }
}
