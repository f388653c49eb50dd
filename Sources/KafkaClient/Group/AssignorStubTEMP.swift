import KafkaProtocol
// TEMPORARY: interface stand-in until the assignor branch lands (deleted on merge).
public struct GroupMemberSubscription: Sendable, Equatable {
    public var memberId: String
    public var groupInstanceId: String?
    public var topics: [String]
    public var ownedPartitions: [TopicPartition]
    public var generationId: Int32
    public var rackId: String?
    public var userData: [UInt8]?
    public init(memberId: String, groupInstanceId: String? = nil, topics: [String], ownedPartitions: [TopicPartition] = [], generationId: Int32 = -1, rackId: String? = nil, userData: [UInt8]? = nil) {
        self.memberId = memberId; self.groupInstanceId = groupInstanceId; self.topics = topics; self.ownedPartitions = ownedPartitions; self.generationId = generationId; self.rackId = rackId; self.userData = userData
    }
}
public enum RebalanceProtocol: Sendable { case eager, cooperative }
public protocol PartitionAssignor: Sendable {
    var name: String { get }
    var rebalanceProtocol: RebalanceProtocol { get }
    func userData(ownedPartitions: [TopicPartition], generationId: Int32) -> [UInt8]?
    func assign(members: [GroupMemberSubscription], partitionsPerTopic: [String: Int32]) -> [String: [TopicPartition]]
}
struct StubRange: PartitionAssignor {
    var name: String { "range" }
    var rebalanceProtocol: RebalanceProtocol { .eager }
    func userData(ownedPartitions: [TopicPartition], generationId: Int32) -> [UInt8]? { nil }
    func assign(members: [GroupMemberSubscription], partitionsPerTopic: [String: Int32]) -> [String: [TopicPartition]] {
        var out: [String: [TopicPartition]] = [:]
        for m in members { out[m.memberId] = [] }
        for (topic, n) in partitionsPerTopic {
            let subs = members.filter { $0.topics.contains(topic) }.map(\.memberId).sorted()
            guard !subs.isEmpty else { continue }
            for p in 0 ..< n { out[subs[Int(p) % subs.count], default: []].append(TopicPartition(topic: topic, partition: p)) }
        }
        return out
    }
}
public enum PartitionAssignors {
    public static func named(_ name: String) throws -> any PartitionAssignor { StubRange() }
}
enum ConsumerGroupPayloads {
    static func subscription(topics: [String], ownedPartitions: [TopicPartition], generationId: Int32, rackId: String?, userData: [UInt8]?) throws -> [UInt8] {
        var s = ConsumerProtocolSubscription(); s.topics = topics; s.userData = userData
        return try s.encoded(version: 1)
    }
    static func members(_ members: [JoinGroupResponse.Member]) -> (subscriptions: [GroupMemberSubscription], undecodable: [String]) {
        var out: [GroupMemberSubscription] = []; var bad: [String] = []
        for m in members {
            if let s = try? ConsumerProtocolSubscription.decode(m.metadata).value { out.append(GroupMemberSubscription(memberId: m.memberId, groupInstanceId: m.groupInstanceId, topics: s.topics)) } else { bad.append(m.memberId); out.append(GroupMemberSubscription(memberId: m.memberId, topics: [])) }
        }
        return (out, bad)
    }
    static func assignment(_ partitions: [TopicPartition], userData: [UInt8]?) throws -> [UInt8] {
        var a = ConsumerProtocolAssignment()
        a.assignedPartitions = Dictionary(grouping: partitions, by: \.topic).map { t, ps in var x = ConsumerProtocolAssignment.TopicPartition(); x.topic = t; x.partitions = ps.map(\.partition); return x }
        a.userData = userData
        return try a.encoded(version: 1)
    }
    static func decodeAssignment(_ bytes: [UInt8]) throws -> (partitions: [TopicPartition], userData: [UInt8]?) {
        if bytes.isEmpty { return ([], nil) }
        let a = try ConsumerProtocolAssignment.decode(bytes).value
        return (a.assignedPartitions.flatMap { t in t.partitions.map { TopicPartition(topic: t.topic, partition: $0) } }, a.userData)
    }
}
