// DeleteGroups · API key 42 · versions 0…2 · flexible from 2
//   v1: no layout change (the broker answers before throttling).  v2: flexible.

/// Deletes empty groups.
public struct DeleteGroupsRequest: KafkaRequest, Equatable {
    public typealias Response = DeleteGroupsResponse
    public static let apiKey = ApiKey.deleteGroups
    public static let versions: ClosedRange<Int16> = 0 ... 2
    public static let flexibleFrom: Int16? = 2

    /// The group ids to delete.
    public var groupsNames: [String] = []
    public var unknownTaggedFields: [TaggedField] = []

    public init() {}
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
        public var groupId = ""
        public var errorCode: Int16 = 0
        public var unknownTaggedFields: [TaggedField] = []
        public init() {}
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

    public var throttleTimeMs: Int32 = 0
    public var results: [GroupResult] = []
    public var unknownTaggedFields: [TaggedField] = []

    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 2
        try c.int32(&throttleTimeMs, "throttle_time_ms")
        try c.structArray(&results, "results", compact: flex, version: version)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
