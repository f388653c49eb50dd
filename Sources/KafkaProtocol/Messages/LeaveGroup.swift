// LeaveGroup · API key 13 · versions 0…5 · flexible from 4
//   v1: throttle_time_ms in the response.  v2: no layout change (the broker answers before throttling).
//   v3: batching: members (member id + group_instance_id) replaces member_id; per-member
//       results in the response (KIP-345).
//   v4: flexible.  v5: reason (KIP-800).

/// Leaves a classic group (one member up to v2, a batch of members from v3).
public struct LeaveGroupRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = LeaveGroupResponse
    public static let apiKey = ApiKey.leaveGroup
    public static let versions: ClosedRange<Int16> = 0 ... 5
    public static let flexibleFrom: Int16? = 4

    /// A member leaving (v3+).
    public struct MemberIdentity: ProtocolStruct, Equatable {
        /// `member_id`: the member id the coordinator assigned (empty when joining for the first time).
        public var memberId = ""
        /// The static member id, nil for dynamic membership.
        public var groupInstanceId: String?
        /// v5+: why the member is leaving.
        public var reason: String?
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - memberId: the member id the coordinator assigned (empty when joining for the first time) (`member_id`).
        ///   - groupInstanceId: The static member id, nil for dynamic membership.
        ///   - reason: v5+: why the member is leaving.
        public init(memberId: String, groupInstanceId: String? = nil, reason: String? = nil) {
            self.memberId = memberId
            self.groupInstanceId = groupInstanceId
            self.reason = reason
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 4
            try c.string(&memberId, "member_id", compact: flex)
            try c.nullableString(&groupInstanceId, "group_instance_id", compact: flex, nullable: true)
            try c.nullableString(&reason, "reason", compact: flex, nullable: true, present: version >= 5, ignorable: true)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// `group_id`: the consumer group id.
    public var groupId = ""
    /// v0–2: the member leaving.
    public var memberId = ""
    /// v3+: the members leaving.
    public var members: [MemberIdentity] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    /// `member` leaves `groupId`, filling whichever field `version` uses (v0–2 cannot carry
    /// `groupInstanceId` or `reason`).
    /// - Parameters:
    ///   - groupId: The group to leave.
    ///   - member: The leaving member (`member_id` up to v2, one `members` entry from v3).
    ///   - version: The version the request will be sent at.
    public init(groupId: String, member: MemberIdentity, version: Int16) {
        self.groupId = groupId
        if version >= 3 { members = [member] } else { memberId = member.memberId }
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 4
        try c.string(&groupId, "group_id", compact: flex)
        try c.string(&memberId, "member_id", compact: flex, present: version <= 2)
        try c.structArray(&members, "members", compact: flex, version: version, present: version >= 3)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The outcome of a leave, overall and (v3+) per member.
public struct LeaveGroupResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.leaveGroup
    public static let versions: ClosedRange<Int16> = 0 ... 5
    public static let flexibleFrom: Int16? = 4

    /// The outcome for one member (v3+).
    public struct MemberResponse: ProtocolStruct, Equatable {
        /// `member_id`: the member id the coordinator assigned (empty when joining for the first time).
        public var memberId = ""
        /// `group_instance_id`: the static member id (KIP-345), null for dynamic members.
        public var groupInstanceId: String? = ""
        /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
        public var errorCode: Int16 = 0
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 4
            try c.string(&memberId, "member_id", compact: flex)
            try c.nullableString(&groupInstanceId, "group_instance_id", compact: flex, nullable: true)
            try c.int16(&errorCode, "error_code")
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// v1+.
    public var throttleTimeMs: Int32 = 0
    /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
    public var errorCode: Int16 = 0
    /// v3+.
    public var members: [MemberResponse] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 4
        try c.int32(&throttleTimeMs, "throttle_time_ms", present: version >= 1, ignorable: true)
        try c.int16(&errorCode, "error_code")
        try c.structArray(&members, "members", compact: flex, version: version, present: version >= 3)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
