// CreatePartitions · API key 37 · versions 0…3 · flexible from 2
//   v1: no layout change (the broker answers before throttling).  v2: flexible.
//   v3: no layout change (THROTTLING_QUOTA_EXCEEDED possible, KIP-599).

/// Adds partitions to existing topics.
public struct CreatePartitionsRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = CreatePartitionsResponse
    public static let apiKey = ApiKey.createPartitions
    public static let versions: ClosedRange<Int16> = 0 ... 3
    public static let flexibleFrom: Int16? = 2

    /// The replicas of one new partition. Schema struct `CreatePartitionsAssignment`.
    public struct Assignment: ProtocolStruct, Equatable {
        /// `broker_ids`: the broker ids of the new partition's replicas, preferred leader first.
        public var brokerIds: [Int32] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - brokerIds: the broker ids of the new partition's replicas, preferred leader first (`broker_ids`).
        public init(brokerIds: [Int32]) { self.brokerIds = brokerIds }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 2
            try c.int32Array(&brokerIds, "broker_ids", compact: flex)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// One topic to grow. Schema struct `CreatePartitionsTopic`.
    public struct Topic: ProtocolStruct, Equatable {
        /// `name`: the topic name.
        public var name = ""
        /// The new total number of partitions.
        public var count: Int32 = 0
        /// Replica assignments of the new partitions; nil = let the broker choose.
        public var assignments: [Assignment]? = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - name: the topic name (`name`).
        ///   - count: The new total number of partitions.
        ///   - assignments: Replica assignments of the new partitions; nil = let the broker choose.
        public init(name: String, count: Int32, assignments: [Assignment]? = nil) {
            self.name = name
            self.count = count
            self.assignments = assignments
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 2
            try c.string(&name, "name", compact: flex)
            try c.int32(&count, "count")
            try c.nullableStructArray(&assignments, "assignments", compact: flex, nullable: true, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// `topics`: one entry per topic.
    public var topics: [Topic] = []
    /// How long the broker waits for the partitions to be created.
    public var timeoutMs: Int32 = 0
    /// Check without creating.
    public var validateOnly = false
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}
    /// A value with these fields set (the others at their defaults).
    /// - Parameters:
    ///   - topics: one entry per topic (`topics`).
    ///   - timeoutMs: How long the broker waits for the partitions to be created.
    ///   - validateOnly: Check without creating.
    public init(topics: [Topic], timeoutMs: Int32, validateOnly: Bool = false) {
        self.topics = topics
        self.timeoutMs = timeoutMs
        self.validateOnly = validateOnly
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 2
        try c.structArray(&topics, "topics", compact: flex, version: version)
        try c.int32(&timeoutMs, "timeout_ms")
        try c.bool(&validateOnly, "validate_only")
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The outcome for each topic.
public struct CreatePartitionsResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.createPartitions
    public static let versions: ClosedRange<Int16> = 0 ... 3
    public static let flexibleFrom: Int16? = 2

    /// The outcome for one topic. Schema struct `CreatePartitionsTopicResult`.
    public struct TopicResult: ProtocolStruct, Equatable {
        /// `name`: the topic name.
        public var name = ""
        /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
        public var errorCode: Int16 = 0
        /// `error_message`: the broker's explanation of the error, or null.
        public var errorMessage: String?
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - name: the topic name (`name`).
        ///   - errorCode: the error code, 0 for none (see `KafkaErrorCode`) (`error_code`).
        ///   - errorMessage: the broker's explanation of the error, or null (`error_message`).
        public init(name: String, errorCode: Int16, errorMessage: String? = nil) {
            self.name = name
            self.errorCode = errorCode
            self.errorMessage = errorMessage
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 2
            try c.string(&name, "name", compact: flex)
            try c.int16(&errorCode, "error_code")
            try c.nullableString(&errorMessage, "error_message", compact: flex, nullable: true)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// `throttle_time_ms`: how long the broker throttled this request for a quota, in ms (0: not throttled).
    public var throttleTimeMs: Int32 = 0
    /// `results`: one result per topic.
    public var results: [TopicResult] = []
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
