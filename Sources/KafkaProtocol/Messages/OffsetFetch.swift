// OffsetFetch · API key 9 · versions 1…9 · flexible from 6
// (Kafka 4.0 removed v0, which read offsets from ZooKeeper, KIP-896.)
//   v1: offsets from the __consumer_offsets topic.
//   v2: null topics = every topic; top-level error_code in the response.
//   v3: throttle_time_ms in the response.  v4: no layout change (the broker answers before throttling).
//   v5: committed_leader_epoch in the response (KIP-320).  v6: flexible.
//   v7: require_stable; UNSTABLE_OFFSET_COMMIT possible per partition (KIP-447).
//   v8: batching: groups replaces group_id/topics, in the request and the response (KIP-709).
//   v9: member_id and member_epoch per group, for the KIP-848 consumer group protocol.
//   v10 (schema only, not declared here): topic ids replace topic names (KIP-848).

/// Fetches committed offsets for one group (v1–7) or several (v8+).
public struct OffsetFetchRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = OffsetFetchResponse
    public static let apiKey = ApiKey.offsetFetch
    public static let versions: ClosedRange<Int16> = 1 ... 9
    public static let flexibleFrom: Int16? = 6

    /// The partitions of one topic to fetch offsets for (v1–7). Schema struct `OffsetFetchRequestTopic`.
    public struct Topic: ProtocolStruct, Equatable {
        /// `name`: the topic name.
        public var name = ""
        /// `partition_indexes`: the partition indexes.
        public var partitionIndexes: [Int32] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - name: the topic name (`name`).
        ///   - partitionIndexes: the partition indexes (`partition_indexes`).
        public init(name: String, partitionIndexes: [Int32]) {
            self.name = name
            self.partitionIndexes = partitionIndexes
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 6
            try c.string(&name, "name", compact: flex)
            try c.int32Array(&partitionIndexes, "partition_indexes", compact: flex)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// The partitions of one topic to fetch offsets for, within a group (v8+). Schema struct
    /// `OffsetFetchRequestTopics`.
    public struct GroupTopic: ProtocolStruct, Equatable {
        /// `name`: the topic name.
        public var name = ""
        /// `partition_indexes`: the partition indexes.
        public var partitionIndexes: [Int32] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - name: the topic name (`name`).
        ///   - partitionIndexes: the partition indexes (`partition_indexes`).
        public init(name: String, partitionIndexes: [Int32]) {
            self.name = name
            self.partitionIndexes = partitionIndexes
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.string(&name, "name", compact: true)
            try c.int32Array(&partitionIndexes, "partition_indexes", compact: true)
            try c.taggedFields(&unknownTaggedFields, flexible: true)
        }
    }

    /// One group to fetch offsets for (v8+). Schema struct `OffsetFetchRequestGroup`.
    public struct Group: ProtocolStruct, Equatable {
        /// `group_id`: the consumer group id.
        public var groupId = ""
        /// v9+: the member id (KIP-848 groups), nil otherwise.
        public var memberId: String?
        /// v9+: the member epoch (KIP-848 groups), -1 otherwise.
        public var memberEpoch: Int32 = -1
        /// nil = every topic.
        public var topics: [GroupTopic]? = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - groupId: the consumer group id (`group_id`).
        ///   - memberId: the member id the coordinator assigned (empty when joining for the first time); v9+: the member id (KIP-848 groups), nil otherwise (`member_id`).
        ///   - memberEpoch: v9+: the member epoch (KIP-848 groups), -1 otherwise.
        ///   - topics: nil = every topic.
        public init(groupId: String, memberId: String? = nil, memberEpoch: Int32 = -1, topics: [GroupTopic]?) {
            self.groupId = groupId
            self.memberId = memberId
            self.memberEpoch = memberEpoch
            self.topics = topics
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.string(&groupId, "group_id", compact: true)
            try c.nullableString(&memberId, "member_id", compact: true, nullable: true, present: version >= 9, ignorable: true)
            try c.int32(&memberEpoch, "member_epoch", present: version >= 9, default: -1, ignorable: true)
            try c.nullableStructArray(&topics, "topics", compact: true, nullable: true, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: true)
        }
    }

    /// v1–7.
    public var groupId = ""
    /// v1–7; nil = every topic (v2+).
    public var topics: [Topic]? = []
    /// v8+.
    public var groups: [Group] = []
    /// v7+: fail partitions with pending transactional commits (UNSTABLE_OFFSET_COMMIT).
    public var requireStable = false
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    /// Fetches the offsets of `groupId` for `topics` (nil = every topic), filling whichever
    /// fields `version` uses.
    /// - Parameters:
    ///   - groupId: The group (`group_id` up to v7, one `groups` entry from v8).
    ///   - topics: The partitions to read, per topic; nil for every committed partition.
    ///   - requireStable: Fail partitions with pending transactional commits (`require_stable`, v7+).
    ///   - version: The version the request will be sent at.
    public init(groupId: String, topics: [(name: String, partitionIndexes: [Int32])]?, requireStable: Bool = false, version: Int16) {
        if version >= 8 {
            groups = [Group(groupId: groupId, topics: topics?.map { GroupTopic(name: $0.name, partitionIndexes: $0.partitionIndexes) })]
        } else {
            self.groupId = groupId
            self.topics = topics?.map { Topic(name: $0.name, partitionIndexes: $0.partitionIndexes) }
        }
        self.requireStable = requireStable
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 6
        try c.string(&groupId, "group_id", compact: flex, present: version <= 7)
        if version <= 7 {
            try c.nullableStructArray(&topics, "topics", compact: flex, nullable: version >= 2, version: version)
        } else {
            try c.absent(&topics, "topics", default: [], ignorable: false)
        }
        try c.structArray(&groups, "groups", compact: flex, version: version, present: version >= 8)
        try c.bool(&requireStable, "require_stable", present: version >= 7)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// Committed offsets, for one group (v1–7) or several (v8+).
public struct OffsetFetchResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.offsetFetch
    public static let versions: ClosedRange<Int16> = 1 ... 9
    public static let flexibleFrom: Int16? = 6

    /// The committed offset of one partition (v1–7). Schema struct `OffsetFetchResponsePartition`.
    public struct Partition: ProtocolStruct, Equatable {
        /// `partition_index`: the partition index.
        public var partitionIndex: Int32 = 0
        /// -1 when there is no committed offset.
        public var committedOffset: Int64 = 0
        /// v5+; -1 when unknown.
        public var committedLeaderEpoch: Int32 = -1
        /// `metadata`: application metadata committed with the offset, or null.
        public var metadata: String? = ""
        /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
        public var errorCode: Int16 = 0
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 6
            try c.int32(&partitionIndex, "partition_index")
            try c.int64(&committedOffset, "committed_offset")
            try c.int32(&committedLeaderEpoch, "committed_leader_epoch", present: version >= 5, default: -1, ignorable: true)
            try c.nullableString(&metadata, "metadata", compact: flex, nullable: true)
            try c.int16(&errorCode, "error_code")
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// The committed offsets of one topic (v1–7). Schema struct `OffsetFetchResponseTopic`.
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

    /// The committed offset of one partition within a group (v8+). Schema struct
    /// `OffsetFetchResponsePartitions`.
    public struct GroupPartition: ProtocolStruct, Equatable {
        /// `partition_index`: the partition index.
        public var partitionIndex: Int32 = 0
        /// -1 when there is no committed offset.
        public var committedOffset: Int64 = 0
        /// -1 when unknown.
        public var committedLeaderEpoch: Int32 = -1
        /// `metadata`: application metadata committed with the offset, or null.
        public var metadata: String? = ""
        /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
        public var errorCode: Int16 = 0
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.int32(&partitionIndex, "partition_index")
            try c.int64(&committedOffset, "committed_offset")
            try c.int32(&committedLeaderEpoch, "committed_leader_epoch")
            try c.nullableString(&metadata, "metadata", compact: true, nullable: true)
            try c.int16(&errorCode, "error_code")
            try c.taggedFields(&unknownTaggedFields, flexible: true)
        }
    }

    /// The committed offsets of one topic within a group (v8+). Schema struct `OffsetFetchResponseTopics`.
    public struct GroupTopic: ProtocolStruct, Equatable {
        /// `name`: the topic name.
        public var name = ""
        /// `partitions`: one entry per partition.
        public var partitions: [GroupPartition] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.string(&name, "name", compact: true)
            try c.structArray(&partitions, "partitions", compact: true, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: true)
        }
    }

    /// The committed offsets of one group (v8+). Schema struct `OffsetFetchResponseGroup`.
    public struct Group: ProtocolStruct, Equatable {
        /// `group_id`: the consumer group id.
        public var groupId = ""
        /// `topics`: the committed offsets, per topic.
        public var topics: [GroupTopic] = []
        /// A group-level error.
        public var errorCode: Int16 = 0
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.string(&groupId, "group_id", compact: true)
            try c.structArray(&topics, "topics", compact: true, version: version)
            try c.int16(&errorCode, "error_code")
            try c.taggedFields(&unknownTaggedFields, flexible: true)
        }
    }

    /// v3+.
    public var throttleTimeMs: Int32 = 0
    /// v1–7.
    public var topics: [Topic] = []
    /// v2–7: a group-level error.
    public var errorCode: Int16 = 0
    /// v8+.
    public var groups: [Group] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 6
        try c.int32(&throttleTimeMs, "throttle_time_ms", present: version >= 3, ignorable: true)
        try c.structArray(&topics, "topics", compact: flex, version: version, present: version <= 7)
        try c.int16(&errorCode, "error_code", present: (2 ... 7).contains(version), ignorable: true)
        try c.structArray(&groups, "groups", compact: flex, version: version, present: version >= 8)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
