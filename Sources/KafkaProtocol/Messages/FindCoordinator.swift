// FindCoordinator · API key 10 · versions 0…6 · flexible from 3
//   v1: key_type (group or transaction); throttle_time_ms and error_message in the response.
//   v2: no layout change (the broker answers before throttling).  v3: flexible.
//   v4: batching: coordinator_keys replaces key, the response lists coordinators (KIP-699).
//   v5: no layout change (TRANSACTION_ABORTABLE possible, KIP-890).
//   v6: key type 2 = share group, key "groupId:topicId:partition" (KIP-932).

/// Finds the coordinator of a consumer group, transaction or share group.
public struct FindCoordinatorRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = FindCoordinatorResponse
    public static let apiKey = ApiKey.findCoordinator
    public static let versions: ClosedRange<Int16> = 0 ... 6
    public static let flexibleFrom: Int16? = 3

    /// `key_type` for a consumer group id.
    public static let groupKeyType: Int8 = 0
    /// `key_type` for a transactional id (v1+).
    public static let transactionKeyType: Int8 = 1
    /// `key_type` for a share-group partition key (v6+).
    public static let shareKeyType: Int8 = 2

    /// v0–3: the key to look up.
    public var key = ""
    /// v1+: what kind of key (`groupKeyType`, …).
    public var keyType: Int8 = 0
    /// v4+: the keys to look up.
    public var coordinatorKeys: [String] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    /// Looks up `keys`, filling whichever field `version` uses (v0–3 take exactly one key).
    /// - Parameters:
    ///   - keys: Group ids or transactional ids (`key` up to v3, `coordinator_keys` from v4).
    ///   - keyType: 0 for groups, 1 for transactions (`key_type`, v1+).
    ///   - version: The version the request will be sent at.
    public init(keys: [String], keyType: Int8 = 0, version: Int16) {
        if version >= 4 { coordinatorKeys = keys } else { key = keys.first ?? "" }
        self.keyType = keyType
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 3
        try c.string(&key, "key", compact: flex, present: version <= 3)
        try c.int8(&keyType, "key_type", present: version >= 1)
        if version >= 4 {
            try c.stringArray(&coordinatorKeys, "coordinator_keys", compact: flex)
        } else {
            try c.absent(&coordinatorKeys, "coordinator_keys", default: [], ignorable: false)
        }
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The coordinator(s) found.
public struct FindCoordinatorResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.findCoordinator
    public static let versions: ClosedRange<Int16> = 0 ... 6
    public static let flexibleFrom: Int16? = 3

    /// The coordinator for one key (v4+).
    public struct Coordinator: ProtocolStruct, Equatable {
        /// `key`: the coordinator key (the group id or transactional id).
        public var key = ""
        /// `node_id`: the broker's node id.
        public var nodeId: Int32 = 0
        /// `host`: the broker's host name.
        public var host = ""
        /// `port`: the broker's port.
        public var port: Int32 = 0
        /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
        public var errorCode: Int16 = 0
        /// `error_message`: the broker's explanation of the error, or null.
        public var errorMessage: String? = ""
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - key: the coordinator key (the group id or transactional id) (`key`).
        ///   - nodeId: the broker's node id (`node_id`).
        ///   - host: the broker's host name (`host`).
        ///   - port: the broker's port (`port`).
        ///   - errorCode: the error code, 0 for none (see `KafkaErrorCode`) (`error_code`).
        ///   - errorMessage: the broker's explanation of the error, or null (`error_message`).
        public init(key: String, nodeId: Int32, host: String, port: Int32, errorCode: Int16 = 0, errorMessage: String? = nil) {
            self.key = key
            self.nodeId = nodeId
            self.host = host
            self.port = port
            self.errorCode = errorCode
            self.errorMessage = errorMessage
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.string(&key, "key", compact: true)
            try c.int32(&nodeId, "node_id")
            try c.string(&host, "host", compact: true)
            try c.int32(&port, "port")
            try c.int16(&errorCode, "error_code")
            try c.nullableString(&errorMessage, "error_message", compact: true, nullable: true)
            try c.taggedFields(&unknownTaggedFields, flexible: true)
        }
    }

    /// v1+.
    public var throttleTimeMs: Int32 = 0
    /// v0–3.
    public var errorCode: Int16 = 0
    /// v1–3.
    public var errorMessage: String? = ""
    /// v0–3.
    public var nodeId: Int32 = 0
    /// v0–3.
    public var host = ""
    /// v0–3.
    public var port: Int32 = 0
    /// v4+.
    public var coordinators: [Coordinator] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 3
        try c.int32(&throttleTimeMs, "throttle_time_ms", present: version >= 1, ignorable: true)
        try c.int16(&errorCode, "error_code", present: version <= 3)
        try c.nullableString(&errorMessage, "error_message", compact: flex, nullable: true, present: (1 ... 3).contains(version), default: "", ignorable: true)
        try c.int32(&nodeId, "node_id", present: version <= 3)
        try c.string(&host, "host", compact: flex, present: version <= 3)
        try c.int32(&port, "port", present: version <= 3)
        try c.structArray(&coordinators, "coordinators", compact: flex, version: version, present: version >= 4)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }

    /// The answer for `key` whatever the version: the matching `coordinators` entry (v4+), or the
    /// top-level fields when `coordinators` is empty (v0–3).
    /// - Parameter key: The group id or transactional id asked for.
    /// - Returns: Its coordinator entry; nil when the answer does not name it.
    public func coordinator(for key: String) -> Coordinator? {
        if !coordinators.isEmpty { return coordinators.first { $0.key == key } }
        return Coordinator(key: key, nodeId: nodeId, host: host, port: port, errorCode: errorCode, errorMessage: errorMessage)
    }
}
