// SyncGroup · API key 14 · versions 0…5 · flexible from 4
//   v1: throttle_time_ms in the response.  v2: no layout change (the broker answers before throttling).
//   v3: group_instance_id for static membership (KIP-345).  v4: flexible.
//   v5: protocol_type and protocol_name in the request and response; the broker rejects a
//       mismatch (KIP-559).

/// Ends a rebalance: the leader sends the assignments, every member receives its own.
public struct SyncGroupRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = SyncGroupResponse
    public static let apiKey = ApiKey.syncGroup
    public static let versions: ClosedRange<Int16> = 0 ... 5
    public static let flexibleFrom: Int16? = 4

    /// One member's assignment (for consumers, an encoded `ConsumerProtocolAssignment`).
    /// Schema struct `SyncGroupRequestAssignment`.
    public struct Assignment: ProtocolStruct, Equatable {
        /// `member_id`: the member id the coordinator assigned (empty when joining for the first time).
        public var memberId = ""
        /// `assignment`: the member's assignment, in the protocol's format (for consumers a `ConsumerProtocolAssignment`).
        public var assignment: [UInt8] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - memberId: the member id the coordinator assigned (empty when joining for the first time) (`member_id`).
        ///   - assignment: the member's assignment, in the protocol's format (for consumers a `ConsumerProtocolAssignment`) (`assignment`).
        public init(memberId: String, assignment: [UInt8]) {
            self.memberId = memberId
            self.assignment = assignment
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 4
            try c.string(&memberId, "member_id", compact: flex)
            try c.bytes(&assignment, "assignment", compact: flex)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// `group_id`: the consumer group id.
    public var groupId = ""
    /// `generation_id`: the group generation the member belongs to.
    public var generationId: Int32 = 0
    /// `member_id`: the member id the coordinator assigned (empty when joining for the first time).
    public var memberId = ""
    /// v3+: the static member id, nil for dynamic membership.
    public var groupInstanceId: String?
    /// v5+: the group's protocol type (`consumer`).
    public var protocolType: String?
    /// v5+: the chosen protocol (assignor) name.
    public var protocolName: String?
    /// The assignments (leader only; empty for followers).
    public var assignments: [Assignment] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}
    /// A value with these fields set (the others at their defaults).
    /// - Parameters:
    ///   - groupId: the consumer group id (`group_id`).
    ///   - generationId: the group generation the member belongs to (`generation_id`).
    ///   - memberId: the member id the coordinator assigned (empty when joining for the first time) (`member_id`).
    ///   - groupInstanceId: the static member id (KIP-345), null for dynamic members; v3+: the static member id, nil for dynamic membership (`group_instance_id`).
    ///   - protocolType: the group's protocol type (`consumer` for consumer groups; empty for simple groups); v5+: the group's protocol type (`consumer`) (`protocol_type`).
    ///   - protocolName: v5+: the chosen protocol (assignor) name.
    ///   - assignments: The assignments (leader only; empty for followers).
    public init(
        groupId: String, generationId: Int32, memberId: String, groupInstanceId: String? = nil,
        protocolType: String? = nil, protocolName: String? = nil, assignments: [Assignment] = []
    ) {
        self.groupId = groupId
        self.generationId = generationId
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.protocolType = protocolType
        self.protocolName = protocolName
        self.assignments = assignments
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 4
        try c.string(&groupId, "group_id", compact: flex)
        try c.int32(&generationId, "generation_id")
        try c.string(&memberId, "member_id", compact: flex)
        try c.nullableString(&groupInstanceId, "group_instance_id", compact: flex, nullable: true, present: version >= 3)
        try c.nullableString(&protocolType, "protocol_type", compact: flex, nullable: true, present: version >= 5, ignorable: true)
        try c.nullableString(&protocolName, "protocol_name", compact: flex, nullable: true, present: version >= 5, ignorable: true)
        try c.structArray(&assignments, "assignments", compact: flex, version: version)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// This member's assignment.
public struct SyncGroupResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.syncGroup
    public static let versions: ClosedRange<Int16> = 0 ... 5
    public static let flexibleFrom: Int16? = 4

    /// v1+.
    public var throttleTimeMs: Int32 = 0
    /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
    public var errorCode: Int16 = 0
    /// v5+.
    public var protocolType: String?
    /// v5+.
    public var protocolName: String?
    /// The member's assignment (for consumers, an encoded `ConsumerProtocolAssignment`).
    public var assignment: [UInt8] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 4
        try c.int32(&throttleTimeMs, "throttle_time_ms", present: version >= 1, ignorable: true)
        try c.int16(&errorCode, "error_code")
        try c.nullableString(&protocolType, "protocol_type", compact: flex, nullable: true, present: version >= 5, ignorable: true)
        try c.nullableString(&protocolName, "protocol_name", compact: flex, nullable: true, present: version >= 5, ignorable: true)
        try c.bytes(&assignment, "assignment", compact: flex)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
