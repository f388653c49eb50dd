import Testing
import KafkaClient
import KafkaProtocol
import KafkaTestSupport

/// Against a real broker (Tansu in CI, or any cluster named by KAFKA_BOOTSTRAP).
@Suite(.enabled(if: IntegrationEnvironment.isAvailable, "KAFKA_BOOTSTRAP is not set: start a broker with scripts/broker.sh"))
struct AdminIntegrationTests {
    func admin() throws -> KafkaAdminClient {
        var c = try ClientConfig(properties: ["bootstrap.servers": IntegrationEnvironment.bootstrap ?? ""])
        c.defaultApiTimeout = .seconds(20)
        return try KafkaAdminClient(config: c)
    }

    @Test func metadataListsTheBroker() async throws {
        let a = try admin()
        let m = try await a.refreshMetadata()
        #expect(!m.brokers.isEmpty)
        #expect(m.controllerId.map { m.brokers[$0] != nil } == true, "the controller is one of the brokers")
        let d = try await a.describeCluster()
        #expect(d.brokers.count == m.brokers.count)
        await a.close()
    }

    @Test func createDescribeDeleteTopic() async throws {
        let a = try admin()
        let name = IntegrationEnvironment.uniqueTopic()
        let created = try await a.createTopic(NewTopic(name: name, partitions: 3, replicationFactor: 1))
        #expect(created.name == name)
        #expect(try await a.listTopics().contains { $0.name == name && $0.partitionCount == 3 })
        let t = try await a.describeTopics([name])
        #expect(t[0].partitions.map(\.partition) == [0, 1, 2])
        #expect(t[0].partitions.allSatisfy { $0.leader != nil })
        try await a.deleteTopic(name)
        #expect(try await !a.listTopics().contains { $0.name == name })
        await a.close()
    }

    @Test func duplicateTopicFailsWithTopicAlreadyExists() async throws {
        let a = try admin()
        let name = IntegrationEnvironment.uniqueTopic()
        try await a.createTopic(NewTopic(name: name, partitions: 1, replicationFactor: 1))
        do {
            try await a.createTopic(NewTopic(name: name, partitions: 1, replicationFactor: 1))
            Issue.record("expected TOPIC_ALREADY_EXISTS")
        } catch let e as KafkaError {
            #expect(e.code == .topicAlreadyExists)
        }
        try await a.deleteTopic(name)
        await a.close()
    }

    @Test func deletingAnUnknownTopicFails() async throws {
        let a = try admin()
        do {
            try await a.deleteTopic(IntegrationEnvironment.uniqueTopic("missing"))
            Issue.record("expected an error")
        } catch let e as KafkaError {
            #expect(e.code == .unknownTopicOrPartition)
        }
        await a.close()
    }

    @Test func describingAnUnknownTopicDoesNotCreateIt() async throws {
        let a = try admin()
        let name = IntegrationEnvironment.uniqueTopic("nocreate")
        await #expect(throws: KafkaError.self) { try await a.describeTopics([name]) }
        #expect(try await !a.listTopics().contains { $0.name == name })
        await a.close()
    }
}
