import Testing
@testable import KafkaClient
import KafkaProtocol

/// The leader-epoch rules (KIP-320, KIP-951) as `TopicRouter` applies them, without I/O.
struct TopicRouterTests {
    let t0 = TopicPartition(topic: "t", partition: 0)
    let t1 = TopicPartition(topic: "t", partition: 1)

    static let brokers: [Int32: ClusterMetadata.Broker] = [
        1: .init(nodeId: 1, host: "b1", port: 9092, rack: nil),
        2: .init(nodeId: 2, host: "b2", port: 9092, rack: nil),
        3: .init(nodeId: 3, host: "b3", port: 9092, rack: nil),
    ]

    /// A Metadata answer for topic `t` naming, per partition, (leader, epoch); epoch -1 is the
    /// wire's "none", which `ClusterMetadata` carries as nil.
    func answer(_ routes: [(Int32?, Int32)], topic: String = "t", error: KafkaErrorCode? = nil, brokers: [Int32: ClusterMetadata.Broker] = brokers) -> ClusterMetadata {
        let partitions = routes.enumerated().map { i, r in
            ClusterMetadata.Partition(partition: Int32(i), leader: r.0, leaderEpoch: r.1 >= 0 ? r.1 : nil, replicas: [], isr: [], offlineReplicas: [],
                                      error: r.0 == nil ? .leaderNotAvailable : nil)
        }
        return ClusterMetadata(controllerId: 1, brokers: brokers, topics: [topic: .init(name: topic, topicId: .zero, isInternal: false, partitions: partitions, error: error)])
    }

    func router(_ routes: [(Int32?, Int32)]) -> TopicRouter {
        var r = TopicRouter()
        r.apply(answer(routes), refreshed: ["t"])
        return r
    }

    // MARK: Metadata answers (KIP-320)

    @Test func firstAnswerIsTakenAsIs() {
        let r = router([(1, 5), (2, 7)])
        #expect(r.leader(for: t0) == 1 && r.leaderEpoch(for: t0) == 5)
        #expect(r.leader(for: t1) == 2 && r.leaderEpoch(for: t1) == 7)
        #expect(r.partitions(of: "t") == [0, 1])
        #expect(r.wanted.isEmpty)
    }

    @Test func newerEpochMovesThePartition() {
        var r = router([(1, 5)])
        r.apply(answer([(2, 6)]), refreshed: ["t"])
        #expect(r.leader(for: t0) == 2 && r.leaderEpoch(for: t0) == 6)
        #expect(r.wanted.isEmpty)
    }

    @Test func sameEpochIsAccepted() {
        var r = router([(1, 5)])
        r.apply(answer([(1, 5)]), refreshed: ["t"])
        #expect(r.leader(for: t0) == 1 && r.leaderEpoch(for: t0) == 5)
        #expect(r.wanted.isEmpty)
    }

    @Test func olderEpochNeverMovesThePartitionBackAndAsksAgain() {
        var r = router([(2, 6), (1, 3)])
        // A lagging broker still names the previous leader of partition 0, and a newer one of 1.
        r.apply(answer([(1, 5), (3, 4)]), refreshed: ["t"])
        #expect(r.leader(for: t0) == 2 && r.leaderEpoch(for: t0) == 6, "kept the newer route")
        #expect(r.leader(for: t1) == 3 && r.leaderEpoch(for: t1) == 4, "the other partition still moves")
        #expect(r.wanted == ["t"])
        // The next, up-to-date answer clears the want.
        r.apply(answer([(2, 6), (3, 4)]), refreshed: ["t"])
        #expect(r.wanted.isEmpty)
        #expect(r.metadata.topics["t"]?.partitions[0].leader == 2, "the merged view carries the router's leaders")
    }

    @Test func answerWithoutEpochIsTaken() {
        // Metadata before v7 has no epochs: nothing to compare, the answer wins.
        var r = router([(1, 5)])
        r.apply(answer([(3, -1)]), refreshed: ["t"])
        #expect(r.leader(for: t0) == 3)
        #expect(r.leaderEpoch(for: t0) == nil)
        // And an epoch-less route is replaced by any later answer.
        r.apply(answer([(2, 1)]), refreshed: ["t"])
        #expect(r.leader(for: t0) == 2 && r.leaderEpoch(for: t0) == 1)
    }

    @Test func leaderlessPartitionIsWantedAndHasNoLeader() {
        var r = router([(1, 5)])
        r.apply(answer([(nil, 6)]), refreshed: ["t"])
        #expect(r.leader(for: t0) == nil)
        #expect(r.wanted == ["t"])
    }

    @Test func olderLeaderlessAnswerKeepsTheKnownLeader() {
        var r = router([(1, 5)])
        r.apply(answer([(nil, 4)]), refreshed: ["t"])
        #expect(r.leader(for: t0) == 1 && r.leaderEpoch(for: t0) == 5)
        #expect(r.wanted == ["t"])
    }

    @Test func partialAnswerKeepsOtherTopicsAndFullAnswerForgetsThem() {
        var r = router([(1, 5)])
        r.apply(answer([(2, 1)], topic: "u"), refreshed: ["u"])
        #expect(r.partitions(of: "t") == [0] && r.partitions(of: "u") == [0])
        r.apply(answer([(2, 2)], topic: "u"), refreshed: nil)
        #expect(r.partitions(of: "t") == nil, "an all-topics answer without t: t is gone")
        #expect(r.leader(for: TopicPartition(topic: "u", partition: 0)) == 2)
    }

    @Test func unknownTopicIsForgottenAndNotWanted() {
        var r = router([(1, 5)])
        r.partitionFailed(t0, code: .notLeaderOrFollower)
        #expect(r.wanted == ["t"])
        r.apply(answer([], error: .unknownTopicOrPartition), refreshed: ["t"])
        #expect(r.partitions(of: "t") == nil)
        #expect(r.leader(for: t0) == nil)
        #expect(r.wanted.isEmpty)
    }

    @Test func brokersAreReplacedByEachAnswer() {
        var r = router([(1, 5)])
        #expect(r.broker(3) != nil)
        r.apply(answer([(1, 5)], brokers: [1: Self.brokers[1]!]), refreshed: ["t"])
        #expect(r.broker(3) == nil && r.broker(1)?.host == "b1")
    }

    // MARK: KIP-951 hints

    @Test func newerHintMovesThePartition() {
        var r = router([(1, 5)])
        let o1 = r.leaderMoved(t0, leader: 2, epoch: 6)
        #expect(o1 == .moved)
        #expect(r.leader(for: t0) == 2 && r.leaderEpoch(for: t0) == 6)
        // A metadata answer from a broker that has not seen epoch 6 does not undo the hint.
        r.apply(answer([(1, 5)]), refreshed: ["t"])
        #expect(r.leader(for: t0) == 2)
    }

    @Test func hintAtOrBelowTheKnownEpochIsStale() {
        var r = router([(2, 6)])
        let o2 = r.leaderMoved(t0, leader: 1, epoch: 6)
        #expect(o2 == .stale)
        let o3 = r.leaderMoved(t0, leader: 1, epoch: 5)
        #expect(o3 == .stale)
        #expect(r.leader(for: t0) == 2 && r.leaderEpoch(for: t0) == 6)
        #expect(r.wanted.isEmpty)
    }

    @Test func hintWithoutEpochOrLeaderRequestsRefresh() {
        var r = router([(1, 5)])
        let o4 = r.leaderMoved(t0, leader: -1, epoch: 9)
        #expect(o4 == .needsRefresh)
        let o5 = r.leaderMoved(t0, leader: 2, epoch: -1)
        #expect(o5 == .needsRefresh)
        #expect(r.leader(for: t0) == 1 && r.leaderEpoch(for: t0) == 5)
        #expect(r.wanted == ["t"])
    }

    @Test func hintToAnUnknownBrokerRequestsRefresh() {
        var r = router([(1, 5)])
        let o6 = r.leaderMoved(t0, leader: 42, epoch: 6)
        #expect(o6 == .needsRefresh)
        #expect(r.leader(for: t0) == 1)
        #expect(r.wanted == ["t"])
    }

    @Test func hintForAnUnknownPartitionRequestsRefresh() {
        var r = router([(1, 5)])
        let o7 = r.leaderMoved(TopicPartition(topic: "t", partition: 9), leader: 2, epoch: 6)
        #expect(o7 == .needsRefresh)
        let o8 = r.leaderMoved(TopicPartition(topic: "other", partition: 0), leader: 2, epoch: 6)
        #expect(o8 == .needsRefresh)
        #expect(r.wanted == ["t", "other"])
    }

    @Test func hintOverAnEpochlessRouteMoves() {
        var r = router([(1, -1)])
        let o9 = r.leaderMoved(t0, leader: 3, epoch: 2)
        #expect(o9 == .moved)
        #expect(r.leader(for: t0) == 3 && r.leaderEpoch(for: t0) == 2)
    }

    // MARK: Errors

    static let routingErrors: [KafkaErrorCode] = [.notLeaderOrFollower, .fencedLeaderEpoch, .unknownLeaderEpoch, .leaderNotAvailable, .unknownTopicOrPartition]
    static let otherErrors: [KafkaErrorCode] = [.offsetOutOfRange, .corruptMessage, .requestTimedOut]

    @Test func routingErrorsRequestRefresh() {
        for code in Self.routingErrors {
            var r = router([(1, 5)])
            let hit = r.partitionFailed(t0, code: code)
            #expect(hit, "\(code)")
            #expect(r.wanted == ["t"])
            #expect(r.leader(for: t0) == 1, "the route stays until an answer replaces it")
        }
    }

    @Test func otherErrorsLeaveRoutingAlone() {
        for code in Self.otherErrors {
            var r = router([(1, 5)])
            let hit = r.partitionFailed(t0, code: code)
            #expect(!hit, "\(code)")
            #expect(r.wanted.isEmpty)
        }
    }

    @Test func sparsePartitionNumbersAreFound() {
        var r = TopicRouter()
        let partitions = [3, 7].map { n in
            ClusterMetadata.Partition(partition: Int32(n), leader: Int32(n == 3 ? 1 : 2), leaderEpoch: 1, replicas: [], isr: [], offlineReplicas: [], error: nil)
        }
        r.apply(ClusterMetadata(brokers: Self.brokers, topics: ["s": .init(name: "s", topicId: .zero, isInternal: false, partitions: partitions, error: nil)]), refreshed: ["s"])
        #expect(r.leader(for: TopicPartition(topic: "s", partition: 7)) == 2)
        #expect(r.leader(for: TopicPartition(topic: "s", partition: 0)) == nil)
        let o11 = r.leaderMoved(TopicPartition(topic: "s", partition: 7), leader: 3, epoch: 2)
        #expect(o11 == .moved)
        #expect(r.leader(for: TopicPartition(topic: "s", partition: 7)) == 3)
    }
}
