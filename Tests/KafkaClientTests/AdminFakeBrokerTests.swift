import Testing
import Synchronization
@testable import KafkaClient
import KafkaNet
import KafkaProtocol
import KafkaTestSupport

/// Admin client behaviour against the in-process fake broker.
@Suite struct AdminFakeBrokerTests {
    func admin(_ servers: [String], configure: (inout ClientConfig) -> Void = { _ in }) throws -> KafkaAdminClient {
        var c = ClientConfig(bootstrapServers: servers)
        c.defaultApiTimeout = .seconds(20)  // bounds a failure; a pass takes milliseconds (the budget cuts every attempt, so keep it above a loaded machine's stalls)
        c.retryBackoff = .milliseconds(10)
        configure(&c)
        return try KafkaAdminClient(config: c)
    }

    @Test func createListDescribeDelete() async throws {
        let broker = try FakeBroker()
        defer { broker.stop() }
        let a = try admin([broker.address])
        let created = try await a.createTopic(NewTopic(name: "orders", partitions: 3, configs: ["cleanup.policy": "compact"]))
        #expect(created.partitions == 3)
        let req = try #require(broker.received.last { $0.header.apiKey == .createTopics }).decode(CreateTopicsRequest.self)
        #expect(req.topics[0].numPartitions == 3)
        #expect(req.topics[0].replicationFactor == -1)
        #expect(req.topics[0].configs == [.init(name: "cleanup.policy", value: "compact")])
        #expect(try await a.listTopics().map(\.name) == ["orders"])
        let d = try await a.describeTopics(["orders"])
        #expect(d[0].partitions.map(\.partition) == [0, 1, 2])
        try await a.deleteTopic("orders")
        #expect(try await a.listTopics().isEmpty)
        await a.close()
    }

    @Test func duplicateTopicIsANamedBrokerError() async throws {
        let broker = try FakeBroker()
        broker.addTopic("dup", partitions: 1)
        defer { broker.stop() }
        let a = try admin([broker.address])
        do {
            try await a.createTopic(NewTopic(name: "dup", partitions: 1))
            Issue.record("expected TOPIC_ALREADY_EXISTS")
        } catch let e as KafkaError {
            #expect(e.code == .topicAlreadyExists)
            #expect(e.code?.name == "TOPIC_ALREADY_EXISTS")
            #expect(!e.isRetriable)
            #expect(e.context.topic == "dup")
        }
    }

    @Test func perTopicResultsKeepOrderAndErrors() async throws {
        let broker = try FakeBroker()
        broker.addTopic("exists", partitions: 1)
        defer { broker.stop() }
        let a = try admin([broker.address])
        let results = try await a.createTopics([NewTopic(name: "new1", partitions: 2), NewTopic(name: "exists", partitions: 1)])
        #expect((try? results[0].get())?.name == "new1")
        guard case let .failure(e) = results[1] else { Issue.record("expected failure"); return }
        #expect(e.code == .topicAlreadyExists)
    }

    @Test func invalidArgumentsAreRejectedBeforeSending() async throws {
        let broker = try FakeBroker()
        defer { broker.stop() }
        let a = try admin([broker.address])
        await #expect(throws: KafkaError.self) { try await a.createTopic(NewTopic(name: "x", partitions: 0)) }
        await #expect(throws: KafkaError.self) { try await a.createTopic(NewTopic(name: "", partitions: 1)) }
        #expect(broker.received.allSatisfy { $0.header.apiKey != .createTopics })
    }

    @Test func validateOnlyDoesNotCreate() async throws {
        let broker = try FakeBroker()
        defer { broker.stop() }
        let a = try admin([broker.address])
        try await a.createTopic(NewTopic(name: "v", partitions: 1), validateOnly: true)
        #expect(broker.topics["v"] == nil)
    }

    @Test func deleteUnknownTopicIsANamedError() async throws {
        let broker = try FakeBroker()
        defer { broker.stop() }
        let a = try admin([broker.address])
        do {
            try await a.deleteTopic("ghost")
            Issue.record("expected an error")
        } catch let e as KafkaError {
            #expect(e.code == .unknownTopicOrPartition)
        }
    }

    @Test func bootstrapTriesEachServer() async throws {
        let dead = try FakeBroker()
        let deadAddress = dead.address
        dead.stop()
        let broker = try FakeBroker()
        defer { broker.stop() }
        let a = try admin([deadAddress, broker.address])
        let d = try await a.describeCluster()
        #expect(d.clusterId == "fake-cluster")
        #expect(d.brokers.map(\.nodeId) == [broker.nodeId])
        #expect(d.controller?.nodeId == broker.nodeId)
    }

    @Test func unreachableClusterFailsWithAConnectionErrorWithinTheApiTimeout() async throws {
        let dead = try FakeBroker()
        let address = dead.address
        dead.stop()
        let a = try admin([address]) { $0.defaultApiTimeout = .seconds(2) }
        let start = ContinuousClock.now
        do {
            _ = try await a.listTopics()
            Issue.record("expected an error")
        } catch let e as KafkaError {
            #expect(e.kind == .timeout || e.kind == .connection)
            #expect(e.description.contains(address))
        }
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    @Test func metadataIsRefreshedPeriodically() async throws {
        let broker = try FakeBroker()
        defer { broker.stop() }
        let a = try admin([broker.address]) { $0.metadataMaxAge = .milliseconds(100) }
        defer { Task { await a.close() } }
        _ = try await a.metadata()
        let before = broker.received.filter { $0.header.apiKey == .metadata }.count
        // Wait (bounded) until the background refresher has asked again at least twice.
        let deadline = ContinuousClock.now + .seconds(30)
        while broker.received.filter({ $0.header.apiKey == .metadata }).count < before + 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(broker.received.filter { $0.header.apiKey == .metadata }.count >= before + 2)
    }

    @Test func metadataSeesTopicsAddedLater() async throws {
        let broker = try FakeBroker()
        defer { broker.stop() }
        let a = try admin([broker.address])
        #expect(try await a.refreshMetadata().topics.isEmpty)
        broker.addTopic("late", partitions: 4)
        let m = try await a.refreshMetadata()
        #expect(m.topics["late"]?.partitions.count == 4)
        #expect(m.leader(topic: "late", partition: 3)?.nodeId == broker.nodeId)
    }

    @Test func closedClientFailsWithClosed() async throws {
        let broker = try FakeBroker()
        defer { broker.stop() }
        let a = try admin([broker.address])
        await a.close()
        do {
            _ = try await a.listTopics()
            Issue.record("expected an error")
        } catch let e as KafkaError {
            #expect(e.kind == .closed)
        }
    }
}
