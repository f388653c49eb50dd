// DescribeGroups · API key 15 · versions 0…6 · flexible from 5
//   v1: throttle_time_ms in the response.  v2: no layout change (the broker answers before throttling).
//   v3: include_authorized_operations; authorized_operations in the response (KIP-430).
//   v4: group_instance_id per member in the response (KIP-345).  v5: flexible.
//   v6: error_message per group; GROUP_ID_NOT_FOUND for unknown groups (KIP-1043).

/// Describes classic groups: state, protocol and members.
public struct DescribeGroupsRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = DescribeGroupsResponse
    public static let apiKey = ApiKey.describeGroups
    public static let versions: ClosedRange<Int16> = 0 ... 6
    public static let flexibleFrom: Int16? = 5

    /// The group ids to describe.
    public var groups: [String] = []
    /// v3+: return each group's `authorized_operations`.
    public var includeAuthorizedOperations = false
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}
    /// A value with these fields set (the others at their defaults).
    /// - Parameters:
    ///   - groups: The group ids to describe.
    ///   - includeAuthorizedOperations: v3+: return each group's `authorized_operations`.
    public init(groups: [String], includeAuthorizedOperations: Bool = false) {
        self.groups = groups
        self.includeAuthorizedOperations = includeAuthorizedOperations
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 5
        try c.stringArray(&groups, "groups", compact: flex)
        try c.bool(&includeAuthorizedOperations, "include_authorized_operations", present: version >= 3)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The groups described.
public struct DescribeGroupsResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.describeGroups
    public static let versions: ClosedRange<Int16> = 0 ... 6
    public static let flexibleFrom: Int16? = 5

    /// One member of a group. Schema struct `DescribedGroupMember`.
    public struct Member: ProtocolStruct, Equatable {
        /// `member_id`: the member's id.
        public var memberId = ""
        /// v4+.
        public var groupInstanceId: String?
        /// `client_id`: the member's `client.id`.
        public var clientId = ""
        /// `client_host`: the host the member connected from.
        public var clientHost = ""
        /// The member's protocol metadata (only when the group is Stable).
        public var memberMetadata: [UInt8] = []
        /// The member's assignment (only when the group is Stable).
        public var memberAssignment: [UInt8] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 5
            try c.string(&memberId, "member_id", compact: flex)
            try c.nullableString(&groupInstanceId, "group_instance_id", compact: flex, nullable: true, present: version >= 4, ignorable: true)
            try c.string(&clientId, "client_id", compact: flex)
            try c.string(&clientHost, "client_host", compact: flex)
            try c.bytes(&memberMetadata, "member_metadata", compact: flex)
            try c.bytes(&memberAssignment, "member_assignment", compact: flex)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// One group.
    public struct DescribedGroup: ProtocolStruct, Equatable {
        /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
        public var errorCode: Int16 = 0
        /// v6+.
        public var errorMessage: String?
        /// `group_id`: the consumer group id.
        public var groupId = ""
        /// `Stable`, `PreparingRebalance`, `CompletingRebalance`, `Empty` or `Dead`.
        public var groupState = ""
        /// `protocol_type`: the group's protocol type (`consumer` for consumer groups; empty for simple groups).
        public var protocolType = ""
        /// The chosen protocol (assignor) name (only when the group is Stable).
        public var protocolData = ""
        /// `members`: the group's members.
        public var members: [Member] = []
        /// v3+: a bit field of the ACL operations allowed; Int32.min when not requested.
        public var authorizedOperations: Int32 = Int32.min
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 5
            try c.int16(&errorCode, "error_code")
            try c.nullableString(&errorMessage, "error_message", compact: flex, nullable: true, present: version >= 6)
            try c.string(&groupId, "group_id", compact: flex)
            try c.string(&groupState, "group_state", compact: flex)
            try c.string(&protocolType, "protocol_type", compact: flex)
            try c.string(&protocolData, "protocol_data", compact: flex)
            try c.structArray(&members, "members", compact: flex, version: version)
            try c.int32(&authorizedOperations, "authorized_operations", present: version >= 3, default: Int32.min)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// v1+.
    public var throttleTimeMs: Int32 = 0
    /// `groups`: the groups.
    public var groups: [DescribedGroup] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 5
        try c.int32(&throttleTimeMs, "throttle_time_ms", present: version >= 1, ignorable: true)
        try c.structArray(&groups, "groups", compact: flex, version: version)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
