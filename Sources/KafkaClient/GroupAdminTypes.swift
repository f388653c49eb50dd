public import KafkaProtocol

/// A group's state as its coordinator names it. Open: a state a newer broker invents (or an
/// odd one a Kafka-compatible broker sends, such as Tansu's `Unknown` in ListGroups) is kept as
/// its raw string rather than rejected.
public struct ConsumerGroupState: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Members are joining; the group waits for them before assigning.
    public static let preparingRebalance = ConsumerGroupState(rawValue: "PreparingRebalance")
    /// Members joined; the group waits for the leader's assignment (SyncGroup).
    public static let completingRebalance = ConsumerGroupState(rawValue: "CompletingRebalance")
    /// Every member has its assignment.
    public static let stable = ConsumerGroupState(rawValue: "Stable")
    /// No members, but the group exists (it may hold committed offsets).
    public static let empty = ConsumerGroupState(rawValue: "Empty")
    /// The group has no members and no offsets, or is being removed; brokers before Kafka 4.0's
    /// DescribeGroups v6 answer this for a group that does not exist.
    public static let dead = ConsumerGroupState(rawValue: "Dead")
    /// The broker did not know (or would not say).
    public static let unknown = ConsumerGroupState(rawValue: "Unknown")

    /// The classic-protocol states, for parsing user input.
    public static let known: [ConsumerGroupState] = [.preparingRebalance, .completingRebalance, .stable, .empty, .dead]

    /// A known state whose name matches `name` ignoring case (`stable` → `.stable`), else `name`
    /// as given. Kafka compares states case-insensitively in ListGroups' filter too.
    /// - Parameter name: A state name in any case.
    public init(parsing name: String) {
        self = Self.known.first { $0.rawValue.lowercased() == name.lowercased() } ?? ConsumerGroupState(rawValue: name)
    }

    public var description: String { rawValue }
}

/// One group in `listGroups()`.
public struct ConsumerGroupListing: Sendable, Equatable {
    /// The group id.
    public var groupId: String
    /// `consumer` for consumer groups; nil for groups that only commit offsets ("simple" groups,
    /// which the protocol lists with an empty type).
    public var protocolType: String?
    /// The state (ListGroups v4+); nil when the broker did not report it.
    public var state: ConsumerGroupState?
    /// The group type (ListGroups v5+: `classic`, `consumer`, `share`); nil when not reported.
    public var type: String?
    /// The node id of the broker that listed it (its coordinator).
    public var coordinatorId: Int32

    /// True for a group without a membership protocol (offsets committed by an assign()-only client).
    public var isSimpleConsumerGroup: Bool { protocolType == nil }

    /// A listing.
    /// - Parameters:
    ///   - groupId: The group id.
    ///   - protocolType: `consumer`, or nil for a simple group.
    ///   - state: Its state, if reported.
    ///   - type: Its type, if reported.
    ///   - coordinatorId: The broker that listed it.
    public init(groupId: String, protocolType: String?, state: ConsumerGroupState? = nil, type: String? = nil, coordinatorId: Int32) {
        self.groupId = groupId
        self.protocolType = protocolType
        self.state = state
        self.type = type
        self.coordinatorId = coordinatorId
    }
}

/// A member's protocol payload (subscription or assignment) as DescribeGroups returned it.
///
/// Describing a group never fails because one member's bytes are odd: what could not be
/// interpreted is kept raw and marked.
public enum GroupMemberPayload<Value: Sendable & Equatable>: Sendable, Equatable {
    /// The broker sent no bytes: the group is not Stable, or the broker does not report
    /// payloads (Tansu 0.6 never does).
    case empty
    /// Decoded with the standard consumer protocol; `version` is the payload's own version.
    case decoded(Value, version: Int16)
    /// The group uses another protocol type (e.g. `connect`): the bytes, uninterpreted.
    case opaque([UInt8])
    /// The group says it uses the consumer protocol but these bytes do not decode; `reason`
    /// says where decoding stopped.
    case undecodable([UInt8], reason: String)

    /// The decoded value, if any.
    public var value: Value? {
        if case let .decoded(v, _) = self { return v }
        return nil
    }

    /// The uninterpreted bytes of `.opaque` and `.undecodable`; empty otherwise.
    public var rawBytes: [UInt8] {
        switch self {
        case .empty, .decoded: return []
        case let .opaque(b), let .undecodable(b, _): return b
        }
    }

    /// `empty`, `decoded`, `opaque` or `undecodable`.
    public var status: String {
        switch self {
        case .empty: return "empty"
        case .decoded: return "decoded"
        case .opaque: return "opaque"
        case .undecodable: return "undecodable"
        }
    }
}

/// One member of a described group.
public struct ConsumerGroupMemberDescription: Sendable, Equatable {
    /// The member id the coordinator gave it.
    public var memberId: String
    /// The static member id (`group.instance.id`, DescribeGroups v4+), nil for dynamic members.
    public var groupInstanceId: String?
    /// The member's `client.id`.
    public var clientId: String
    /// The member's host as the coordinator saw it (Kafka writes `/10.0.0.5`).
    public var host: String
    /// The member's subscription (JoinGroup metadata of the chosen protocol).
    public var subscription: GroupMemberPayload<ConsumerProtocolSubscription>
    /// The member's assignment (from the leader's SyncGroup).
    public var assignment: GroupMemberPayload<ConsumerProtocolAssignment>

    /// The assigned partitions, sorted; empty when the assignment is not decoded.
    public var assignedPartitions: [TopicPartition] {
        (assignment.value?.assignedPartitions ?? [])
            .flatMap { t in t.partitions.map { TopicPartition(topic: t.topic, partition: $0) } }
            .sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }
}

/// A group as DescribeGroups returned it.
public struct ConsumerGroupDescription: Sendable, Equatable {
    /// The group id.
    public var groupId: String
    /// The group's state.
    public var state: ConsumerGroupState
    /// `consumer` for consumer groups; nil for simple groups (and for unknown groups on some
    /// brokers), which the protocol describes with an empty type.
    public var protocolType: String?
    /// The chosen protocol, for consumer groups the assignor (`range`, `cooperative-sticky`…);
    /// nil unless the group is Stable.
    public var protocolName: String?
    /// The members (empty unless the group has members).
    public var members: [ConsumerGroupMemberDescription]
    /// The coordinator that answered.
    public var coordinator: ClusterMetadata.Broker?
    /// The ACL operations allowed on the group as a bit field of operation codes, when the
    /// broker reported a meaningful one; nil for "not requested" (Int32.min) and for other
    /// negative values (Tansu sends -1).
    public var authorizedOperations: Int32?

    /// True for a group without a membership protocol.
    public var isSimpleConsumerGroup: Bool { protocolType == nil }
}

/// A committed offset (OffsetFetch).
public struct ConsumerGroupOffset: Sendable, Equatable {
    /// The next offset the group will read.
    public var offset: Int64
    /// The leader epoch of the last consumed record, nil when unknown.
    public var leaderEpoch: Int32?
    /// Metadata the committer stored with the offset (nil or empty when none).
    public var metadata: String?

    /// An offset to commit (`alterConsumerGroupOffsets`).
    /// - Parameters:
    ///   - offset: The next offset the group will read.
    ///   - leaderEpoch: The leader epoch of the last consumed record, if known.
    ///   - metadata: Text to store with the offset.
    public init(offset: Int64, leaderEpoch: Int32? = nil, metadata: String? = nil) {
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
    }
}

/// How far a group is behind on one partition.
public struct ConsumerGroupPartitionLag: Sendable {
    /// The partition.
    public var topicPartition: TopicPartition
    /// The group's committed offset.
    public var committedOffset: Int64
    /// The partition's log end offset (high watermark), or why it could not be read.
    public var logEndOffset: Result<Int64, KafkaError>
    /// `logEndOffset - committedOffset`, nil when the log end is unknown. Negative only when a
    /// broker reports a log end below the commit (a truncated log, or a broker's bug).
    public var lag: Int64? {
        guard case let .success(end) = logEndOffset else { return nil }
        // Both are wire values: saturate rather than trap on absurd ones.
        return end.saturatingSubtracting(committedOffset)
    }
}

/// A group's lag on every partition it has committed offsets for.
public struct ConsumerGroupLag: Sendable {
    /// The group id.
    public var groupId: String
    /// Sorted by topic, then partition.
    public var partitions: [ConsumerGroupPartitionLag]
    /// The sum of the known lags.
    public var totalLag: Int64 { partitions.reduce(0) { $0.saturatingAdding($1.lag ?? 0) } }
}
