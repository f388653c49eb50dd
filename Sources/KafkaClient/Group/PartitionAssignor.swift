import KafkaProtocol

/// How a group moves partitions between members (KIP-429).
public enum RebalanceProtocol: Sendable {
    /// Every member revokes all its partitions before rejoining; the new assignment starts empty.
    case eager
    /// Members keep their partitions across a rebalance and revoke only those that move; a
    /// partition that moves reaches its new owner in a follow-up rebalance.
    case cooperative
}

/// Decides which member reads which partition. Runs on the elected group leader only.
///
/// The built-in ones are `RangeAssignor`, `RoundRobinAssignor` and `CooperativeStickyAssignor`;
/// an application can write its own and put it in `ConsumerConfig.assignors` (every member of
/// the group must offer it under the same `name` for the group to choose it).
///
/// Implementations are pure functions of their input: the same members and partition counts give
/// the same assignment, whatever order the members arrive in.
public protocol PartitionAssignor: Sendable {
    /// The protocol name in JoinGroup: "range", "roundrobin", "cooperative-sticky", or your
    /// own (unique among the assignors a consumer offers).
    var name: String { get }
    /// The rebalance protocol this assignor needs.
    var rebalanceProtocol: RebalanceProtocol { get }
    /// The user_data this member puts in its subscription.
    /// - Parameters:
    ///   - ownedPartitions: The partitions this member holds now.
    ///   - generationId: The generation they were assigned in; nil before the first assignment.
    /// - Returns: The bytes, or nil for none.
    func userData(ownedPartitions: [TopicPartition], generationId: Int32?) -> [UInt8]?
    /// Assigns the subscribed partitions.
    /// - Parameters:
    ///   - members: Every member's subscription, as the coordinator listed them.
    ///   - partitionsPerTopic: Topic → partition count (topics absent from metadata are omitted).
    /// - Returns: memberId → partitions, with an entry (possibly empty) for every member.
    func assign(members: [GroupMemberSubscription], partitionsPerTopic: [String: Int32]) -> [String: [TopicPartition]]
}

/// The built-in assignors, by the names Kafka clients use for them.
public enum PartitionAssignors {
    /// The protocol names of the built-in assignors.
    public static let names = ["range", "roundrobin", "cooperative-sticky"]

    /// "range", "roundrobin", "cooperative-sticky" (case-insensitive; the Java client's class
    /// names such as "org.apache.kafka.clients.consumer.RangeAssignor" are accepted too, as
    /// `partition.assignment.strategy` values written for Java often use them). An unknown name
    /// throws `KafkaError(.configuration)` listing the valid names.
    /// - Parameter name: An assignor name or Java class name.
    /// - Returns: The assignor.
    /// - Throws: `KafkaError(.configuration)` for an unknown name.
    public static func named(_ name: String) throws -> any PartitionAssignor {
        let key = name.trimmingASCIISpaces.lowercased()
        let javaPackage = "org.apache.kafka.clients.consumer."
        switch key {
        case "range", javaPackage + "rangeassignor": return RangeAssignor()
        case "roundrobin", javaPackage + "roundrobinassignor": return RoundRobinAssignor()
        case "cooperative-sticky", javaPackage + "cooperativestickyassignor": return CooperativeStickyAssignor()
        default:
            throw KafkaError(.configuration, "partition.assignment.strategy: unknown assignor \"\(name)\"; valid: \(names.joined(separator: ", ")) (or the Java class names org.apache.kafka.clients.consumer.RangeAssignor, RoundRobinAssignor, CooperativeStickyAssignor)")
        }
    }
}

/// The orderings every assignor uses, chosen to match the Java client so that a group led by
/// us or by a Java member assigns alike.
enum AssignorOrder {
    /// Java's `String.compareTo`: UTF-16 code units, lexicographically. (Swift's `<` on String
    /// compares Unicode scalars after normalization, which differs for some non-ASCII names.)
    static func less(_ a: String, _ b: String) -> Bool {
        a.utf16.lexicographicallyPrecedes(b.utf16)
    }

    static func same(_ a: String, _ b: String) -> Bool {
        a.utf16.elementsEqual(b.utf16)
    }

    /// Java's `MemberInfo.compareTo`: static members (with a group.instance.id) first, ordered by
    /// instance id, then dynamic members by member id. Ordering static members by their stable id
    /// keeps their share of a range assignment when they restart with a new member id (KIP-345).
    /// Ties (impossible in a real group) fall back to the member id so the order is total.
    static func memberLess(_ a: GroupMemberSubscription, _ b: GroupMemberSubscription) -> Bool {
        switch (a.groupInstanceId, b.groupInstanceId) {
        case let (x?, y?) where !same(x, y): return less(x, y)
        case (.some, nil): return true
        case (nil, .some): return false
        default: return less(a.memberId, b.memberId)
        }
    }

    /// Members in `memberLess` order, one entry per member id (the first wins when an id repeats,
    /// which a coordinator never sends).
    static func sortedMembers(_ members: [GroupMemberSubscription]) -> [GroupMemberSubscription] {
        var seen = Set<String>()
        return members.filter { seen.insert($0.memberId).inserted }.sorted(by: memberLess)
    }

    /// `topics` without repeats, in `less` order.
    static func sortedTopics<S: Sequence<String>>(_ topics: S) -> [String] {
        Array(Set(topics)).sorted(by: less)
    }

    /// An empty entry for every member, as `PartitionAssignor.assign` promises.
    static func emptyAssignment(_ members: [GroupMemberSubscription]) -> [String: [TopicPartition]] {
        var out: [String: [TopicPartition]] = [:]
        for m in members { out[m.memberId] = [] }
        return out
    }
}

extension String {
    fileprivate var trimmingASCIISpaces: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[start ... end]
    }
}
