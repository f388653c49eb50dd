// DeleteRecords · API key 21 · versions 0…2 · flexible from 2
//   v1: no layout change (the broker answers before throttling).  v2: flexible.

/// Deletes records before an offset (advances the log start offset, KIP-107).
public struct DeleteRecordsRequest: KafkaRequest, Equatable {
    public typealias Response = DeleteRecordsResponse
    public static let apiKey = ApiKey.deleteRecords
    public static let versions: ClosedRange<Int16> = 0 ... 2
    public static let flexibleFrom: Int16? = 2

    /// One partition to truncate. Schema struct `DeleteRecordsPartition`.
    public struct Partition: ProtocolStruct, Equatable {
        public var partitionIndex: Int32 = 0
        /// Records before this offset are deleted; -1 = the high watermark.
        public var offset: Int64 = 0
        public var unknownTaggedFields: [TaggedField] = []
        public init() {}
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
        public var name = ""
        public var partitions: [Partition] = []
        public var unknownTaggedFields: [TaggedField] = []
        public init() {}
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

    public var topics: [Topic] = []
    /// How long the broker waits for the deletion on every replica.
    public var timeoutMs: Int32 = 0
    public var unknownTaggedFields: [TaggedField] = []

    public init() {}
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
        public var partitionIndex: Int32 = 0
        /// The partition's new low watermark (log start offset).
        public var lowWatermark: Int64 = 0
        public var errorCode: Int16 = 0
        public var unknownTaggedFields: [TaggedField] = []
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
        public var name = ""
        public var partitions: [PartitionResult] = []
        public var unknownTaggedFields: [TaggedField] = []
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 2
            try c.string(&name, "name", compact: flex)
            try c.structArray(&partitions, "partitions", compact: flex, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    public var throttleTimeMs: Int32 = 0
    public var topics: [TopicResult] = []
    public var unknownTaggedFields: [TaggedField] = []

    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 2
        try c.int32(&throttleTimeMs, "throttle_time_ms")
        try c.structArray(&topics, "topics", compact: flex, version: version)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
