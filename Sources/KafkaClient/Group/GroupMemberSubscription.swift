/// One member's subscription as the group leader sees it (decoded from JoinGroup member metadata).
///
/// The leader hands these to its `PartitionAssignor`. Fields beyond `topics` come from newer
/// versions of the consumer protocol's subscription and keep their defaults when a member sent an
/// older version: `ownedPartitions` (v1+, KIP-429), `generationId` (v2+, KIP-792), `rackId` (v3+,
/// KIP-881).
public struct GroupMemberSubscription: Sendable, Equatable {
    /// The member id the coordinator gave this member.
    public var memberId: String
    /// `group.instance.id` of a static member (KIP-345); nil for a dynamic member.
    public var groupInstanceId: String?
    /// The topics the member subscribes to.
    public var topics: [String]
    /// The partitions the member owns now (cooperative rebalancing; empty under eager).
    public var ownedPartitions: [TopicPartition]
    /// The generation in which `ownedPartitions` were assigned; nil when unknown (the member
    /// sent no generation, or the protocol's -1).
    public var generationId: Int32?
    /// The member's `client.rack`; nil when it has none (an empty rack counts as none).
    public var rackId: String?
    /// Assignor-specific data (e.g. the cooperative-sticky generation); nil when absent.
    public var userData: [UInt8]?

    /// A subscription, for assignor tests and custom assignors.
    /// - Parameters:
    ///   - memberId: The member id.
    ///   - groupInstanceId: Its static id, if any.
    ///   - topics: Its topics.
    ///   - ownedPartitions: The partitions it owns now.
    ///   - generationId: Their generation; nil when unknown.
    ///   - rackId: Its rack, if any.
    ///   - userData: Assignor-specific bytes.
    public init(memberId: String, groupInstanceId: String? = nil, topics: [String], ownedPartitions: [TopicPartition] = [], generationId: Int32? = nil, rackId: String? = nil, userData: [UInt8]? = nil) {
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.topics = topics
        self.ownedPartitions = ownedPartitions
        self.generationId = generationId
        self.rackId = rackId
        self.userData = userData
    }
}
