import KafkaProtocol

/// The cooperative-sticky assignor (`cooperative-sticky`; Java `CooperativeStickyAssignor`,
/// librdkafka and kafka-python `cooperative-sticky`). Cooperative protocol (KIP-429).
///
/// The target assignment is balanced (counts within one when subscriptions are identical, as
/// balanced as the subscriptions allow otherwise) and sticky: a member keeps what it owns unless
/// balance needs it elsewhere (`StickyBalancer`). Ownership comes from each member's
/// `ownedPartitions` (subscription v1+); when several members claim a partition, the one with the
/// highest generation keeps it, and a tie for the highest invalidates the claim (as Java and
/// librdkafka do for "two owners in the same generation").
///
/// The cooperative adjustment: a partition that moves from A to B is left out of B's assignment
/// in this round. A sees it missing, revokes it and rejoins; in the follow-up rebalance nobody
/// owns it and B gets it. So no partition is ever assigned to one member while another may still
/// be reading it. Concretely, a claimed partition is given only to the member whose claim won;
/// any other target waits a round (Java's "partitions transferring ownership"). That includes a
/// partition whose claimants tied, and one claimed by a member no longer subscribed to its topic:
/// every claimant revokes it first.
public struct CooperativeStickyAssignor: PartitionAssignor {
    /// The assignor (it has no settings).
    public init() {}
    public var name: String { "cooperative-sticky" }
    public var rebalanceProtocol: RebalanceProtocol { .cooperative }

    /// The Java client's cooperative-sticky user data (`COOPERATIVE_STICKY_ASSIGNOR_USER_DATA_V0`):
    /// the generation as one big-endian Int32. A Java leader reads the generation from here when
    /// a subscription is older than v2; librdkafka and kafka-python leaders ignore it.
    /// - Parameters:
    ///   - ownedPartitions: Not used (the subscription carries them).
    ///   - generationId: The generation the owned partitions were assigned in; nil before the
    ///     first assignment (written as Java's `DEFAULT_GENERATION`, -1).
    /// - Returns: 4 bytes.
    public func userData(ownedPartitions: [TopicPartition], generationId: Int32?) -> [UInt8]? {
        let g = UInt32(bitPattern: generationId ?? -1)
        return [UInt8(g >> 24), UInt8(g >> 16 & 0xFF), UInt8(g >> 8 & 0xFF), UInt8(g & 0xFF)]
    }

    public func assign(members: [GroupMemberSubscription], partitionsPerTopic: [String: Int32]) -> [String: [TopicPartition]] {
        plan(members: members, partitionsPerTopic: partitionsPerTopic).assignment
    }

    /// The assignment for this round, and the partitions withheld from it because they move:
    /// partition -> the member that gets it in the follow-up rebalance (Java's
    /// `partitionsTransferringOwnership`). The target assignment is the two together.
    func plan(members: [GroupMemberSubscription], partitionsPerTopic: [String: Int32]) -> (assignment: [String: [TopicPartition]], withheld: [TopicPartition: String]) {
        let balancer = StickyBalancer(members: members, partitionsPerTopic: partitionsPerTopic, generation: Self.generation(of:))
        var out = AssignorOrder.emptyAssignment(members)
        var withheld: [TopicPartition: String] = [:]
        // Partition ids ascend by (topic, partition), so each list comes out sorted.
        for (pid, m) in balancer.owners().enumerated() where m >= 0 {
            let memberId = balancer.members[m].memberId
            // Claimed by another member (or by nobody validly): every claimant revokes it first.
            if balancer.isClaimed[pid] && balancer.previousOwner[pid] != m {
                withheld[balancer.topicPartition(pid)] = memberId
            } else {
                out[memberId, default: []].append(balancer.topicPartition(pid))
            }
        }
        return (out, withheld)
    }

    /// The generation a member's owned partitions belong to: the subscription's `generation_id`
    /// (v2+) when known, else the generation in its user data — Java cooperative-sticky's 4-byte
    /// form, or the `[previous_assignment] generation` form of librdkafka's sticky assignors and
    /// Java's `StickyAssignor` — else -1 (the balancer's "no generation", below every real one).
    static func generation(of member: GroupMemberSubscription) -> Int32 {
        if let g = member.generationId, g >= 0 { return g }
        guard let data = member.userData, !data.isEmpty else { return -1 }
        var r = ByteReader(data)
        let decoded: Int32?
        if data.count == 4 {
            decoded = try? r.readInt32("generation")
        } else {
            decoded = try? StickyUserData.generation(&r)
        }
        return max(decoded ?? -1, -1)
    }
}

/// The sticky assignors' user data, version 1 (`StickyAssignorUserData` in Java,
/// `rd_kafka_sticky_assignor_get_metadata` in librdkafka):
/// `[previous_assignment: topic string, [partition int32]] generation int32`.
enum StickyUserData {
    /// The generation, when `r` holds exactly one such structure.
    static func generation(_ r: inout ByteReader) throws -> Int32? {
        let topics = try r.readInt32("previous_assignment")
        guard topics >= 0, Int(topics) <= r.remaining / 6 else { return nil }  // each entry takes >= 6 bytes
        for _ in 0 ..< topics {
            let nameLength = try r.readInt16("topic")
            guard nameLength >= 0 else { return nil }
            try r.skip(Int(nameLength), "topic")
            let partitions = try r.readInt32("partitions")
            guard partitions >= 0, Int(partitions) <= r.remaining / 4 else { return nil }
            try r.skip(Int(partitions) * 4, "partitions")
        }
        let generation = try r.readInt32("generation")
        return r.isAtEnd ? generation : nil
    }
}
