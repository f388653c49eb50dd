import Synchronization
import KafkaClient

/// An application's own assignor, as a user would write one: every partition of every
/// subscribed topic goes to the member whose id sorts last, the others get nothing. Counts its
/// runs so a test can tell it (and not a built-in assignor) decided.
struct EverythingToOne: PartitionAssignor {
    final class Runs: Sendable {
        let count = Atomic<Int>(0)
    }

    var name = "everything-to-one"
    var rebalanceProtocol: RebalanceProtocol = .eager
    let runs = Runs()

    func userData(ownedPartitions: [TopicPartition], generationId: Int32?) -> [UInt8]? { nil }

    func assign(members: [GroupMemberSubscription], partitionsPerTopic: [String: Int32]) -> [String: [TopicPartition]] {
        runs.count.add(1, ordering: .relaxed)
        var out = Dictionary(uniqueKeysWithValues: members.map { ($0.memberId, [TopicPartition]()) })
        guard let last = members.max(by: { $0.memberId < $1.memberId }) else { return out }
        let topics = Set(members.flatMap(\.topics)).sorted()
        out[last.memberId] = topics.flatMap { t in (0 ..< (partitionsPerTopic[t] ?? 0)).map { TopicPartition(topic: t, partition: $0) } }
        return out
    }
}
