import Testing
import KafkaClient

/// The client API as a user who imported only KafkaClient writes it: configs (with TLS and
/// SASL), records, errors by code, codecs, partitioners and assignors — no broker needed.
@Suite struct ClientAPITests {
    @Test func propertiesAndTypedSettingsMeetInOneConfig() throws {
        var config = try ProducerConfig(properties: [
            "bootstrap.servers": "localhost:9092", "compression.type": "zstd", "linger.ms": "20",
            "security.protocol": "sasl_ssl", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "alice", "sasl.password": "secret",
            "ssl.ca.location": "/etc/ca.pem",
        ])
        #expect(config.compression == RecordCompression.zstd)
        #expect(config.linger == .milliseconds(20))
        #expect(config.client.securityProtocol == .saslSSL)
        #expect(config.client.saslMechanism == SaslMechanism.scramSHA512)
        #expect(config.client.tls.caLocation == "/etc/ca.pem")
        var tls = TLSConfiguration()
        tls.verifyHostname = false
        config.client.tls = tls
        config.client.oauthBearerTokenProvider = { OAuthBearerToken(value: "token") }
        config.partitioner = .custom { _, _, count in count - 1 }
        try config.validate()
    }

    @Test func groupMetadataIsNilWithoutAGroupAndNamesTheGroupBeforeTheFirstJoin() async throws {
        let lone = try KafkaConsumer(properties: ["bootstrap.servers": "localhost:1"])
        #expect(lone.groupMetadata == nil)
        await lone.close()
        let member = try KafkaConsumer(properties: ["bootstrap.servers": "localhost:1", "group.id": "g1", "group.instance.id": "i1"])
        #expect(member.groupMetadata == ConsumerGroupMetadata(groupId: "g1", groupInstanceId: "i1"))
        #expect(member.groupMetadata?.description == "group g1 generation none member none instance i1")
        await member.close()
    }

    @Test func errorsAreMatchedByCodeAndSayWhetherToRetry() {
        let exists = KafkaError.broker(.topicAlreadyExists, "orders")
        #expect(exists.code == .topicAlreadyExists)
        #expect(!exists.isRetriable)
        let moved: KafkaErrorCode = .notLeaderOrFollower
        #expect(moved.isRetriable)
        #expect(moved.name == "NOT_LEADER_OR_FOLLOWER")
        #expect(KafkaErrorCode(rawValue: 6) == moved)
        let local = KafkaError(.timeout, "no answer", context: .init(apiKey: ApiKey.produce, topic: "orders", partition: 2))
        #expect(local.kind == .timeout)
        #expect(local.code == nil)
        #expect(local.context.partition == 2)
    }

    @Test func recordsCanBeBuiltAndFaked() {
        let header = RecordHeader(key: "trace", value: ArraySlice("abc".utf8))
        let out = ProducerRecord(topic: "orders", key: "k", value: "v", headers: [header])
        #expect(out.headers == [header])
        let record = ConsumerRecord(topic: "orders", partition: 1, offset: 7, timestampType: TimestampType.logAppendTime, value: ArraySlice("v".utf8))
        #expect(record.topicPartition == TopicPartition(topic: "orders", partition: 1))
        #expect(record.timestampType == .logAppendTime)
        #expect(record.valueString == "v")
    }

    /// A custom assignor written against the public protocol; the built-in ones by name.
    @Test func assignorsArePluggableAndNamed() throws {
        struct Everything: PartitionAssignor {
            var name: String { "everything-to-first" }
            var rebalanceProtocol: RebalanceProtocol { .eager }
            func userData(ownedPartitions: [TopicPartition], generationId: Int32?) -> [UInt8]? { nil }
            func assign(members: [GroupMemberSubscription], partitionsPerTopic: [String: Int32]) -> [String: [TopicPartition]] {
                let ids = members.map(\.memberId).sorted()
                var out = Dictionary(uniqueKeysWithValues: ids.map { ($0, [TopicPartition]()) })
                if let first = ids.first {
                    out[first] = partitionsPerTopic.sorted { $0.key < $1.key }.flatMap { t, n in (0 ..< n).map { TopicPartition(topic: t, partition: $0) } }
                }
                return out
            }
        }
        let members = [GroupMemberSubscription(memberId: "b", topics: ["t"]), GroupMemberSubscription(memberId: "a", topics: ["t"])]
        let plan = Everything().assign(members: members, partitionsPerTopic: ["t": 2])
        #expect(plan == ["a": [TopicPartition(topic: "t", partition: 0), TopicPartition(topic: "t", partition: 1)], "b": []])
        #expect(try PartitionAssignors.named("range").name == "range")
    }
}
