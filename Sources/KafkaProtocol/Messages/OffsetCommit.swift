// OffsetCommit · API key 8 · versions 2…9 · flexible from 8
// (Kafka 4.0 removed 0–1, KIP-896; v1's per-partition commit_timestamp is therefore gone.)
//   v2: retention_time_ms.  v3: throttle_time_ms in the response.
//   v4: no layout change (the broker answers before throttling).
//   v5: retention_time_ms removed (broker config only, KIP-211).
//   v6: committed_leader_epoch for fencing (KIP-320).
//   v7: group_instance_id for static membership (KIP-345).  v8: flexible.
//   v9: no layout change; usable with the KIP-848 consumer group protocol, where
//       generation_id_or_member_epoch carries the member epoch (STALE_MEMBER_EPOCH possible).
//   v10 (schema only, not declared here): topic ids replace topic names (KIP-848).

/// Commits consumer offsets for a group.
public struct OffsetCommitRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = OffsetCommitResponse
    public static let apiKey = ApiKey.offsetCommit
    public static let versions: ClosedRange<Int16> = 2 ... 9
    public static let flexibleFrom: Int16? = 8

    /// The offset to commit for one partition.
    public struct Partition: ProtocolStruct, Equatable {
        /// `partition_index`: the partition index.
        public var partitionIndex: Int32 = 0
        /// `committed_offset`: the offset to commit: the next record to read.
        public var committedOffset: Int64 = 0
        /// v6+: the leader epoch of the last consumed record; -1 when unknown.
        public var committedLeaderEpoch: Int32 = -1
        /// Client metadata stored with the offset.
        public var committedMetadata: String? = ""
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - partitionIndex: the partition index (`partition_index`).
        ///   - committedOffset: the offset to commit: the next record to read (`committed_offset`).
        ///   - committedLeaderEpoch: v6+: the leader epoch of the last consumed record; -1 when unknown.
        ///   - committedMetadata: Client metadata stored with the offset.
        public init(partitionIndex: Int32, committedOffset: Int64, committedLeaderEpoch: Int32 = -1, committedMetadata: String? = "") {
            self.partitionIndex = partitionIndex
            self.committedOffset = committedOffset
            self.committedLeaderEpoch = committedLeaderEpoch
            self.committedMetadata = committedMetadata
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 8
            try c.int32(&partitionIndex, "partition_index")
            try c.int64(&committedOffset, "committed_offset")
            try c.int32(&committedLeaderEpoch, "committed_leader_epoch", present: version >= 6, default: -1, ignorable: true)
            try c.nullableString(&committedMetadata, "committed_metadata", compact: flex, nullable: true)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// The offsets to commit for one topic.
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
            let flex = version >= 8
            try c.string(&name, "name", compact: flex)
            try c.structArray(&partitions, "partitions", compact: flex, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// `group_id`: the consumer group id.
    public var groupId = ""
    /// The generation (classic groups) or member epoch (KIP-848 groups); -1 for a simple
    /// (non-member) commit.
    public var generationIdOrMemberEpoch: Int32 = -1
    /// Empty for a simple (non-member) commit.
    public var memberId = ""
    /// v7+: the static member id, nil for dynamic membership.
    public var groupInstanceId: String?
    /// v2–4: how long to keep the offsets; -1 = the broker default.
    public var retentionTimeMs: Int64 = -1
    /// `topics`: one entry per topic.
    public var topics: [Topic] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}
    /// A value with these fields set (the others at their defaults).
    /// - Parameters:
    ///   - groupId: the consumer group id (`group_id`).
    ///   - generationIdOrMemberEpoch: The generation (classic groups) or member epoch (KIP-848 groups); -1 for a simple (non-member) commit.
    ///   - memberId: Empty for a simple (non-member) commit.
    ///   - groupInstanceId: the static member id (KIP-345), null for dynamic members; v7+: the static member id, nil for dynamic membership (`group_instance_id`).
    ///   - topics: one entry per topic (`topics`).
    public init(groupId: String, generationIdOrMemberEpoch: Int32 = -1, memberId: String = "", groupInstanceId: String? = nil, topics: [Topic]) {
        self.groupId = groupId
        self.generationIdOrMemberEpoch = generationIdOrMemberEpoch
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.topics = topics
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 8
        try c.string(&groupId, "group_id", compact: flex)
        try c.int32(&generationIdOrMemberEpoch, "generation_id_or_member_epoch")
        try c.string(&memberId, "member_id", compact: flex)
        try c.nullableString(&groupInstanceId, "group_instance_id", compact: flex, nullable: true, present: version >= 7)
        try c.int64(&retentionTimeMs, "retention_time_ms", present: version <= 4, default: -1, ignorable: true)
        try c.structArray(&topics, "topics", compact: flex, version: version)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The outcome for each partition committed.
public struct OffsetCommitResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.offsetCommit
    public static let versions: ClosedRange<Int16> = 2 ... 9
    public static let flexibleFrom: Int16? = 8

    /// The outcome for one partition.
    public struct Partition: ProtocolStruct, Equatable {
        /// `partition_index`: the partition index.
        public var partitionIndex: Int32 = 0
        /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
        public var errorCode: Int16 = 0
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - partitionIndex: the partition index (`partition_index`).
        ///   - errorCode: the error code, 0 for none (see `KafkaErrorCode`) (`error_code`).
        public init(partitionIndex: Int32, errorCode: Int16) {
            self.partitionIndex = partitionIndex
            self.errorCode = errorCode
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 8
            try c.int32(&partitionIndex, "partition_index")
            try c.int16(&errorCode, "error_code")
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// The outcome for one topic.
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
            let flex = version >= 8
            try c.string(&name, "name", compact: flex)
            try c.structArray(&partitions, "partitions", compact: flex, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// v3+.
    public var throttleTimeMs: Int32 = 0
    /// `topics`: one entry per topic.
    public var topics: [Topic] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 8
        try c.int32(&throttleTimeMs, "throttle_time_ms", present: version >= 3, ignorable: true)
        try c.structArray(&topics, "topics", compact: flex, version: version)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
