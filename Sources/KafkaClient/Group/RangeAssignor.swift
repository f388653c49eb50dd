/// The range assignor (`range`; Java `RangeAssignor`, librdkafka and kafka-python `range`).
///
/// Per topic: the subscribed members in `AssignorOrder.memberLess` order (static members by
/// group.instance.id first, then the rest by member id) each take a contiguous range of
/// partitions; with `n` partitions and `m` members the first `n % m` members get one extra.
/// Topics are independent, so with several topics the first members get the extras of every
/// topic (the well-known imbalance of range, kept for compatibility: co-partitioned topics land
/// on the same member). Eager protocol.
public struct RangeAssignor: PartitionAssignor {
    /// The assignor (it has no settings).
    public init() {}
    public var name: String { "range" }
    public var rebalanceProtocol: RebalanceProtocol { .eager }
    public func userData(ownedPartitions: [TopicPartition], generationId: Int32?) -> [UInt8]? { nil }

    public func assign(members: [GroupMemberSubscription], partitionsPerTopic: [String: Int32]) -> [String: [TopicPartition]] {
        var out = AssignorOrder.emptyAssignment(members)
        var consumersPerTopic: [String: [String]] = [:]
        for member in AssignorOrder.sortedMembers(members) {
            for topic in Set(member.topics) { consumersPerTopic[topic, default: []].append(member.memberId) }
        }
        // Sorted topics and ascending partitions leave each member's list sorted by (topic, partition).
        for topic in consumersPerTopic.keys.sorted(by: AssignorOrder.less) {
            guard let count = partitionsPerTopic[topic], count > 0, let consumers = consumersPerTopic[topic] else { continue }
            let n = Int(count), m = consumers.count
            let perConsumer = n / m, withExtra = n % m
            for (i, memberId) in consumers.enumerated() {
                let start = perConsumer * i + min(i, withExtra)
                let length = perConsumer + (i < withExtra ? 1 : 0)
                out[memberId, default: []].append(contentsOf: (start ..< start + length).map { TopicPartition(topic: topic, partition: Int32($0)) })
            }
        }
        return out
    }
}
