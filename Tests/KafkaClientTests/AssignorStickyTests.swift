import Testing
@testable import KafkaClient
import KafkaProtocol
import KafkaTestSupport

private typealias N = AssignorNotation

/// Helpers that drive cooperative-sticky the way a group does: assign, let members revoke what
/// they lost, rejoin with what they own at the next generation, until nothing is revoked.
enum CooperativeGroup {
    static let assignor = CooperativeStickyAssignor()

    /// One rebalance round after another until no member revokes anything. Checks in every round
    /// that no partition is given to one member while another one gives it up (the cooperative
    /// rule). Returns the settled assignment, the members as they last joined, and the rounds.
    static func settle(_ members: [GroupMemberSubscription], _ counts: [String: Int32], maxRounds: Int = 4,
                       sourceLocation: SourceLocation = #_sourceLocation) -> (assignment: [String: [TopicPartition]], members: [GroupMemberSubscription], rounds: Int) {
        var members = members
        var rounds = 0
        while true {
            let out = assignor.assign(members: members, partitionsPerTopic: counts)
            rounds += 1
            N.checkValid(out, members, counts, sourceLocation: sourceLocation)
            var added = Set<TopicPartition>(), revoked = Set<TopicPartition>()
            for m in members {
                let owned = Set(m.ownedPartitions), now = Set(out[m.memberId] ?? [])
                added.formUnion(now.subtracting(owned))
                revoked.formUnion(owned.subtracting(now))
            }
            #expect(added.isDisjoint(with: revoked), "assigned while still being revoked: \(added.intersection(revoked))", sourceLocation: sourceLocation)
            let generation = (members.compactMap(\.generationId).max() ?? 0) + 1
            members = members.map { m in
                var m = m
                m.ownedPartitions = out[m.memberId] ?? []
                m.generationId = generation
                return m
            }
            if revoked.isEmpty || rounds >= maxRounds {
                #expect(revoked.isEmpty, "still revoking after \(rounds) rounds", sourceLocation: sourceLocation)
                return (out, members, rounds)
            }
        }
    }

    /// Java's balance rule (AbstractStickyAssignorTest.verifyValidityAndBalance): when two members'
    /// counts differ by more than one, the larger holds no partition the smaller could take.
    static func checkBalanced(_ out: [String: [TopicPartition]], _ members: [GroupMemberSubscription], sourceLocation: SourceLocation = #_sourceLocation) {
        for a in members {
            for b in members where (out[a.memberId]?.count ?? 0) > (out[b.memberId]?.count ?? 0) + 1 {
                let movable = (out[a.memberId] ?? []).filter { b.topics.contains($0.topic) }
                #expect(movable.isEmpty, "\(a.memberId) could pass \(movable) to \(b.memberId)", sourceLocation: sourceLocation)
            }
        }
    }

    static func spread(_ out: [String: [TopicPartition]]) -> Int {
        let sizes = out.values.map(\.count)
        return (sizes.max() ?? 0) - (sizes.min() ?? 0)
    }
}

private typealias G = CooperativeGroup

@Suite struct AssignorStickyTableTests {
    /// Java's AbstractStickyAssignorTest / CooperativeStickyAssignorTest cases (no owned
    /// partitions). Expected values agree with Java where Java's result does not depend on
    /// HashMap order.
    static let fresh: [AssignorCase] = [
        .init("one member, no topics", [("c1", "")], ["t": 3], ["c1": ""]),
        .init("one member, topic absent from metadata", [("c1", "t")], [:], ["c1": ""]),
        .init("one member, one topic", [("c1", "t")], ["t": 3], ["c1": "t:0,1,2"]),
        .init("only subscribed topics", [("c1", "t")], ["t": 3, "other": 3], ["c1": "t:0,1,2"]),
        .init("one member, two topics", [("c1", "t1 t2")], ["t1": 1, "t2": 2], ["c1": "t1:0 t2:0,1"]),
        .init("two members, one partition", [("c1", "t"), ("c2", "t")], ["t": 1], ["c1": "t:0", "c2": ""]),
        .init("two members, two partitions", [("c1", "t"), ("c2", "t")], ["t": 2], ["c1": "t:0", "c2": "t:1"]),
        .init("two members, one topic, three partitions", [("c1", "t"), ("c2", "t")], ["t": 3], ["c1": "t:0,2", "c2": "t:1"]),
        .init("uneven subscriptions (Java: multipleConsumersMixedTopicSubscriptions)", [("c1", "t1"), ("c2", "t1 t2"), ("c3", "t1")], ["t1": 3, "t2": 2],
              ["c1": "t1:0,2", "c2": "t2:0,1", "c3": "t1:1"]),
        .init("two topics, six partitions", [("c1", "t1 t2"), ("c2", "t1 t2")], ["t1": 3, "t2": 3],
              ["c1": "t1:0,2 t2:1", "c2": "t1:1 t2:0,2"]),
        .init("more members than partitions", [("a", "t"), ("b", "t"), ("c", "t"), ("d", "t")], ["t": 2],
              ["a": "t:0", "b": "t:1", "c": "", "d": ""]),
        .init("member with no topics among others", [("a", "t"), ("b", ""), ("c", "t")], ["t": 3], ["a": "t:0,2", "b": "", "c": "t:1"]),
        .init("topic with zero partitions", [("a", "t z"), ("b", "t")], ["t": 2, "z": 0], ["a": "t:0", "b": "t:1"]),
        .init("no members", [], ["t": 2], [:]),
        .init("three members, overlapping topics", [("a", "x"), ("b", "x y"), ("c", "y")], ["x": 4, "y": 2], ["a": "x:0,2", "b": "x:1,3", "c": "y:0,1"]),
    ]

    @Test(arguments: fresh)
    func fromScratch(_ c: AssignorCase) {
        let out = CooperativeStickyAssignor().assign(members: c.members, partitionsPerTopic: c.partitions)
        #expect(N.format(out) == c.expected)
        N.checkValid(out, c.members, c.partitions)
        G.checkBalanced(out, c.members)
    }

    /// Cases with owned partitions and generations (Java's names); `withheld` are the partitions
    /// left out because their owner must revoke them first (Java's partitionsTransferringOwnership).
    struct OwnedCase: CustomTestStringConvertible, Sendable {
        var name: String
        var members: [GroupMemberSubscription]
        var counts: [String: Int32]
        var expected: [String: String]
        var withheld: [String: String]  // "t:p" -> member that gets it next round
        var testDescription: String { name }
    }

    static let owned: [OwnedCase] = [
        .init(name: "consumerOwningMinQuotaExpectedMaxQuota",
              members: [N.member("c1", "t1 t2", owned: "t1:0 t2:1", generation: 1), N.member("c2", "t1 t2", owned: "t1:1 t2:2", generation: 1)],
              counts: ["t1": 2, "t2": 3], expected: ["c1": "t1:0 t2:0,1", "c2": "t1:1 t2:2"], withheld: [:]),
        .init(name: "maxQuotaConsumerMoreThanNumExpectedMaxCapacityMembers",
              members: [N.member("c1", "t1 t2", owned: "t1:0 t2:0", generation: 1), N.member("c2", "t1 t2", owned: "t1:1 t2:1", generation: 1),
                        N.member("c3", "t1 t2", generation: 1)],
              counts: ["t1": 2, "t2": 2], expected: ["c1": "t1:0 t2:0", "c2": "t1:1", "c3": ""], withheld: ["t2:1": "c3"]),
        .init(name: "allConsumersAreUnderMinQuota",
              members: [N.member("c1", "t1 t2", owned: "t1:0", generation: 1), N.member("c2", "t1 t2", owned: "t1:1", generation: 1),
                        N.member("c3", "t1 t2", generation: 1)],
              counts: ["t1": 2, "t2": 3], expected: ["c1": "t1:0 t2:1", "c2": "t1:1 t2:2", "c3": "t2:0"], withheld: [:]),
        .init(name: "allConsumersReachExpectedQuotaAndAreConsideredFilled",
              members: [N.member("c1", "t", owned: "t:0,1", generation: 1), N.member("c2", "t", owned: "t:2", generation: 1), N.member("c3", "t", generation: 1)],
              counts: ["t": 4], expected: ["c1": "t:0,1", "c2": "t:2", "c3": "t:3"], withheld: [:]),
        .init(name: "ownedPartitionsAreInvalidatedForConsumerWithStaleGeneration",
              members: [N.member("c1", "t t2", owned: "t:0,2 t2:1", generation: 10), N.member("c2", "t t2", owned: "t:0,2 t2:1", generation: 9)],
              counts: ["t": 3, "t2": 3], expected: ["c1": "t:0,2 t2:1", "c2": "t:1 t2:0,2"], withheld: [:]),
        .init(name: "ownedPartitionsAreInvalidatedForConsumerWithNoGeneration",
              members: [N.member("c1", "t t2", owned: "t:0,2 t2:1", generation: 10), N.member("c2", "t t2", owned: "t:0,2 t2:1", generation: -1)],
              counts: ["t": 3, "t2": 3], expected: ["c1": "t:0,2 t2:1", "c2": "t:1 t2:0,2"], withheld: [:]),
        .init(name: "claimedByMultipleConsumersInSameGeneration (equal shares)",
              members: [N.member("c1", "t", owned: "t:0,1", generation: 1), N.member("c2", "t", owned: "t:0,2", generation: 1), N.member("c3", "t", generation: 1)],
              counts: ["t": 3], expected: ["c1": "t:1", "c2": "t:2", "c3": ""], withheld: ["t:0": "c3"]),
        .init(name: "claimedByMultipleConsumersInSameGeneration (unequal shares)",
              members: [N.member("c1", "t", owned: "t:0,1", generation: 1), N.member("c2", "t", owned: "t:0,2", generation: 1), N.member("c3", "t", generation: 1)],
              counts: ["t": 4], expected: ["c1": "t:1,3", "c2": "t:2", "c3": ""], withheld: ["t:0": "c3"]),
        .init(name: "ensurePartitionsAssignedToHighestGeneration",
              members: [N.member("c1", "t t2 t3", owned: "t:0 t2:0 t3:0", generation: 10), N.member("c2", "t t2 t3", owned: "t:1 t2:1 t3:1", generation: 9),
                        N.member("c3", "t t2 t3", owned: "t2:1 t3:0,2", generation: 8)],
              counts: ["t": 3, "t2": 3, "t3": 3],
              expected: ["c1": "t:0 t2:0 t3:0", "c2": "t:1 t2:1 t3:1", "c3": "t:2 t2:2 t3:2"], withheld: [:]),
        .init(name: "noReassignmentOnCurrentMembers",
              members: [N.member("c1", "topic topic1 topic2 topic3", generation: -1),
                        N.member("c2", "topic topic1 topic2 topic3", owned: "topic:0 topic2:0 topic1:0", generation: 9),
                        N.member("c3", "topic topic1 topic2 topic3", owned: "topic3:2 topic2:2 topic1:1", generation: 8),
                        N.member("c4", "topic topic1 topic2 topic3", owned: "topic3:1 topic:1,2", generation: 7)],
              counts: ["topic": 3, "topic1": 3, "topic2": 3, "topic3": 3],
              expected: ["c1": "topic1:2 topic2:1 topic3:0", "c2": "topic:0 topic1:0 topic2:0", "c3": "topic1:1 topic2:2 topic3:2", "c4": "topic:1,2 topic3:1"],
              withheld: [:]),
        .init(name: "ownedPartitionsAreInvalidatedForConsumerWithMultipleGeneration",
              members: [N.member("c1", "t t2", owned: "t:0,1 t2:1", generation: 10), N.member("c2", "t t2", owned: "t:0 t2:1,2", generation: 8)],
              counts: ["t": 3, "t2": 3], expected: ["c1": "t:0,1 t2:1", "c2": "t:2 t2:0,2"], withheld: [:]),
        .init(name: "a higher generation beats a tie below it",
              members: [N.member("a", "t", owned: "t:0", generation: 3), N.member("b", "t", owned: "t:0", generation: 3),
                        N.member("c", "t", owned: "t:0,1", generation: 4)],
              counts: ["t": 3], expected: ["a": "", "b": "t:2", "c": "t:0"], withheld: ["t:1": "a"]),
        // a cannot pass x to c (c does not read x): a passes x to b and b passes y to c. Both
        // moves wait for the revocation.
        .init(name: "balance through a chain",
              members: [N.member("a", "x", owned: "x:0,1,2", generation: 1), N.member("b", "x y", owned: "y:0,1", generation: 1),
                        N.member("c", "y", generation: 1)],
              counts: ["x": 3, "y": 2], expected: ["a": "x:0,1", "b": "y:0", "c": ""], withheld: ["x:2": "b", "y:1": "c"]),
        .init(name: "a dropped topic is revoked before anyone else gets it",
              members: [N.member("a", "x", owned: "x:0,1 y:0,1", generation: 5), N.member("b", "x y", generation: 5)],
              counts: ["x": 2, "y": 2], expected: ["a": "x:0,1", "b": ""], withheld: ["y:0": "b", "y:1": "b"]),
        .init(name: "claims on deleted topics and missing partitions are ignored",
              members: [N.member("a", "t gone", owned: "t:0,7 gone:0", generation: 2), N.member("b", "t", generation: 2)],
              counts: ["t": 2], expected: ["a": "t:0", "b": "t:1"], withheld: [:]),
        .init(name: "cooperative-sticky user data carries the generation of a v1 subscription",
              members: [N.member("a", "t", owned: "t:0,1", generation: -1, userData: [0, 0, 0, 7]),
                        N.member("b", "t", owned: "t:0,1", generation: -1, userData: [0, 0, 0, 6])],
              counts: ["t": 2], expected: ["a": "t:0", "b": ""], withheld: ["t:1": "b"]),
    ]

    @Test(arguments: owned)
    func withOwnedPartitions(_ c: OwnedCase) {
        let (out, withheld) = CooperativeStickyAssignor().plan(members: c.members, partitionsPerTopic: c.counts)
        #expect(N.format(out) == c.expected)
        #expect(Dictionary(uniqueKeysWithValues: withheld.map { ("\($0.key.topic):\($0.key.partition)", $0.value) }) == c.withheld)
        N.checkValid(out, c.members, c.counts)
        // Whatever the first round does, the group converges to a valid, balanced assignment.
        let settled = G.settle(c.members, c.counts)
        G.checkBalanced(settled.assignment, settled.members)
    }
}

@Suite struct AssignorStickinessTests {
    static let assignor = CooperativeStickyAssignor()

    /// Java's testAddRemoveConsumerOneTopic: the newcomer gets its share only after the owner
    /// revoked it; when the first member leaves, the survivor takes everything at once.
    @Test func addThenRemoveMember() {
        let counts: [String: Int32] = ["t": 3]
        let first = Self.assignor.assign(members: [N.member("c1", "t")], partitionsPerTopic: counts)
        #expect(N.format(first) == ["c1": "t:0,1,2"])

        let joined = [N.member("c1", "t", owned: "t:0,1,2", generation: 1), N.member("c2", "t", generation: 1)]
        let (round1, withheld) = Self.assignor.plan(members: joined, partitionsPerTopic: counts)
        #expect(N.format(round1) == ["c1": "t:0,1", "c2": ""])
        #expect(withheld == [TopicPartition(topic: "t", partition: 2): "c2"])
        let rejoined = [N.member("c1", "t", owned: "t:0,1", generation: 2), N.member("c2", "t", generation: 2)]
        #expect(N.format(Self.assignor.assign(members: rejoined, partitionsPerTopic: counts)) == ["c1": "t:0,1", "c2": "t:2"])

        let left = [N.member("c2", "t", owned: "t:2", generation: 3)]
        #expect(N.format(Self.assignor.assign(members: left, partitionsPerTopic: counts)) == ["c2": "t:0,1,2"])
    }

    /// A member joins a settled group: no partition moves between the old members, each old
    /// member gives up only what the newcomer needs, and the group ends balanced within one.
    @Test(arguments: [(3, 10), (4, 12), (5, 7), (6, 100), (10, 3)])
    func memberJoins(members count: Int, partitions: Int) {
        let counts: [String: Int32] = ["a": Int32(partitions / 2), "b": Int32(partitions - partitions / 2)]
        let old = G.settle((0 ..< count).map { N.member("m\($0)", "a b") }, counts)
        var members = old.members
        members.append(N.member("new", "a b", generation: old.members[0].generationId))
        let settled = G.settle(members, counts)
        #expect(settled.rounds <= 2)
        #expect(G.spread(settled.assignment) <= 1)
        for m in old.members {
            let before = Set(old.assignment[m.memberId]!), after = Set(settled.assignment[m.memberId]!)
            #expect(after.isSubset(of: before), "\(m.memberId) gained \(after.subtracting(before))")
        }
        #expect(settled.assignment["new"]!.count == partitions / (count + 1))
    }

    /// A member leaves: the others keep everything they had and share the orphans at once (no
    /// one owns them any more, so nothing waits for a revocation).
    @Test(arguments: [(3, 10), (4, 12), (5, 7), (8, 100), (4, 3)])
    func memberLeaves(members count: Int, partitions: Int) {
        let counts: [String: Int32] = ["a": Int32(partitions)]
        let old = G.settle((0 ..< count).map { N.member("m\($0)", "a") }, counts)
        let survivors = old.members.filter { $0.memberId != "m1" }
        let (out, withheld) = Self.assignor.plan(members: survivors, partitionsPerTopic: counts)
        #expect(withheld.isEmpty)
        #expect(G.spread(out) <= 1)
        #expect(out.values.reduce(0) { $0 + $1.count } == partitions)
        for m in survivors { #expect(Set(old.assignment[m.memberId]!).isSubset(of: Set(out[m.memberId]!))) }
    }

    /// Uneven subscriptions: a newcomer reading only one topic takes partitions of that topic
    /// only, from the members that have the most of it.
    @Test func unevenNewcomer() {
        let counts: [String: Int32] = ["x": 6, "y": 6]
        let old = G.settle([N.member("a", "x y"), N.member("b", "x y")], counts)
        #expect(N.format(old.assignment).values.allSatisfy { $0.contains("x:") && $0.contains("y:") })
        var members = old.members
        members.append(N.member("c", "x", generation: old.members[0].generationId))
        let settled = G.settle(members, counts)
        #expect(settled.assignment["c"]!.count == 4)
        #expect(settled.assignment["c"]!.allSatisfy { $0.topic == "x" })
        G.checkBalanced(settled.assignment, settled.members)
        for m in old.members { #expect(Set(settled.assignment[m.memberId]!).isSubset(of: Set(old.assignment[m.memberId]!))) }
    }

    /// Scale-out: one member owned everything and seven join at once. Round one only shrinks the
    /// owner (everything else is still its to revoke); round two hands out what it revoked.
    @Test(arguments: [false, true])
    func scaleOut(uneven: Bool) {
        let counts: [String: Int32] = ["x": 12, "y": 12]
        var members = [N.member("m0", "x y", owned: "x:0,1,2,3,4,5,6,7,8,9,10,11 y:0,1,2,3,4,5,6,7,8,9,10,11", generation: 3)]
        members += (1 ..< 8).map { N.member("m\($0)", uneven && $0 % 2 == 1 ? "x" : "x y", generation: 3) }
        let (round1, withheld) = Self.assignor.plan(members: members, partitionsPerTopic: counts)
        #expect(round1.filter { $0.key != "m0" }.allSatisfy { $0.value.isEmpty })
        #expect(round1["m0"]!.count == 3)
        #expect(withheld.count == 21)
        let settled = G.settle(members, counts)
        #expect(settled.rounds == 2)
        #expect(G.spread(settled.assignment) == 0)
        #expect(settled.assignment["m0"] == round1["m0"])
        G.checkBalanced(settled.assignment, settled.members)
    }

    /// Members that keep what they own when nothing changed: a rebalance with the same members
    /// is a no-op, even when the existing assignment is not the one a fresh run would pick.
    @Test func nothingMovesWhenAlreadyBalanced() {
        let members = [N.member("a", "t", owned: "t:3,4", generation: 5), N.member("b", "t", owned: "t:0,1", generation: 5),
                       N.member("c", "t", owned: "t:2", generation: 5)]
        let (out, withheld) = Self.assignor.plan(members: members, partitionsPerTopic: ["t": 5])
        #expect(N.format(out) == ["a": "t:3,4", "b": "t:0,1", "c": "t:2"])
        #expect(withheld.isEmpty)
    }

    /// The output depends only on the set of members, not on the order they are listed in.
    @Test(arguments: 0 ..< 20)
    func deterministic(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed) &* 7919)
        let c = RandomGroup.make(&rng)
        let reference = Self.assignor.plan(members: c.members, partitionsPerTopic: c.counts)
        for _ in 0 ..< 3 {
            let again = Self.assignor.plan(members: c.members.shuffled(using: &rng), partitionsPerTopic: c.counts)
            #expect(again.assignment == reference.assignment)
            #expect(again.withheld == reference.withheld)
        }
    }

    /// Random groups (uneven subscriptions, stale and conflicting claims, generations, deleted
    /// topics): every round is valid and cooperative, the group settles within a few rounds,
    /// ends balanced, and a settled group stays put.
    @Test(arguments: 0 ..< 40)
    func randomGroupsSettle(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed))
        let c = RandomGroup.make(&rng)
        let settled = G.settle(c.members, c.counts, maxRounds: 3)
        G.checkBalanced(settled.assignment, settled.members)
        if Set(settled.members.map { Set($0.topics) }).count == 1 { #expect(G.spread(settled.assignment) <= 1) }
        let again = Self.assignor.plan(members: settled.members, partitionsPerTopic: c.counts)
        #expect(again.assignment == settled.assignment)
        #expect(again.withheld.isEmpty)
    }
}

/// Random consumer groups for property tests.
enum RandomGroup {
    static func make(_ rng: inout SplitMix64) -> (members: [GroupMemberSubscription], counts: [String: Int32]) {
        let topics = (0 ..< Int.random(in: 1 ... 5, using: &rng)).map { "t\($0)" }
        var counts: [String: Int32] = [:]
        for t in topics where Int.random(in: 0 ..< 8, using: &rng) != 0 { counts[t] = Int32.random(in: 0 ... 9, using: &rng) }
        let uniform = Bool.random(using: &rng)
        let shared = topics.filter { _ in Bool.random(using: &rng) }
        let members = (0 ..< Int.random(in: 1 ... 7, using: &rng)).map { i -> GroupMemberSubscription in
            let subs = uniform ? shared : topics.filter { _ in Bool.random(using: &rng) }
            let owned = (0 ..< Int.random(in: 0 ... 6, using: &rng)).map { _ in
                TopicPartition(topic: topics.randomElement(using: &rng)!, partition: Int32.random(in: 0 ... 10, using: &rng))
            }
            return GroupMemberSubscription(memberId: "member-\(i)", groupInstanceId: Bool.random(using: &rng) ? "static-\(9 - i)" : nil,
                                           topics: subs, ownedPartitions: owned, generationId: Bool.random(using: &rng) ? Int32.random(in: 0 ... 3, using: &rng) : nil)
        }
        return (members, counts)
    }
}

@Suite struct AssignorStickyUserDataTests {
    static let userDataCases: [(Int32?, [UInt8])] = [(nil, [0xFF, 0xFF, 0xFF, 0xFF]), (0, [0, 0, 0, 0]), (10, [0, 0, 0, 10]), (0x0102_0304, [1, 2, 3, 4])]

    @Test(arguments: userDataCases)
    func userDataIsJavasGeneration(_ generation: Int32?, _ bytes: [UInt8]) {
        #expect(CooperativeStickyAssignor().userData(ownedPartitions: [], generationId: generation) == bytes)
    }

    /// librdkafka's sticky user data: [previous_assignment] generation.
    static let librdkafkaStyle: [UInt8] = [0, 0, 0, 1, 0, 1, 0x74, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9]

    static let generationCases: [(field: Int32?, userData: [UInt8]?, expected: Int32)] = [
        (4, nil, 4),                                   // v2+ field wins
        (4, [0, 0, 0, 9], 4),
        (nil, [0, 0, 0, 9], 9),                         // Java cooperative-sticky user data
        (nil, librdkafkaStyle, 9),                      // librdkafka / Java StickyAssignor form
        (nil, nil, -1), (nil, [], -1), (-1, nil, -1),   // a member's -1 is no generation too
        (nil, [1, 2, 3], -1), (nil, [0, 0, 0, 1, 0xFF], -1), // garbage
        (nil, [0xFF, 0xFF, 0xFF, 0xF0], -1),            // negative generations read as unknown
        (nil, [0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1], -1), // absurd count does not allocate or trap
    ]

    @Test(arguments: generationCases)
    func generationOfAMember(_ field: Int32?, _ userData: [UInt8]?, _ expected: Int32) {
        let m = GroupMemberSubscription(memberId: "m", topics: ["t"], generationId: field, userData: userData)
        #expect(CooperativeStickyAssignor.generation(of: m) == expected)
    }
}
