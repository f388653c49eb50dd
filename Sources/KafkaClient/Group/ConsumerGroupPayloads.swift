import KafkaProtocol

/// The standard consumer protocol's payloads (protocol type "consumer"): what a member puts in
/// JoinGroup and what the leader puts in SyncGroup, in the bytes every Kafka client reads.
///
/// Versions written: subscription v3 (topics, user data, owned partitions, generation, rack), as
/// the Java client (3.5+) and librdkafka (2.x) write; assignment v3, as the Java client writes
/// (librdkafka writes v0; the layout is the same, and every client reads any version). Absent user
/// data is written as empty bytes rather than null, as librdkafka and kafka-python do (old Java
/// consumers failed on null). Decoding is lenient the way Java's and librdkafka's are: a newer
/// version is read as the newest we know and bytes after the fields are ignored.
enum ConsumerGroupPayloads {
    static let subscriptionVersion: Int16 = 3
    static let assignmentVersion: Int16 = 3

    /// JoinGroup protocol metadata for this member (ConsumerProtocolSubscription v3). Topics are
    /// sorted and owned partitions grouped by topic and sorted, as the Java client writes them.
    static func subscription(topics: [String], ownedPartitions: [TopicPartition], generationId: Int32?, rackId: String?, userData: [UInt8]?) throws -> [UInt8] {
        let value = ConsumerProtocolSubscription(
            topics: AssignorOrder.sortedTopics(topics),
            userData: userData ?? [],
            ownedPartitions: grouped(ownedPartitions).map { .init(topic: $0.topic, partitions: $0.partitions) },
            generationId: generationId ?? -1,  // the protocol's "no generation"
            rackId: rackId)
        do {
            return try value.encoded(version: subscriptionVersion)
        } catch {
            throw KafkaError(.encoding, "cannot encode the consumer subscription: \(error)", underlying: error)
        }
    }

    /// JoinGroup response members → subscriptions, in the response's order. Tolerant: a member
    /// whose metadata does not decode gets an empty subscription (so it is assigned nothing) and
    /// its member id is listed in `undecodable`; nothing here traps.
    static func members(_ members: [JoinGroupResponse.Member]) -> (subscriptions: [GroupMemberSubscription], undecodable: [String]) {
        var subscriptions: [GroupMemberSubscription] = []
        var undecodable: [String] = []
        subscriptions.reserveCapacity(members.count)
        for member in members {
            switch decodeMember(member) {
            case let .success(s):
                subscriptions.append(s)
            case .failure:
                undecodable.append(member.memberId)
                subscriptions.append(GroupMemberSubscription(memberId: member.memberId, groupInstanceId: member.groupInstanceId, topics: []))
            }
        }
        return (subscriptions, undecodable)
    }

    /// One JoinGroup member's metadata, or why it does not decode (`.decoding`, naming the member).
    static func decodeMember(_ member: JoinGroupResponse.Member) -> Result<GroupMemberSubscription, KafkaError> {
        do {
            let s: ConsumerProtocolSubscription = try lenientDecode(member.metadata, newest: ConsumerProtocolSubscription.versions.upperBound)
            return .success(GroupMemberSubscription(
                memberId: member.memberId,
                groupInstanceId: member.groupInstanceId,
                topics: s.topics,
                ownedPartitions: s.ownedPartitions.flatMap { t in t.partitions.map { TopicPartition(topic: t.topic, partition: $0) } },
                generationId: s.generationId >= 0 ? s.generationId : nil,
                // librdkafka sends "" when client.rack is unset; Java reads "" as no rack too.
                rackId: s.rackId.flatMap { $0.isEmpty ? nil : $0 },
                userData: s.userData))
        } catch {
            return .failure(KafkaError(.decoding, "member \(member.memberId): undecodable consumer subscription: \(error)", underlying: error))
        }
    }

    /// SyncGroup assignment bytes for one member (ConsumerProtocolAssignment v3), partitions
    /// grouped by topic and sorted.
    static func assignment(_ partitions: [TopicPartition], userData: [UInt8]?) throws -> [UInt8] {
        let value = ConsumerProtocolAssignment(
            assignedPartitions: grouped(partitions).map { .init(topic: $0.topic, partitions: $0.partitions) },
            userData: userData ?? [])
        do {
            return try value.encoded(version: assignmentVersion)
        } catch {
            throw KafkaError(.encoding, "cannot encode the consumer assignment: \(error)", underlying: error)
        }
    }

    /// Decodes a SyncGroup assignment. Empty bytes mean no partitions (what the coordinator sends a
    /// member the leader left out, e.g. one whose subscription the leader could not read). Throws
    /// `KafkaError(.decoding)` on garbage, including a negative partition number. Repeated
    /// partitions are kept once.
    static func decodeAssignment(_ bytes: [UInt8]) throws -> (partitions: [TopicPartition], userData: [UInt8]?) {
        if bytes.isEmpty { return ([], nil) }
        let a: ConsumerProtocolAssignment
        do {
            a = try lenientDecode(bytes, newest: ConsumerProtocolAssignment.versions.upperBound)
        } catch {
            throw KafkaError(.decoding, "undecodable consumer assignment (\(bytes.count) bytes): \(error)", underlying: error)
        }
        var seen = Set<TopicPartition>()
        var partitions: [TopicPartition] = []
        for t in a.assignedPartitions {
            for p in t.partitions {
                guard p >= 0 else {
                    throw KafkaError(.decoding, "consumer assignment names partition \(p) of topic \(t.topic)", context: .init(topic: t.topic, partition: p))
                }
                let tp = TopicPartition(topic: t.topic, partition: p)
                if seen.insert(tp).inserted { partitions.append(tp) }
            }
        }
        return (partitions, a.userData)
    }

    /// The version prefix, then the struct at that version (the newest we know for a newer one);
    /// trailing bytes are ignored, as Java's `ConsumerProtocol` and librdkafka ignore them.
    private static func lenientDecode<T: ProtocolStruct>(_ bytes: [UInt8], newest: Int16) throws -> T {
        var r = ByteReader(bytes)
        let version = try r.readInt16("version")
        guard version >= 0 else {
            throw ProtocolDecodingError(path: "version", offset: 0, reason: .invalid("negative version \(version)"))
        }
        return try T(from: &r, version: min(version, newest))
    }

    /// Partitions by topic (sorted, Java's string order) with sorted, distinct partition numbers.
    private static func grouped(_ partitions: [TopicPartition]) -> [(topic: String, partitions: [Int32])] {
        var byTopic: [String: Set<Int32>] = [:]
        for tp in partitions { byTopic[tp.topic, default: []].insert(tp.partition) }
        return byTopic.keys.sorted(by: AssignorOrder.less).map { ($0, byTopic[$0, default: []].sorted()) }
    }
}
