// ListOffsets · API key 2 · versions 1…10 · flexible from 6
// (Kafka 4.0 removed v0 and its max_num_offsets / old_style_offsets, KIP-896.)
//   v1: a single offset (and its timestamp) per partition.
//   v2: isolation_level; throttle_time_ms in the response.
//   v3: no layout change (the broker answers before throttling).
//   v4: current_leader_epoch for fencing; leader_epoch in the response (KIP-320).
//   v5: no layout change (OFFSET_NOT_AVAILABLE possible).  v6: flexible.
//   v7: timestamp -3 = the offset with the largest timestamp (KIP-734).
//   v8: timestamp -4 = the local log start offset (KIP-405).
//   v9: timestamp -5 = the last tiered offset (KIP-1005).
//   v10: timeout_ms for asynchronous remote offset lookups (KIP-1075).
//   v11 (schema only, not declared here): timestamp -6 = earliest pending upload (KIP-1023).

/// Looks up offsets by timestamp (or the special timestamps below) for partitions.
public struct ListOffsetsRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = ListOffsetsResponse
    public static let apiKey = ApiKey.listOffsets
    public static let versions: ClosedRange<Int16> = 1 ... 10
    public static let flexibleFrom: Int16? = 6

    /// Special `timestamp`: the offset after the last record (the log end / last stable offset).
    public static let latestTimestamp: Int64 = -1
    /// Special `timestamp`: the log start offset.
    public static let earliestTimestamp: Int64 = -2
    /// Special `timestamp` (v7+): the offset of the record with the largest timestamp.
    public static let maxTimestamp: Int64 = -3
    /// Special `timestamp` (v8+): the start offset of the local (non-tiered) log.
    public static let earliestLocalTimestamp: Int64 = -4
    /// Special `timestamp` (v9+): the highest offset moved to tiered storage.
    public static let latestTieredTimestamp: Int64 = -5

    /// One partition to look up.
    public struct Partition: ProtocolStruct, Equatable {
        /// `partition_index`: the partition index.
        public var partitionIndex: Int32 = 0
        /// v4+: the leader epoch the client knows, for fencing; -1 when unknown.
        public var currentLeaderEpoch: Int32 = -1
        /// A timestamp in ms, or one of the special timestamps (`latestTimestamp`, …).
        public var timestamp: Int64 = 0
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - partitionIndex: the partition index (`partition_index`).
        ///   - timestamp: A timestamp in ms, or one of the special timestamps (`latestTimestamp`, …).
        ///   - currentLeaderEpoch: v4+: the leader epoch the client knows, for fencing; -1 when unknown.
        public init(partitionIndex: Int32, timestamp: Int64, currentLeaderEpoch: Int32 = -1) {
            self.partitionIndex = partitionIndex
            self.timestamp = timestamp
            self.currentLeaderEpoch = currentLeaderEpoch
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 6
            try c.int32(&partitionIndex, "partition_index")
            try c.int32(&currentLeaderEpoch, "current_leader_epoch", present: version >= 4, default: -1, ignorable: true)
            try c.int64(&timestamp, "timestamp")
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// One topic to look up.
    public struct Topic: ProtocolStruct, Equatable {
        /// `name`: the topic name.
        public var name = ""
        /// `partitions`: one entry per partition.
        public var partitions: [Partition] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - name: the topic name (`name`).
        ///   - partitions: one entry per partition (`partitions`).
        public init(name: String, partitions: [Partition]) {
            self.name = name
            self.partitions = partitions
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 6
            try c.string(&name, "name", compact: flex)
            try c.structArray(&partitions, "partitions", compact: flex, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// The requesting broker's id; -1 for clients (-1 here; the schema has no default).
    public var replicaId: Int32 = -1
    /// v2+: 0 = read uncommitted, 1 = read committed.
    public var isolationLevel: Int8 = 0
    /// `topics`: one entry per topic.
    public var topics: [Topic] = []
    /// v10+: how long the broker may wait for remote (tiered) offset lookups.
    public var timeoutMs: Int32 = 0
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}
    /// A value with these fields set (the others at their defaults).
    /// - Parameters:
    ///   - isolationLevel: v2+: 0 = read uncommitted, 1 = read committed.
    ///   - topics: one entry per topic (`topics`).
    ///   - timeoutMs: how long the broker may wait for the operation to complete, in ms; v10+: how long the broker may wait for remote (tiered) offset lookups (`timeout_ms`).
    public init(isolationLevel: Int8 = 0, topics: [Topic], timeoutMs: Int32 = 0) {
        self.isolationLevel = isolationLevel
        self.topics = topics
        self.timeoutMs = timeoutMs
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 6
        try c.int32(&replicaId, "replica_id")
        try c.int8(&isolationLevel, "isolation_level", present: version >= 2)
        try c.structArray(&topics, "topics", compact: flex, version: version)
        try c.int32(&timeoutMs, "timeout_ms", present: version >= 10, ignorable: true)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The offsets found for each partition.
public struct ListOffsetsResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.listOffsets
    public static let versions: ClosedRange<Int16> = 1 ... 10
    public static let flexibleFrom: Int16? = 6

    /// The offset found for one partition.
    public struct Partition: ProtocolStruct, Equatable {
        /// `partition_index`: the partition index.
        public var partitionIndex: Int32 = 0
        /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
        public var errorCode: Int16 = 0
        /// The timestamp of the offset found; -1 when not applicable.
        public var timestamp: Int64 = -1
        /// The offset found; -1 when none.
        public var offset: Int64 = -1
        /// v4+; -1 when unknown.
        public var leaderEpoch: Int32 = -1
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 6
            try c.int32(&partitionIndex, "partition_index")
            try c.int16(&errorCode, "error_code")
            try c.int64(&timestamp, "timestamp")
            try c.int64(&offset, "offset")
            try c.int32(&leaderEpoch, "leader_epoch", present: version >= 4, default: -1)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// The offsets found for one topic.
    public struct Topic: ProtocolStruct, Equatable {
        /// `name`: the topic name.
        public var name = ""
        /// `partitions`: one entry per partition.
        public var partitions: [Partition] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 6
            try c.string(&name, "name", compact: flex)
            try c.structArray(&partitions, "partitions", compact: flex, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// v2+.
    public var throttleTimeMs: Int32 = 0
    /// `topics`: one entry per topic.
    public var topics: [Topic] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 6
        try c.int32(&throttleTimeMs, "throttle_time_ms", present: version >= 2, ignorable: true)
        try c.structArray(&topics, "topics", compact: flex, version: version)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
