import Testing
import Synchronization
@testable import KafkaClient
import KafkaNet
import KafkaProtocol
import KafkaTestSupport

/// The metadata cache owns refreshing: requests coalesce into one Metadata request and are
/// rate-limited (`retry.backoff.ms`), against the fake broker.
@Suite struct MetadataCacheTests {
    /// A broker whose Metadata answers take `delay`, so that requesters overlap deterministically.
    func slowMetadataBroker(delay: Duration = .milliseconds(300)) throws -> FakeBroker {
        let broker = try FakeBroker { req, broker in
            let action = broker.defaultAction(req)
            if req.header.apiKey == .metadata, case let .respond(body) = action { return .respondAfter(delay, body) }
            return action
        }
        broker.addTopic("a", partitions: 2)
        broker.addTopic("b", partitions: 1)
        return broker
    }

    func cluster(_ broker: FakeBroker, backoff: Duration = .milliseconds(10)) throws -> Cluster {
        var c = ClientConfig(bootstrapServers: [broker.address])
        c.retryBackoff = backoff
        c.allowAutoCreateTopics = false
        return try Cluster(config: c)
    }

    func metadataRequests(_ broker: FakeBroker) -> [MetadataRequest] {
        broker.received.filter { $0.header.apiKey == .metadata }.compactMap { try? $0.decode(MetadataRequest.self) }
    }

    @Test func concurrentRequestersShareOneMetadataRequest() async throws {
        let broker = try slowMetadataBroker()
        defer { broker.stop() }
        let c = try cluster(broker)
        defer { c.close() }
        let answers = try await withThrowingTaskGroup(of: ClusterMetadata.self) { g in
            for _ in 0 ..< 10 { g.addTask { try await c.refreshMetadata(topics: ["a"]) } }
            return try await g.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.count == 10)
        #expect(answers.allSatisfy { $0.topics["a"]?.partitions.count == 2 })
        #expect(metadataRequests(broker).count == 1, "10 concurrent requesters, one Metadata request")
        #expect(c.metadataRequestsSent == 1)
    }

    @Test func requestsNotCoveredByTheOneInFlightMergeIntoOneMore() async throws {
        let broker = try slowMetadataBroker()
        defer { broker.stop() }
        let c = try cluster(broker)
        defer { c.close() }
        async let first = c.refreshMetadata(topics: ["a"])
        // Once the first request is out, ask for other topics while it is in flight.
        try await eventually("the first Metadata request reached the broker") { metadataRequests(broker).count == 1 }
        async let second = c.refreshMetadata(topics: ["b"])
        async let third = c.refreshMetadata(topics: ["a", "b"])
        async let joiner = c.refreshMetadata(topics: ["a"])
        let (m1, m2, m3, m4) = try await (first, second, third, joiner)
        #expect(m1.topics["a"] != nil && m4.topics["a"] != nil)
        #expect(m2.topics["b"] != nil && m3.topics["a"] != nil && m3.topics["b"] != nil)
        let sent = metadataRequests(broker)
        #expect(sent.count == 2, "the one in flight, then one for everything asked meanwhile")
        #expect(sent.last?.topics?.compactMap(\.name).sorted() == ["a", "b"])
    }

    @Test func allTopicsAbsorbsTopicLists() async throws {
        let broker = try slowMetadataBroker()
        defer { broker.stop() }
        let c = try cluster(broker)
        defer { c.close() }
        async let all = c.refreshMetadata(topics: nil)
        try await eventually("the first Metadata request reached the broker") { metadataRequests(broker).count == 1 }
        // Covered by the all-topics request in flight: no second request.
        async let some = c.refreshMetadata(topics: ["b"])
        let (ma, mb) = try await (all, some)
        #expect(ma.topics.keys.sorted() == ["a", "b"] && mb.topics["b"] != nil)
        #expect(metadataRequests(broker).count == 1)
    }

    @Test func refreshesAreAtLeastTheBackoffApart() async throws {
        let broker = try slowMetadataBroker(delay: .zero)
        defer { broker.stop() }
        let c = try cluster(broker, backoff: .milliseconds(300))
        defer { c.close() }
        let start = ContinuousClock.now
        try await c.refreshMetadata(topics: ["a"])
        try await c.refreshMetadata(topics: ["a"])
        try await c.refreshMetadata(topics: ["a"])
        #expect(ContinuousClock.now - start >= .milliseconds(600), "three requests, 300 ms apart at least")
        #expect(metadataRequests(broker).count == 3)
    }

    @Test func aCancelledWaiterLeavesTheOthersTheirAnswer() async throws {
        let broker = try slowMetadataBroker()
        defer { broker.stop() }
        let c = try cluster(broker)
        defer { c.close() }
        let cancelled = Task { try await c.refreshMetadata(topics: ["a"]) }
        async let kept = c.refreshMetadata(topics: ["a"])
        try await eventually("the first Metadata request reached the broker") { metadataRequests(broker).count == 1 }
        cancelled.cancel()
        await #expect(throws: KafkaError.self) { try await cancelled.value }
        #expect(try await kept.topics["a"] != nil)
        #expect(metadataRequests(broker).count == 1)
    }

    @Test func theMergedViewKeepsNewerEpochsAcrossAnswers() async throws {
        // Partition a/0 answers epoch 5 first, then a lagging 4: the cache keeps leader epoch 5.
        let epochs = Mutex<[Int32]>([5, 4])
        let broker = try FakeBroker { req, broker in
            guard req.header.apiKey == .metadata else { return broker.defaultAction(req) }
            let epoch = epochs.withLock { $0.isEmpty ? 4 : $0.removeFirst() }
            var r = MetadataResponse()
            r.brokers = [.init(nodeId: broker.nodeId, host: broker.host, port: Int32(broker.port))]
            r.controllerId = broker.nodeId
            var t = MetadataResponse.Topic()
            t.name = "a"
            var p = MetadataResponse.Partition()
            p.partitionIndex = 0
            p.leaderId = broker.nodeId
            p.leaderEpoch = epoch
            t.partitions = [p]
            r.topics = [t]
            return .respond(broker.body(r, for: req))
        }
        defer { broker.stop() }
        let c = try cluster(broker)
        defer { c.close() }
        let first = try await c.refreshMetadata(topics: ["a"])
        #expect(first.topics["a"]?.partitions.first?.leaderEpoch == 5)
        let second = try await c.refreshMetadata(topics: ["a"])
        #expect(second.topics["a"]?.partitions.first?.leaderEpoch == 5, "never back to an older epoch")
        #expect(c.router.wanted.contains("a"), "and the topic is asked for again")
    }
}
