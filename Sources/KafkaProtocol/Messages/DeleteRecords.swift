// DeleteRecords · API key 21 · versions 0…2 · flexible from 2
//   v1: no layout change (the broker answers before throttling).  v2: flexible.

/// Deletes records before an offset (advances the log start offset, KIP-107).
public struct DeleteRecordsRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = DeleteRecordsResponse
    public static let apiKey = ApiKey.deleteRecords
    public static let versions: ClosedRange<Int16> = 0 ... 2
    public static let flexibleFrom: Int16? = 2

    /// One partition to truncate. Schema struct `DeleteRecordsPartition`.
    public struct Partition: ProtocolStruct, Equatable {
        /// `partition_index`: the partition index.
        public var partitionIndex: Int32 = 0
        /// Records before this offset are deleted; -1 = the high watermark.
        public var offset: Int64 = 0
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - partitionIndex: the partition index (`partition_index`).
        ///   - offset: Records before this offset are deleted; -1 = the high watermark.
        public init(partitionIndex: Int32, offset: Int64) {
            self.partitionIndex = partitionIndex
            self.offset = offset
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 2
            try c.int32(&partitionIndex, "partition_index")
            try c.int64(&offset, "offset")
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// The partitions of one topic. Schema struct `DeleteRecordsTopic`.
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
            let flex = version >= 2
            try c.string(&name, "name", compact: flex)
            try c.structArray(&partitions, "partitions", compact: flex, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// `topics`: one entry per topic.
    public var topics: [Topic] = []
    /// How long the broker waits for the deletion on every replica.
    public var timeoutMs: Int32 = 0
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}
    /// A value with these fields set (the others at their defaults).
    /// - Parameters:
    ///   - topics: one entry per topic (`topics`).
    ///   - timeoutMs: How long the broker waits for the deletion on every replica.
    public init(topics: [Topic], timeoutMs: Int32) {
        self.topics = topics
        self.timeoutMs = timeoutMs
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 2
        try c.structArray(&topics, "topics", compact: flex, version: version)
        try c.int32(&timeoutMs, "timeout_ms")
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The new low watermark of each partition.
public struct DeleteRecordsResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.deleteRecords
    public static let versions: ClosedRange<Int16> = 0 ... 2
    public static let flexibleFrom: Int16? = 2

    /// The outcome for one partition. Schema struct `DeleteRecordsPartitionResult`.
    public struct PartitionResult: ProtocolStruct, Equatable {
        /// `partition_index`: the partition index.
        public var partitionIndex: Int32 = 0
        /// The partition's new low watermark (log start offset).
        public var lowWatermark: Int64 = 0
        /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
        public var errorCode: Int16 = 0
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 2
            try c.int32(&partitionIndex, "partition_index")
            try c.int64(&lowWatermark, "low_watermark")
            try c.int16(&errorCode, "error_code")
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// The outcome for one topic. Schema struct `DeleteRecordsTopicResult`.
    public struct TopicResult: ProtocolStruct, Equatable {
        /// `name`: the topic name.
        public var name = ""
        /// `partitions`: one entry per partition.
        public var partitions: [PartitionResult] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 2
            try c.string(&name, "name", compact: flex)
            try c.structArray(&partitions, "partitions", compact: flex, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// `throttle_time_ms`: how long the broker throttled this request for a quota, in ms (0: not throttled).
    public var throttleTimeMs: Int32 = 0
    /// `topics`: one entry per topic.
    public var topics: [TopicResult] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 2
        try c.int32(&throttleTimeMs, "throttle_time_ms")
        try c.structArray(&topics, "topics", compact: flex, version: version)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
