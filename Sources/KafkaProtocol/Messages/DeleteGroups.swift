// DeleteGroups · API key 42 · versions 0…2 · flexible from 2
//   v1: no layout change (the broker answers before throttling).  v2: flexible.

/// Deletes empty groups.
public struct DeleteGroupsRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = DeleteGroupsResponse
    public static let apiKey = ApiKey.deleteGroups
    public static let versions: ClosedRange<Int16> = 0 ... 2
    public static let flexibleFrom: Int16? = 2

    /// The group ids to delete.
    public var groupsNames: [String] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}
    /// A value with these fields set (the others at their defaults).
    /// - Parameters:
    ///   - groupsNames: The group ids to delete.
    public init(groupsNames: [String]) { self.groupsNames = groupsNames }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 2
        try c.stringArray(&groupsNames, "groups_names", compact: flex)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The outcome for each group.
public struct DeleteGroupsResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.deleteGroups
    public static let versions: ClosedRange<Int16> = 0 ... 2
    public static let flexibleFrom: Int16? = 2

    /// The outcome for one group. Schema struct `DeletableGroupResult`.
    public struct GroupResult: ProtocolStruct, Equatable {
        /// `group_id`: the consumer group id.
        public var groupId = ""
        /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
        public var errorCode: Int16 = 0
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - groupId: the consumer group id (`group_id`).
        ///   - errorCode: the error code, 0 for none (see `KafkaErrorCode`) (`error_code`).
        public init(groupId: String, errorCode: Int16) {
            self.groupId = groupId
            self.errorCode = errorCode
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 2
            try c.string(&groupId, "group_id", compact: flex)
            try c.int16(&errorCode, "error_code")
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// `throttle_time_ms`: how long the broker throttled this request for a quota, in ms (0: not throttled).
    public var throttleTimeMs: Int32 = 0
    /// `results`: one result per group.
    public var results: [GroupResult] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 2
        try c.int32(&throttleTimeMs, "throttle_time_ms")
        try c.structArray(&results, "results", compact: flex, version: version)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
