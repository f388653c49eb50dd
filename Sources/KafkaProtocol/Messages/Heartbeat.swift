// Heartbeat · API key 12 · versions 0…4 · flexible from 4
//   v1: throttle_time_ms in the response.  v2: no layout change (the broker answers before throttling).
//   v3: group_instance_id for static membership (KIP-345).  v4: flexible.

/// Keeps a classic group member alive and learns of rebalances.
public struct HeartbeatRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = HeartbeatResponse
    public static let apiKey = ApiKey.heartbeat
    public static let versions: ClosedRange<Int16> = 0 ... 4
    public static let flexibleFrom: Int16? = 4

    /// `group_id`: the consumer group id.
    public var groupId = ""
    /// `generation_id`: the group generation the member belongs to.
    public var generationId: Int32 = 0
    /// `member_id`: the member id the coordinator assigned (empty when joining for the first time).
    public var memberId = ""
    /// v3+: the static member id, nil for dynamic membership.
    public var groupInstanceId: String?
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
    public init(groupId: String, generationId: Int32, memberId: String, groupInstanceId: String? = nil) {
        self.groupId = groupId
        self.generationId = generationId
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 4
        try c.string(&groupId, "group_id", compact: flex)
        try c.int32(&generationId, "generation_id")
        try c.string(&memberId, "member_id", compact: flex)
        try c.nullableString(&groupInstanceId, "group_instance_id", compact: flex, nullable: true, present: version >= 3)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The outcome of a heartbeat (REBALANCE_IN_PROGRESS asks the member to rejoin).
public struct HeartbeatResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.heartbeat
    public static let versions: ClosedRange<Int16> = 0 ... 4
    public static let flexibleFrom: Int16? = 4

    /// v1+.
    public var throttleTimeMs: Int32 = 0
    /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
    public var errorCode: Int16 = 0
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 4
        try c.int32(&throttleTimeMs, "throttle_time_ms", present: version >= 1, ignorable: true)
        try c.int16(&errorCode, "error_code")
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
