// JoinGroup · API key 11 · versions 0…9 · flexible from 6
// (Kafka 4.0 accepts 2–9; 4.1 re-adds 0–1.)
//   v1: rebalance_timeout_ms.  v2: throttle_time_ms in the response.
//   v3: no layout change (the broker answers before throttling).
//   v4: a new member must rejoin with the member id the broker assigns (MEMBER_ID_REQUIRED, KIP-394).
//   v5: group_instance_id for static membership (KIP-345).  v6: flexible.
//   v7: protocol_type in the response; protocol_name becomes nullable (KIP-559).
//   v8: reason (KIP-800).  v9: skip_assignment in the response (KIP-814).

/// Joins (or rejoins) a classic consumer group.
public struct JoinGroupRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = JoinGroupResponse
    public static let apiKey = ApiKey.joinGroup
    public static let versions: ClosedRange<Int16> = 0 ... 9
    public static let flexibleFrom: Int16? = 6

    /// One assignment protocol the member supports, with its metadata (for consumers, an
    /// encoded `ConsumerProtocolSubscription`). Schema struct `JoinGroupRequestProtocol`.
    public struct GroupProtocol: ProtocolStruct, Equatable {
        /// The assignor name (`range`, `cooperative-sticky`, …).
        public var name = ""
        /// `metadata`: the protocol's member metadata (for consumers a `ConsumerProtocolSubscription`).
        public var metadata: [UInt8] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - name: The assignor name (`range`, `cooperative-sticky`, …).
        ///   - metadata: the protocol's member metadata (for consumers a `ConsumerProtocolSubscription`) (`metadata`).
        public init(name: String, metadata: [UInt8]) {
            self.name = name
            self.metadata = metadata
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 6
            try c.string(&name, "name", compact: flex)
            try c.bytes(&metadata, "metadata", compact: flex)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// `group_id`: the consumer group id.
    public var groupId = ""
    /// `session_timeout_ms`: how long the coordinator waits for a heartbeat before removing the member, in ms.
    public var sessionTimeoutMs: Int32 = 0
    /// v1+: how long the coordinator waits for members to rejoin; -1 = use the session timeout.
    public var rebalanceTimeoutMs: Int32 = -1
    /// Empty when joining for the first time.
    public var memberId = ""
    /// v5+: the static member id, nil for dynamic membership.
    public var groupInstanceId: String?
    /// `consumer` for consumer groups.
    public var protocolType = ""
    /// `protocols`: the protocols (assignors) the member supports, in preference order, each with its metadata.
    public var protocols: [GroupProtocol] = []
    /// v8+: why the member is (re)joining.
    public var reason: String?
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}
    /// A value with these fields set (the others at their defaults).
    /// - Parameters:
    ///   - groupId: the consumer group id (`group_id`).
    ///   - sessionTimeoutMs: how long the coordinator waits for a heartbeat before removing the member, in ms (`session_timeout_ms`).
    ///   - rebalanceTimeoutMs: v1+: how long the coordinator waits for members to rejoin; -1 = use the session timeout.
    ///   - memberId: Empty when joining for the first time.
    ///   - groupInstanceId: the static member id (KIP-345), null for dynamic members; v5+: the static member id, nil for dynamic membership (`group_instance_id`).
    ///   - protocolType: `consumer` for consumer groups.
    ///   - protocols: the protocols (assignors) the member supports, in preference order, each with its metadata (`protocols`).
    ///   - reason: v8+: why the member is (re)joining.
    public init(
        groupId: String, sessionTimeoutMs: Int32, rebalanceTimeoutMs: Int32, memberId: String,
        groupInstanceId: String? = nil, protocolType: String = "consumer", protocols: [GroupProtocol], reason: String? = nil
    ) {
        self.groupId = groupId
        self.sessionTimeoutMs = sessionTimeoutMs
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.protocolType = protocolType
        self.protocols = protocols
        self.reason = reason
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 6
        try c.string(&groupId, "group_id", compact: flex)
        try c.int32(&sessionTimeoutMs, "session_timeout_ms")
        try c.int32(&rebalanceTimeoutMs, "rebalance_timeout_ms", present: version >= 1, default: -1, ignorable: true)
        try c.string(&memberId, "member_id", compact: flex)
        try c.nullableString(&groupInstanceId, "group_instance_id", compact: flex, nullable: true, present: version >= 5)
        try c.string(&protocolType, "protocol_type", compact: flex)
        try c.structArray(&protocols, "protocols", compact: flex, version: version)
        try c.nullableString(&reason, "reason", compact: flex, nullable: true, present: version >= 8, ignorable: true)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The outcome of a join: the generation, the chosen protocol and, for the leader, the members.
public struct JoinGroupResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.joinGroup
    public static let versions: ClosedRange<Int16> = 0 ... 9
    public static let flexibleFrom: Int16? = 6

    /// A group member, as sent to the leader. Schema struct `JoinGroupResponseMember`.
    public struct Member: ProtocolStruct, Equatable {
        /// `member_id`: the member's id.
        public var memberId = ""
        /// v5+.
        public var groupInstanceId: String?
        /// The member's metadata for the chosen protocol.
        public var metadata: [UInt8] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - memberId: the member's id (`member_id`).
        ///   - groupInstanceId: the static member id (KIP-345), null for dynamic members; v5+ (`group_instance_id`).
        ///   - metadata: The member's metadata for the chosen protocol.
        public init(memberId: String, groupInstanceId: String? = nil, metadata: [UInt8]) {
            self.memberId = memberId
            self.groupInstanceId = groupInstanceId
            self.metadata = metadata
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 6
            try c.string(&memberId, "member_id", compact: flex)
            try c.nullableString(&groupInstanceId, "group_instance_id", compact: flex, nullable: true, present: version >= 5, ignorable: true)
            try c.bytes(&metadata, "metadata", compact: flex)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// v2+.
    public var throttleTimeMs: Int32 = 0
    /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
    public var errorCode: Int16 = 0
    /// `generation_id`: the group generation the member belongs to.
    public var generationId: Int32 = -1
    /// v7+.
    public var protocolType: String?
    /// The chosen protocol; nullable from v7.
    public var protocolName: String? = ""
    /// The leader's member id.
    public var leader = ""
    /// v9+: the leader must not assign (the broker does it, KIP-814).
    public var skipAssignment = false
    /// This member's id.
    public var memberId = ""
    /// Every member, for the leader; empty for followers.
    public var members: [Member] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 6
        try c.int32(&throttleTimeMs, "throttle_time_ms", present: version >= 2, ignorable: true)
        try c.int16(&errorCode, "error_code")
        try c.int32(&generationId, "generation_id")
        try c.nullableString(&protocolType, "protocol_type", compact: flex, nullable: true, present: version >= 7, ignorable: true)
        try c.nullableString(&protocolName, "protocol_name", compact: flex, nullable: version >= 7)
        try c.string(&leader, "leader", compact: flex)
        try c.bool(&skipAssignment, "skip_assignment", present: version >= 9)
        try c.string(&memberId, "member_id", compact: flex)
        try c.structArray(&members, "members", compact: flex, version: version)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
