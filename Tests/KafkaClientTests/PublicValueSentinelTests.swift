import Testing
@testable import KafkaClient
import KafkaProtocol
import KafkaTestSupport

/// The client API says "unknown" with nil, never with the wire's -1, "" or zero id: each
/// conversion happens once at the client edge (issue 13). One test per public value that used
/// to carry a sentinel.
@Suite struct PublicValueSentinelTests {
    /// A Metadata answer's "did not say" values: controller -1, leader epoch -1, the zero topic id.
    @Test func metadataUnknownsAreNil() {
        var r = MetadataResponse()
        r.controllerId = -1
        var t = MetadataResponse.Topic()
        t.name = "t"
        t.topicId = .zero
        var p = MetadataResponse.Partition()
        p.leaderId = -1
        p.leaderEpoch = -1
        t.partitions = [p]
        r.topics = [t]
        let m = ClusterMetadata(r)
        #expect(m.controllerId == nil)
        #expect(m.topics["t"]?.topicId == nil)
        #expect(m.topics["t"]?.partitions.first?.leader == nil)
        #expect(m.topics["t"]?.partitions.first?.leaderEpoch == nil)

        r.controllerId = 3
        r.topics[0].topicId = KafkaUUID(high: 1, low: 2)
        r.topics[0].partitions[0].leaderId = 3
        r.topics[0].partitions[0].leaderEpoch = 0
        let known = ClusterMetadata(r)
        #expect(known.controllerId == 3)
        #expect(known.topics["t"]?.topicId == KafkaUUID(high: 1, low: 2))
        #expect(known.topics["t"]?.partitions.first?.leaderEpoch == 0, "epoch 0 is a real epoch, not unknown")
    }

    /// CreateTopics before v5 (and a broker answering -1) does not say the partition count or
    /// the replication factor; before v7 not the topic id.
    @Test func createdTopicUnknownsAreNil() async throws {
        let broker = try FakeBroker { req, b in
            guard req.header.apiKey == .createTopics, let c = try? req.decode(CreateTopicsRequest.self) else { return b.defaultAction(req) }
            var r = CreateTopicsResponse()
            r.topics = c.topics.map { t in
                var out = CreateTopicsResponse.Topic()
                out.name = t.name
                out.numPartitions = t.name == "said" ? 4 : -1
                out.replicationFactor = t.name == "said" ? 2 : -1
                if t.name == "said" { out.topicId = KafkaUUID(high: 7, low: 7) }
                return out
            }
            return .respond(b.body(r, for: req))
        }
        defer { broker.stop() }
        var c = ClientConfig(bootstrapServers: [broker.address])
        c.defaultApiTimeout = .seconds(20)  // bounds a failure; a pass takes milliseconds (the budget cuts every attempt, so keep it above a loaded machine's stalls)
        let a = try KafkaAdminClient(config: c)
        let unsaid = try await a.createTopic(NewTopic(name: "unsaid"))
        #expect(unsaid.partitions == nil && unsaid.replicationFactor == nil && unsaid.topicId == nil)
        let said = try await a.createTopic(NewTopic(name: "said"))
        #expect(said.partitions == 4 && said.replicationFactor == 2 && said.topicId == KafkaUUID(high: 7, low: 7))
        await a.close()
    }

    /// ListOffsets by timestamp answers -1 when no record is that new: nil, while a match and
    /// the log's ends stay offsets.
    @Test func listOffsetsByTimestampWithoutMatchIsNil() async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 1, leader: 1)
        cluster.appendRecords("t", 0, ["a", "b"], timestamp: 1_000)
        cluster.appendRecords("t", 0, ["c"], timestamp: 2_000)
        var c = ClientConfig(bootstrapServers: [broker.address])
        c.defaultApiTimeout = .seconds(20)  // bounds a failure; a pass takes milliseconds (the budget cuts every attempt, so keep it above a loaded machine's stalls)
        let a = try KafkaAdminClient(config: c)
        let tp = TopicPartition(topic: "t", partition: 0)
        #expect(try await a.listOffsets([tp], spec: .timestamp(1_500))[tp]?.get() == .some(2))
        #expect(try await a.listOffsets([tp], spec: .timestamp(9_000))[tp]?.get() == .some(nil))
        #expect(try await a.listOffsets([tp], spec: .end)[tp]?.get() == .some(3))
        #expect(try await a.listOffsets([tp], spec: .beginning)[tp]?.get() == .some(0))
        await a.close()
    }

    /// `watermarks(tp)` is nil for an assigned partition until a successful Fetch answer (it
    /// used to return high = -1 at once); error answers do not make it up; the first success
    /// does.
    @Test(.timeLimit(.minutes(1)))
    func watermarksAreNilUntilASuccessfulFetch() async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 1, leader: 1)
        FakeLog.fill(cluster, "t", 0, count: 10)
        cluster.failFetches("t", 0, with: .notLeaderOrFollower, count: 100_000)
        let tp = TopicPartition(topic: "t", partition: 0)
        let c = try FakeLog.consumer(broker)
        try await c.assign([tp], from: .beginning)
        #expect(c.watermarks(tp) == nil)
        // One fetch per broker at a time: once a second error answer is recorded, the first
        // has been applied.
        try await eventually("two NOT_LEADER_OR_FOLLOWER answers") {
            cluster.fetches.flatMap(\.answered).filter { $0.1 == .notLeaderOrFollower }.count >= 2
        }
        #expect(c.watermarks(tp) == nil)
        #expect(c.lag(tp) == nil)
        cluster.healFetches("t", 0)
        FakeLog.expectExactlyOnce(try await FakeLog.read(c, count: 10), counts: [0: 10])
        let marks = try #require(c.watermarks(tp))
        #expect(marks.high == 10)
        #expect(marks.logStart == 0 && marks.lastStable == 10, "Fetch v4+/v5+ say both")
        #expect(c.watermarks(TopicPartition(topic: "t", partition: 9)) == nil, "not assigned")
        await c.close()
    }

    /// The wire's merge rule in one place: -1 keeps the old value, nothing known stays nil.
    @Test func watermarksMerge() {
        #expect(Watermarks.merging(nil, logStart: -1, high: -1, lastStable: -1) == nil)
        #expect(Watermarks.merging(nil, logStart: -1, high: 5, lastStable: -1) == Watermarks(high: 5))
        let old = Watermarks(logStart: 1, high: 5, lastStable: 4)
        #expect(Watermarks.merging(old, logStart: -1, high: -1, lastStable: -1) == old)
        #expect(Watermarks.merging(old, logStart: 2, high: 9, lastStable: -1) == Watermarks(logStart: 2, high: 9, lastStable: 4))
    }

    /// A subscription's -1 generation (librdkafka, kafka-python, a first join) is nil, and nil
    /// goes back on the wire as -1.
    @Test func subscriptionGenerationMinusOneIsNil() throws {
        let none = try ConsumerGroupPayloads.subscription(topics: ["t"], ownedPartitions: [], generationId: nil, rackId: nil, userData: nil)
        let decoded = ConsumerGroupPayloads.members([JoinGroupResponse.Member(memberId: "m", metadata: none)]).subscriptions
        #expect(decoded.map(\.generationId) == [nil])
        #expect(try ConsumerProtocolSubscription.decode(none).value.generationId == -1)
        let five = try ConsumerGroupPayloads.subscription(topics: ["t"], ownedPartitions: [], generationId: 5, rackId: nil, userData: nil)
        #expect(ConsumerGroupPayloads.members([JoinGroupResponse.Member(memberId: "m", metadata: five)]).subscriptions.map(\.generationId) == [5])
    }
}
