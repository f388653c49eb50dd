import Testing
@testable import KafkaClient
import KafkaProtocol
import KafkaTestSupport

/// Compact notation for assignor tables: "t0:0,1 t1:2" is partitions 0 and 1 of t0 and 2 of t1.
enum AssignorNotation {
    static func partitions(_ s: String) -> [TopicPartition] {
        s.split(separator: " ").flatMap { group -> [TopicPartition] in
            let parts = group.split(separator: ":", maxSplits: 1)
            let topic = String(parts[0])
            guard parts.count == 2 else { return [] }
            return parts[1].split(separator: ",").map { TopicPartition(topic: topic, partition: Int32($0)!) }
        }
    }

    /// The notation of a list, sorted by (topic, partition); "" for none.
    static func format(_ list: [TopicPartition]) -> String {
        let byTopic = Dictionary(grouping: list, by: \.topic)
        return byTopic.keys.sorted().map { t in
            "\(t):" + byTopic[t]!.map(\.partition).sorted().map(String.init).joined(separator: ",")
        }.joined(separator: " ")
    }

    static func format(_ assignment: [String: [TopicPartition]]) -> [String: String] {
        assignment.mapValues(format)
    }

    static func member(_ id: String, _ topics: String, owned: String = "", generation: Int32? = nil, instance: String? = nil, userData: [UInt8]? = nil) -> GroupMemberSubscription {
        GroupMemberSubscription(memberId: id, groupInstanceId: instance, topics: topics.split(separator: " ").map(String.init),
                                ownedPartitions: partitions(owned), generationId: generation, userData: userData)
    }

    /// Every partition at most once; each only to a member subscribed to its topic; only existing
    /// partitions; every member has an entry.
    static func checkValid(_ assignment: [String: [TopicPartition]], _ members: [GroupMemberSubscription], _ counts: [String: Int32],
                           sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(Set(assignment.keys) == Set(members.map(\.memberId)), sourceLocation: sourceLocation)
        var seen = Set<TopicPartition>()
        for m in members {
            for tp in assignment[m.memberId] ?? [] {
                #expect(seen.insert(tp).inserted, "\(tp) assigned twice", sourceLocation: sourceLocation)
                #expect(m.topics.contains(tp.topic), "\(tp) given to \(m.memberId), not subscribed", sourceLocation: sourceLocation)
                #expect(tp.partition >= 0 && tp.partition < counts[tp.topic] ?? 0, "\(tp) does not exist", sourceLocation: sourceLocation)
            }
        }
    }
}

private typealias N = AssignorNotation

/// One assignor case: members as (id, "topics"), partition counts, expected assignment.
struct AssignorCase: CustomTestStringConvertible, Sendable {
    var name: String
    var members: [GroupMemberSubscription]
    var partitions: [String: Int32]
    var expected: [String: String]
    var testDescription: String { name }

    init(_ name: String, _ members: [(String, String)], _ partitions: [String: Int32], _ expected: [String: String]) {
        self.name = name
        self.members = members.map { N.member($0.0, $0.1) }
        self.partitions = partitions
        self.expected = expected
    }

    init(_ name: String, members: [GroupMemberSubscription], _ partitions: [String: Int32], _ expected: [String: String]) {
        self.name = name
        self.members = members
        self.partitions = partitions
        self.expected = expected
    }
}

@Suite struct AssignorRangeTests {
    /// Java's RangeAssignorTest cases, plus edges.
    static let cases: [AssignorCase] = [
        .init("one member, no topics", [("c1", "")], ["t": 3], ["c1": ""]),
        .init("one member, topic absent from metadata", [("c1", "t")], [:], ["c1": ""]),
        .init("one member, one topic", [("c1", "t")], ["t": 3], ["c1": "t:0,1,2"]),
        .init("only subscribed topics", [("c1", "t")], ["t": 3, "other": 3], ["c1": "t:0,1,2"]),
        .init("one member, two topics", [("c1", "t1 t2")], ["t1": 1, "t2": 2], ["c1": "t1:0 t2:0,1"]),
        .init("two members, one partition", [("c1", "t"), ("c2", "t")], ["t": 1], ["c1": "t:0", "c2": ""]),
        .init("two members, two partitions", [("c1", "t"), ("c2", "t")], ["t": 2], ["c1": "t:0", "c2": "t:1"]),
        .init("two members, one topic, three partitions", [("c1", "t"), ("c2", "t")], ["t": 3], ["c1": "t:0,1", "c2": "t:2"]),
        .init("uneven subscriptions", [("c1", "t1"), ("c2", "t1 t2"), ("c3", "t1")], ["t1": 3, "t2": 2],
              ["c1": "t1:0", "c2": "t1:1 t2:0,1", "c3": "t1:2"]),
        .init("two topics, six partitions: extras pile on the first member", [("c1", "t1 t2"), ("c2", "t1 t2")], ["t1": 3, "t2": 3],
              ["c1": "t1:0,1 t2:0,1", "c2": "t1:2 t2:2"]),
        .init("more members than partitions", [("a", "t"), ("b", "t"), ("c", "t"), ("d", "t"), ("e", "t")], ["t": 3],
              ["a": "t:0", "b": "t:1", "c": "t:2", "d": "", "e": ""]),
        .init("seven partitions over three", [("a", "t"), ("b", "t"), ("c", "t")], ["t": 7], ["a": "t:0,1,2", "b": "t:3,4", "c": "t:5,6"]),
        .init("topic with zero partitions", [("a", "t z"), ("b", "t")], ["t": 2, "z": 0], ["a": "t:0", "b": "t:1"]),
        .init("member ids order by UTF-16, not by length", [("b", "t"), ("ab", "t"), ("B", "t")], ["t": 3], ["B": "t:0", "ab": "t:1", "b": "t:2"]),
        .init("repeated topic in a subscription counts once", [("a", "t t"), ("b", "t")], ["t": 2], ["a": "t:0", "b": "t:1"]),
        .init("no members", [], ["t": 2], [:]),
    ]

    @Test(arguments: cases)
    func table(_ c: AssignorCase) {
        let out = RangeAssignor().assign(members: c.members, partitionsPerTopic: c.partitions)
        #expect(N.format(out) == c.expected)
        N.checkValid(out, c.members, c.partitions)
    }

    /// Java's MemberInfo order: static members first by group.instance.id, then dynamic ones by
    /// member id — so a static member restarting with a new member id keeps its range.
    @Test func staticMembersOrderByInstanceId() {
        let members = [
            N.member("zzz-new-id", "t", instance: "instance-1"),
            N.member("aaa", "t", instance: "instance-2"),
            N.member("000-dynamic", "t"),
        ]
        let out = RangeAssignor().assign(members: members, partitionsPerTopic: ["t": 3])
        #expect(N.format(out) == ["zzz-new-id": "t:0", "aaa": "t:1", "000-dynamic": "t:2"])
    }

    @Test func inputOrderDoesNotMatter() {
        let members = (0 ..< 7).map { N.member("m\($0)", $0 % 2 == 0 ? "a b" : "b c") }
        let counts: [String: Int32] = ["a": 5, "b": 11, "c": 3]
        let reference = RangeAssignor().assign(members: members, partitionsPerTopic: counts)
        for seed in 0 ..< 5 {
            var rng = SplitMix64(seed: UInt64(seed))
            #expect(RangeAssignor().assign(members: members.shuffled(using: &rng), partitionsPerTopic: counts) == reference)
        }
    }
}

@Suite struct AssignorRoundRobinTests {
    /// Java's RoundRobinAssignorTest cases (and kafka-python's docstring example), plus edges.
    static let cases: [AssignorCase] = [
        .init("one member, no topics", [("c1", "")], ["t": 3], ["c1": ""]),
        .init("one member, topic absent from metadata", [("c1", "t")], [:], ["c1": ""]),
        .init("one member, one topic", [("c1", "t")], ["t": 3], ["c1": "t:0,1,2"]),
        .init("only subscribed topics", [("c1", "t")], ["t": 3, "other": 3], ["c1": "t:0,1,2"]),
        .init("one member, two topics", [("c1", "t1 t2")], ["t1": 1, "t2": 2], ["c1": "t1:0 t2:0,1"]),
        .init("two members, one partition", [("c1", "t"), ("c2", "t")], ["t": 1], ["c1": "t:0", "c2": ""]),
        .init("two members, two partitions", [("c1", "t"), ("c2", "t")], ["t": 2], ["c1": "t:0", "c2": "t:1"]),
        .init("two members, one topic, three partitions", [("c1", "t"), ("c2", "t")], ["t": 3], ["c1": "t:0,2", "c2": "t:1"]),
        .init("uneven subscriptions", [("c1", "t1"), ("c2", "t1 t2"), ("c3", "t1")], ["t1": 3, "t2": 2],
              ["c1": "t1:0", "c2": "t1:1 t2:0,1", "c3": "t1:2"]),
        .init("two topics, six partitions", [("c1", "t1 t2"), ("c2", "t1 t2")], ["t1": 3, "t2": 3],
              ["c1": "t1:0,2 t2:1", "c2": "t1:1 t2:0,2"]),
        .init("kafka-python's uneven example", [("C0", "t0"), ("C1", "t0 t1"), ("C2", "t0 t1 t2")], ["t0": 1, "t1": 2, "t2": 3],
              ["C0": "t0:0", "C1": "t1:0", "C2": "t1:1 t2:0,1,2"]),
        .init("more members than partitions", [("a", "t"), ("b", "t"), ("c", "t"), ("d", "t")], ["t": 2],
              ["a": "t:0", "b": "t:1", "c": "", "d": ""]),
        .init("the walk continues across topics", [("a", "x y"), ("b", "x y"), ("c", "x y")], ["x": 2, "y": 2],
              ["a": "x:0 y:1", "b": "x:1", "c": "y:0"]),
        .init("topic with zero partitions", [("a", "t z"), ("b", "t")], ["t": 2, "z": 0], ["a": "t:0", "b": "t:1"]),
        .init("no members", [], ["t": 2], [:]),
    ]

    @Test(arguments: cases)
    func table(_ c: AssignorCase) {
        let out = RoundRobinAssignor().assign(members: c.members, partitionsPerTopic: c.partitions)
        #expect(N.format(out) == c.expected)
        N.checkValid(out, c.members, c.partitions)
    }

    @Test func staticMembersFirst() {
        let members = [N.member("a-dynamic", "t"), N.member("z", "t", instance: "i-2"), N.member("y", "t", instance: "i-1")]
        let out = RoundRobinAssignor().assign(members: members, partitionsPerTopic: ["t": 4])
        #expect(N.format(out) == ["y": "t:0,3", "z": "t:1", "a-dynamic": "t:2"])
    }

    @Test func identicalSubscriptionsAreBalanced() {
        let members = (0 ..< 7).map { N.member("m\($0)", "a b c") }
        let out = RoundRobinAssignor().assign(members: members, partitionsPerTopic: ["a": 5, "b": 11, "c": 3])
        let sizes = out.values.map(\.count)
        #expect(sizes.max()! - sizes.min()! <= 1)
        #expect(sizes.reduce(0, +) == 19)
    }
}

@Suite struct AssignorLookupTests {
    @Test(arguments: [
        ("range", "range"), ("RANGE", "range"), (" roundrobin ", "roundrobin"), ("cooperative-sticky", "cooperative-sticky"),
        ("org.apache.kafka.clients.consumer.RangeAssignor", "range"),
        ("org.apache.kafka.clients.consumer.RoundRobinAssignor", "roundrobin"),
        ("org.apache.kafka.clients.consumer.CooperativeStickyAssignor", "cooperative-sticky"),
    ])
    func named(_ input: String, _ expected: String) throws {
        #expect(try PartitionAssignors.named(input).name == expected)
    }

    @Test(arguments: ["sticky", "", "range,roundrobin", "org.apache.kafka.clients.consumer.StickyAssignor", "round-robin"])
    func unknownNameIsAConfigurationError(_ input: String) {
        #expect {
            _ = try PartitionAssignors.named(input)
        } throws: { error in
            guard let e = error as? KafkaError, e.kind == .configuration else { return false }
            return e.message.contains("range") && e.message.contains("roundrobin") && e.message.contains("cooperative-sticky")
        }
    }

    @Test func protocols() throws {
        #expect(try PartitionAssignors.named("range").rebalanceProtocol == .eager)
        #expect(try PartitionAssignors.named("roundrobin").rebalanceProtocol == .eager)
        #expect(try PartitionAssignors.named("cooperative-sticky").rebalanceProtocol == .cooperative)
        #expect(RangeAssignor().userData(ownedPartitions: [], generationId: 3) == nil)
        #expect(RoundRobinAssignor().userData(ownedPartitions: [], generationId: 3) == nil)
    }
}

