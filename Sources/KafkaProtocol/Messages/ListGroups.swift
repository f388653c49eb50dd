// ListGroups · API key 16 · versions 0…5 · flexible from 3
//   v1: throttle_time_ms in the response.  v2: no layout change (the broker answers before throttling).
//   v3: flexible.  v4: states_filter; group_state in the response (KIP-518).
//   v5: types_filter; group_type in the response (KIP-848).

/// Lists the groups a broker coordinates.
public struct ListGroupsRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = ListGroupsResponse
    public static let apiKey = ApiKey.listGroups
    public static let versions: ClosedRange<Int16> = 0 ... 5
    public static let flexibleFrom: Int16? = 3

    /// v4+: only groups in these states (`Stable`, `Empty`, …); empty = all.
    public var statesFilter: [String] = []
    /// v5+: only groups of these types (`classic`, `consumer`, `share`); empty = all.
    public var typesFilter: [String] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}
    /// A value with these fields set (the others at their defaults).
    /// - Parameters:
    ///   - statesFilter: v4+: only groups in these states (`Stable`, `Empty`, …); empty = all.
    ///   - typesFilter: v5+: only groups of these types (`classic`, `consumer`, `share`); empty = all.
    public init(statesFilter: [String] = [], typesFilter: [String] = []) {
        self.statesFilter = statesFilter
        self.typesFilter = typesFilter
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 3
        if version >= 4 {
            try c.stringArray(&statesFilter, "states_filter", compact: flex)
        } else {
            try c.absent(&statesFilter, "states_filter", default: [], ignorable: false)
        }
        if version >= 5 {
            try c.stringArray(&typesFilter, "types_filter", compact: flex)
        } else {
            try c.absent(&typesFilter, "types_filter", default: [], ignorable: false)
        }
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The groups the broker coordinates.
public struct ListGroupsResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.listGroups
    public static let versions: ClosedRange<Int16> = 0 ... 5
    public static let flexibleFrom: Int16? = 3

    /// One group.
    public struct ListedGroup: ProtocolStruct, Equatable {
        /// `group_id`: the consumer group id.
        public var groupId = ""
        /// `consumer` for classic consumer groups.
        public var protocolType = ""
        /// v4+.
        public var groupState = ""
        /// v5+.
        public var groupType = ""
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - groupId: the consumer group id (`group_id`).
        ///   - protocolType: `consumer` for classic consumer groups.
        ///   - groupState: v4+.
        ///   - groupType: v5+.
        public init(groupId: String, protocolType: String, groupState: String = "", groupType: String = "") {
            self.groupId = groupId
            self.protocolType = protocolType
            self.groupState = groupState
            self.groupType = groupType
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 3
            try c.string(&groupId, "group_id", compact: flex)
            try c.string(&protocolType, "protocol_type", compact: flex)
            try c.string(&groupState, "group_state", compact: flex, present: version >= 4, ignorable: true)
            try c.string(&groupType, "group_type", compact: flex, present: version >= 5, ignorable: true)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// v1+.
    public var throttleTimeMs: Int32 = 0
    /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
    public var errorCode: Int16 = 0
    /// `groups`: the groups.
    public var groups: [ListedGroup] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 3
        try c.int32(&throttleTimeMs, "throttle_time_ms", present: version >= 1, ignorable: true)
        try c.int16(&errorCode, "error_code")
        try c.structArray(&groups, "groups", compact: flex, version: version)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
