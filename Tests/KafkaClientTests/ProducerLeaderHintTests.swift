import Synchronization
import Testing
@testable import KafkaClient
import KafkaProtocol
import KafkaTestSupport

/// The producer applies KIP-951 hints (Produce v10+ `current_leader` + `node_endpoints`) through
/// the shared router: a batch refused by a former leader is retried at the new one without a
/// Metadata round trip, and a hint no newer than what is known changes nothing.
@Suite struct ProducerLeaderHintTests {
    static func producer(_ broker: FakeBroker) throws -> KafkaProducer {
        try KafkaProducer(properties: [
            "bootstrap.servers": broker.address, "linger.ms": "0", "retry.backoff.ms": "20", "retry.backoff.max.ms": "100",
            "request.timeout.ms": "5000", "delivery.timeout.ms": "20000", "metadata.max.age.ms": "600000",
        ])
    }

    /// Leadership of t-0 moves from broker 1 to broker 3, which started after the producer
    /// read the metadata (so only the answer's `node_endpoints` say where it is). Returns the
    /// second record's offset, the Produce log and the Metadata requests the move cost.
    static func moveAndSend(hints: Bool) async throws -> (offset: Int64?, produces: [FakeCluster.ProduceSeen], metadataForTheMove: Int) {
        let cluster = FakeCluster(leaderHints: hints)
        let one = try cluster.startBroker(nodeId: 1)
        let two = try cluster.startBroker(nodeId: 2)
        defer { one.stop(); two.stop() }
        cluster.createTopic("t", partitions: 1, leader: 1)
        let p = try producer(one)
        let first = try await p.send(ProducerRecord(topic: "t", partition: 0, key: nil, value: "a"))
        #expect(first.offset == 0)
        let three = try cluster.startBroker(nodeId: 3)
        defer { three.stop() }
        cluster.moveLeader("t", 0, to: 3)
        let before = cluster.metadataRequests.values.reduce(0, +)
        let second = try await p.send(ProducerRecord(topic: "t", partition: 0, key: nil, value: "b"))
        let after = cluster.metadataRequests.values.reduce(0, +)
        await p.close()
        return (second.offset, cluster.produces, after - before)
    }

    @Test(.timeLimit(.minutes(1)))
    func retryGoesToTheHintedLeaderWithoutMetadata() async throws {
        let (offset, produces, metadata) = try await Self.moveAndSend(hints: true)
        #expect(offset == 1, "appended after the first record, in the moved leader's log")
        let last = try #require(produces.last)
        #expect(last.broker == 3 && last.answered.map(\.1) == [.noError] && last.version >= 10)
        let refused = produces.filter { $0.answered.contains { $0.1 == .notLeaderOrFollower } }
        #expect(refused.count == 1 && refused.allSatisfy { $0.broker == 1 && $0.hinted })
        #expect(metadata == 0, "the hint, not a Metadata answer, moved the partition")
    }

    /// Without hints the same move needs a Metadata answer: more Metadata requests than with.
    @Test(.timeLimit(.minutes(1)))
    func withoutHintsTheMoveCostsMetadata() async throws {
        let hinted = try await Self.moveAndSend(hints: true)
        let unhinted = try await Self.moveAndSend(hints: false)
        #expect(unhinted.offset == 1 && unhinted.produces.last?.broker == 3)
        #expect(unhinted.produces.allSatisfy { !$0.hinted })
        #expect(unhinted.metadataForTheMove >= 1)
        #expect(hinted.metadataForTheMove < unhinted.metadataForTheMove)
    }

    /// A hint whose epoch is not newer than the router's is ignored: the route stays, nothing
    /// is reported moved (the producer then refreshes metadata as without hints); a newer one
    /// moves the partition, and its endpoint is registered first.
    @Test func staleHintIsIgnored() async throws {
        let cluster = FakeCluster()
        let one = try cluster.startBroker(nodeId: 1)
        let two = try cluster.startBroker(nodeId: 2)
        defer { one.stop(); two.stop() }
        cluster.createTopic("t", partitions: 1, leader: 1)
        cluster.moveLeader("t", 0, to: 2)  // epoch 1
        let c = try Cluster(config: ClientConfig(bootstrapServers: [one.address]))
        _ = try await c.refreshMetadata(topics: ["t"])
        let tp = TopicPartition(topic: "t", partition: 0)
        #expect(c.router.leader(for: tp) == 2 && c.router.leaderEpoch(for: tp) == 1)

        func answer(leader: Int32, epoch: Int32, endpoint: ProduceResponse.NodeEndpoint?) -> ProduceResponse {
            var p = ProduceResponse.Partition()
            p.errorCode = KafkaErrorCode.notLeaderOrFollower.rawValue
            p.currentLeader = .init(leaderId: leader, leaderEpoch: epoch)
            var t = ProduceResponse.Topic()
            t.name = "t"
            t.partitionResponses = [p]
            var r = ProduceResponse()
            r.responses = [t]
            r.nodeEndpoints = endpoint.map { [$0] }
            return r
        }
        #expect(c.applyLeaderHints(answer(leader: 1, epoch: 0, endpoint: nil)).isEmpty, "older epoch")
        #expect(c.applyLeaderHints(answer(leader: 1, epoch: 1, endpoint: nil)).isEmpty, "same epoch")
        #expect(c.router.leader(for: tp) == 2 && c.router.leaderEpoch(for: tp) == 1)

        let endpoint = ProduceResponse.NodeEndpoint(nodeId: 9, host: "127.0.0.1", port: 1)
        #expect(c.applyLeaderHints(answer(leader: 9, epoch: 2, endpoint: endpoint)) == [tp])
        #expect(c.router.leader(for: tp) == 9 && c.router.leaderEpoch(for: tp) == 2)
        #expect(c.router.broker(9)?.port == 1, "the endpoint was registered before the move")
        c.close()
    }
}
