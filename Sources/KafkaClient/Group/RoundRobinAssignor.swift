/// The round-robin assignor (`roundrobin`; Java `RoundRobinAssignor`, librdkafka and
/// kafka-python `roundrobin`).
///
/// All partitions of all subscribed topics, sorted by (topic, partition), are dealt out one by one
/// to the members in `AssignorOrder.memberLess` order, circularly; a member not subscribed to a
/// partition's topic is skipped (and does not lose its turn for the next partition it can take,
/// exactly as Java's `CircularIterator` walk). With identical subscriptions the counts differ by
/// at most one; with uneven subscriptions they may not. Eager protocol.
public struct RoundRobinAssignor: PartitionAssignor {
    /// The assignor (it has no settings).
    public init() {}
    public var name: String { "roundrobin" }
    public var rebalanceProtocol: RebalanceProtocol { .eager }
    public func userData(ownedPartitions: [TopicPartition], generationId: Int32?) -> [UInt8]? { nil }

    public func assign(members: [GroupMemberSubscription], partitionsPerTopic: [String: Int32]) -> [String: [TopicPartition]] {
        var out = AssignorOrder.emptyAssignment(members)
        let sorted = AssignorOrder.sortedMembers(members)
        let subscriptions = sorted.map { Set($0.topics) }
        let topics = AssignorOrder.sortedTopics(sorted.flatMap(\.topics))
        var next = 0  // the member whose turn it is
        for topic in topics {
            guard let count = partitionsPerTopic[topic], count > 0 else { continue }
            for partition in 0 ..< count {
                // The topic came from some member's subscription, so the walk finds one within
                // `sorted.count` steps.
                for step in 0 ..< sorted.count {
                    let i = (next + step) % sorted.count
                    guard subscriptions[i].contains(topic) else { continue }
                    out[sorted[i].memberId, default: []].append(TopicPartition(topic: topic, partition: partition))
                    next = (i + 1) % sorted.count
                    break
                }
            }
        }
        return out
    }
}
