@testable import KafkaClient
import KafkaProtocol

/// Consumer-protocol payloads from a JoinGroup response fed to every assignor, as the group
/// leader does with what the coordinator sent (`ConsumerGroup`: `ConsumerGroupPayloads.members`
/// then `assign`, no clean-up in between): member ids may repeat, subscriptions may be garbage,
/// name topics twice, claim partitions that do not exist or belong to others.
///
/// Input: byte 0: member count (1...8); per member: a byte choosing its id (6 ids, so they
/// repeat) and static instance id, a uint16 length and that many metadata bytes; then one byte
/// per subscribed topic (sorted) giving its partition count (0 = not in metadata, else 1...32).
/// Properties: nothing traps; every assigned partition exists and goes to one member that
/// subscribed to its topic; range and roundrobin assign every partition of a subscribed topic
/// when member ids are unique. The member metadata bytes also go through `decodeAssignment`,
/// and encoded assignments decode back to themselves.
enum AssignorTarget {
    static let assignors: [any PartitionAssignor] = [RangeAssignor(), RoundRobinAssignor(), CooperativeStickyAssignor()]

    @Sendable static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let count = Int(input.byte() % 8) + 1
        var members: [JoinGroupResponse.Member] = []
        for _ in 0 ..< count {
            let sel = input.byte()
            let length = Int(input.uint16())
            let metadata = input.take(length)
            members.append(JoinGroupResponse.Member(memberId: "m\(sel % 6)", groupInstanceId: sel & 0x80 != 0 ? "i\(sel % 3)" : nil, metadata: metadata))
            _ = try? ConsumerGroupPayloads.decodeAssignment(metadata)
        }
        let (subscriptions, _) = ConsumerGroupPayloads.members(members)
        let topics = Array(Set(subscriptions.flatMap(\.topics))).sorted()
        var counts: [String: Int32] = [:]
        for t in topics {
            let c = input.byte() % 33
            if c > 0 { counts[t] = Int32(c) }
        }
        let uniqueIds = Set(subscriptions.map(\.memberId)).count == subscriptions.count
        for assignor in assignors {
            let plan = assignor.assign(members: subscriptions, partitionsPerTopic: counts)
            check(plan, assignor: assignor.name, subscriptions: subscriptions, counts: counts, complete: uniqueIds && assignor.name != "cooperative-sticky")
            for (_, partitions) in plan {
                guard let bytes = try? ConsumerGroupPayloads.assignment(partitions, userData: nil) else { finding("\(assignor.name): assignment did not encode") }
                guard let back = try? ConsumerGroupPayloads.decodeAssignment(bytes) else { finding("\(assignor.name): encoded assignment did not decode") }
                if Set(back.partitions) != Set(partitions) || back.partitions.count != partitions.count {
                    finding("\(assignor.name): assignment \(partitions) decoded as \(back.partitions)")
                }
            }
            if assignor.name == "cooperative-sticky" {
                _ = assignor.userData(ownedPartitions: plan.values.flatMap { $0 }, generationId: 1)
            }
        }
    }

    static func check(_ plan: [String: [TopicPartition]], assignor: String, subscriptions: [GroupMemberSubscription], counts: [String: Int32], complete: Bool) {
        let subscribed = Dictionary(subscriptions.map { ($0.memberId, Set($0.topics)) }, uniquingKeysWith: { $0.union($1) })
        var owner: [TopicPartition: String] = [:]
        for (member, partitions) in plan {
            guard let topics = subscribed[member] else { finding("\(assignor): assigned to unknown member \(member)") }
            for tp in partitions {
                guard let n = counts[tp.topic], tp.partition >= 0, tp.partition < n else { finding("\(assignor): \(member) got nonexistent \(tp)") }
                if !topics.contains(tp.topic) { finding("\(assignor): \(member) got \(tp) but did not subscribe to \(tp.topic)") }
                if let other = owner[tp] { finding("\(assignor): \(tp) assigned to both \(other) and \(member)") }
                owner[tp] = member
            }
        }
        guard complete else { return }
        for (topic, n) in counts where subscriptions.contains(where: { $0.topics.contains(topic) }) {
            for p in 0 ..< n where owner[TopicPartition(topic: topic, partition: p)] == nil {
                finding("\(assignor): \(topic)-\(p) left unassigned")
            }
        }
    }
}
