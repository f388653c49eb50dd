// Metadata · API key 3 · versions 0…13 · flexible from 9
//   v1: null topics = all topics (v0: empty = all); rack, controller_id, is_internal.
//   v2: cluster_id.  v3: throttle_time_ms.  v4: allow_auto_topic_creation.
//   v5: offline_replicas.  v7: leader_epoch (KIP-320).
//   v8: authorized operations (KIP-430): topic in 8+, cluster in 8–10 only (KIP-700 moved it).
//   v9: flexible.  v10: topic ids (KIP-516).  v12: topic name nullable in responses.
//   v13: top-level error_code (KIP-1102).

/// Asks for brokers, controller and topic/partition leadership.
public struct MetadataRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = MetadataResponse
    public static let apiKey = ApiKey.metadata
    public static let versions: ClosedRange<Int16> = 0 ... 13
    public static let flexibleFrom: Int16? = 9

    /// One topic to describe, by name or (v10+) by id.
    public struct Topic: ProtocolStruct, Equatable {
        /// v10+.
        public var topicId = KafkaUUID.zero
        /// Nullable from v10 (when asking by id).
        public var name: String? = ""
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - name: Nullable from v10 (when asking by id).
        public init(name: String) { self.name = name }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.uuid(&topicId, "topic_id", present: version >= 10, ignorable: true)
            try c.nullableString(&name, "name", compact: version >= 9, nullable: version >= 10)
            try c.taggedFields(&unknownTaggedFields, flexible: version >= 9)
        }
    }

    /// The topics to describe; nil means every topic (v1+). At v0, an empty list means all.
    public var topics: [Topic]? = []
    /// v4+: may the broker auto-create the topics asked for.
    public var allowAutoTopicCreation = true
    /// v8–10.
    public var includeClusterAuthorizedOperations = false
    /// v8+.
    public var includeTopicAuthorizedOperations = false
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}
    /// A request for `topics` (nil = all topics).
    /// - Parameters:
    ///   - topics: The topic names; nil asks for every topic.
    ///   - allowAutoTopicCreation: Let the broker create unknown topics (`allow_auto_topic_creation`, v4+).
    public init(topics: [String]?, allowAutoTopicCreation: Bool = false) {
        self.topics = topics?.map(Topic.init(name:))
        self.allowAutoTopicCreation = allowAutoTopicCreation
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 9
        try c.nullableStructArray(&topics, "topics", compact: flex, nullable: version >= 1, version: version)
        try c.bool(&allowAutoTopicCreation, "allow_auto_topic_creation", present: version >= 4, default: true)
        try c.bool(&includeClusterAuthorizedOperations, "include_cluster_authorized_operations", present: (8 ... 10).contains(version))
        try c.bool(&includeTopicAuthorizedOperations, "include_topic_authorized_operations", present: version >= 8)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// Brokers, controller and topic/partition leadership.
public struct MetadataResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.metadata
    public static let versions: ClosedRange<Int16> = 0 ... 13
    public static let flexibleFrom: Int16? = 9

    /// One live broker.
    public struct Broker: ProtocolStruct, Equatable {
        /// `node_id`: the broker's node id.
        public var nodeId: Int32 = 0
        /// `host`: the broker's host name.
        public var host = ""
        /// `port`: the broker's port.
        public var port: Int32 = 0
        /// v1+.
        public var rack: String?
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - nodeId: the broker's node id (`node_id`).
        ///   - host: the broker's host name (`host`).
        ///   - port: the broker's port (`port`).
        ///   - rack: the broker's rack, or null; v1+ (`rack`).
        public init(nodeId: Int32, host: String, port: Int32, rack: String? = nil) {
            self.nodeId = nodeId
            self.host = host
            self.port = port
            self.rack = rack
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 9
            try c.int32(&nodeId, "node_id")
            try c.string(&host, "host", compact: flex)
            try c.int32(&port, "port")
            try c.nullableString(&rack, "rack", compact: flex, nullable: true, present: version >= 1, ignorable: true)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// One partition: its leader, replicas and error.
    public struct Partition: ProtocolStruct, Equatable {
        /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
        public var errorCode: Int16 = 0
        /// `partition_index`: the partition index.
        public var partitionIndex: Int32 = 0
        /// `leader_id`: the leader's broker id (-1 when there is none).
        public var leaderId: Int32 = 0
        /// v7+; -1 when unknown.
        public var leaderEpoch: Int32 = -1
        /// `replica_nodes`: the broker ids of all replicas.
        public var replicaNodes: [Int32] = []
        /// `isr_nodes`: the broker ids of the in-sync replicas.
        public var isrNodes: [Int32] = []
        /// v5+.
        public var offlineReplicas: [Int32] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 9
            try c.int16(&errorCode, "error_code")
            try c.int32(&partitionIndex, "partition_index")
            try c.int32(&leaderId, "leader_id")
            try c.int32(&leaderEpoch, "leader_epoch", present: version >= 7, default: -1, ignorable: true)
            try c.int32Array(&replicaNodes, "replica_nodes", compact: flex)
            try c.int32Array(&isrNodes, "isr_nodes", compact: flex)
            if version >= 5 {
                try c.int32Array(&offlineReplicas, "offline_replicas", compact: flex)
            } else {
                try c.absent(&offlineReplicas, "offline_replicas", default: [], ignorable: true)
            }
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// One topic: its id, partitions and error.
    public struct Topic: ProtocolStruct, Equatable {
        /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
        public var errorCode: Int16 = 0
        /// Nullable from v12 (unknown topic asked for by id).
        public var name: String? = ""
        /// v10+.
        public var topicId = KafkaUUID.zero
        /// v1+.
        public var isInternal = false
        /// `partitions`: one entry per partition.
        public var partitions: [Partition] = []
        /// v8+.
        public var topicAuthorizedOperations: Int32 = Int32.min
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 9
            try c.int16(&errorCode, "error_code")
            try c.nullableString(&name, "name", compact: flex, nullable: version >= 12)
            try c.uuid(&topicId, "topic_id", present: version >= 10, ignorable: true)
            try c.bool(&isInternal, "is_internal", present: version >= 1, ignorable: true)
            try c.structArray(&partitions, "partitions", compact: flex, version: version)
            try c.int32(&topicAuthorizedOperations, "topic_authorized_operations", present: version >= 8, default: Int32.min)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// v3+.
    public var throttleTimeMs: Int32 = 0
    /// `brokers`: every live broker.
    public var brokers: [Broker] = []
    /// v2+.
    public var clusterId: String?
    /// v1+; -1 when unknown.
    public var controllerId: Int32 = -1
    /// `topics`: one entry per topic.
    public var topics: [Topic] = []
    /// v8–10.
    public var clusterAuthorizedOperations: Int32 = Int32.min
    /// v13+.
    public var errorCode: Int16 = 0
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 9
        try c.int32(&throttleTimeMs, "throttle_time_ms", present: version >= 3, ignorable: true)
        try c.structArray(&brokers, "brokers", compact: flex, version: version)
        try c.nullableString(&clusterId, "cluster_id", compact: flex, nullable: true, present: version >= 2, ignorable: true)
        try c.int32(&controllerId, "controller_id", present: version >= 1, default: -1, ignorable: true)
        try c.structArray(&topics, "topics", compact: flex, version: version)
        try c.int32(&clusterAuthorizedOperations, "cluster_authorized_operations", present: (8 ... 10).contains(version), default: Int32.min)
        try c.int16(&errorCode, "error_code", present: version >= 13, ignorable: true)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
