// CreateTopics · API key 19 · versions 2…7 · flexible from 5
// (Kafka 4.0 removed 0–1, KIP-896.)
//   v1: validate_only; error_message in the response.  v2: throttle_time_ms.
//   v4: replication factor / partitions may be -1 for broker defaults (KIP-464).
//   v5: flexible; the response reports the resulting partitions, replication factor and configs
//       (KIP-525), with topic_config_error_code as tagged field 0.
//   v7: topic ids in the response (KIP-516).

/// Creates topics.
public struct CreateTopicsRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = CreateTopicsResponse
    public static let apiKey = ApiKey.createTopics
    public static let versions: ClosedRange<Int16> = 2 ... 7
    public static let flexibleFrom: Int16? = 5

    /// A manual assignment of one partition's replicas.
    public struct Assignment: ProtocolStruct, Equatable {
        /// `partition_index`: the partition index.
        public var partitionIndex: Int32 = 0
        /// `broker_ids`: the broker ids of the new partition's replicas, preferred leader first.
        public var brokerIds: [Int32] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - partitionIndex: the partition index (`partition_index`).
        ///   - brokerIds: the broker ids of the new partition's replicas, preferred leader first (`broker_ids`).
        public init(partitionIndex: Int32, brokerIds: [Int32]) {
            self.partitionIndex = partitionIndex
            self.brokerIds = brokerIds
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.int32(&partitionIndex, "partition_index")
            try c.int32Array(&brokerIds, "broker_ids", compact: version >= 5)
            try c.taggedFields(&unknownTaggedFields, flexible: version >= 5)
        }
    }

    /// A topic configuration entry.
    public struct Config: ProtocolStruct, Equatable {
        /// `name`: the configuration key.
        public var name = ""
        /// `value`: the configuration value, or null.
        public var value: String?
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - name: the configuration key (`name`).
        ///   - value: the configuration value, or null (`value`).
        public init(name: String, value: String?) {
            self.name = name
            self.value = value
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.string(&name, "name", compact: version >= 5)
            try c.nullableString(&value, "value", compact: version >= 5, nullable: true)
            try c.taggedFields(&unknownTaggedFields, flexible: version >= 5)
        }
    }

    /// One topic to create.
    public struct Topic: ProtocolStruct, Equatable {
        /// `name`: the topic name.
        public var name = ""
        /// -1 for the broker default (v4+), or when `assignments` are given.
        public var numPartitions: Int32 = -1
        /// -1 for the broker default (v4+), or when `assignments` are given.
        public var replicationFactor: Int16 = -1
        /// `assignments`: manual replica assignments, one per partition (empty: let the broker decide).
        public var assignments: [Assignment] = []
        /// `configs`: topic configuration entries.
        public var configs: [Config] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - name: the topic name (`name`).
        ///   - numPartitions: -1 for the broker default (v4+), or when `assignments` are given.
        ///   - replicationFactor: -1 for the broker default (v4+), or when `assignments` are given.
        ///   - configs: topic configuration entries (`configs`).
        public init(name: String, numPartitions: Int32, replicationFactor: Int16, configs: [Config] = []) {
            self.name = name
            self.numPartitions = numPartitions
            self.replicationFactor = replicationFactor
            self.configs = configs
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 5
            try c.string(&name, "name", compact: flex)
            try c.int32(&numPartitions, "num_partitions")
            try c.int16(&replicationFactor, "replication_factor")
            try c.structArray(&assignments, "assignments", compact: flex, version: version)
            try c.structArray(&configs, "configs", compact: flex, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// `topics`: one entry per topic.
    public var topics: [Topic] = []
    /// How long the broker waits for the creation to finish (default 60 000).
    public var timeoutMs: Int32 = 60000
    /// v1+: check without creating.
    public var validateOnly = false
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 5
        try c.structArray(&topics, "topics", compact: flex, version: version)
        try c.int32(&timeoutMs, "timeout_ms")
        try c.bool(&validateOnly, "validate_only", present: version >= 1)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The outcome for each topic.
public struct CreateTopicsResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.createTopics
    public static let versions: ClosedRange<Int16> = 2 ... 7
    public static let flexibleFrom: Int16? = 5

    /// A configuration of the created topic (v5+).
    public struct Config: ProtocolStruct, Equatable {
        /// `name`: the configuration key.
        public var name = ""
        /// `value`: the configuration value, or null.
        public var value: String?
        /// `read_only`: whether the value cannot be changed.
        public var readOnly = false
        /// `config_source`: where the value comes from (-1 unknown, 1 topic, 4 static broker, 5 default, …).
        public var configSource: Int8 = -1
        /// `is_sensitive`: whether the value is secret (the broker sends null for it).
        public var isSensitive = false
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.string(&name, "name", compact: true)
            try c.nullableString(&value, "value", compact: true, nullable: true)
            try c.bool(&readOnly, "read_only")
            try c.int8(&configSource, "config_source")
            try c.bool(&isSensitive, "is_sensitive")
            try c.taggedFields(&unknownTaggedFields, flexible: true)
        }
    }

    /// One topic's outcome.
    public struct Topic: ProtocolStruct, Equatable {
        /// `name`: the topic name.
        public var name = ""
        /// v7+.
        public var topicId = KafkaUUID.zero
        /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
        public var errorCode: Int16 = 0
        /// v1+.
        public var errorMessage: String?
        /// Tag 0 (v5+): why the configs could not be returned.
        public var topicConfigErrorCode: Int16?
        /// v5+; -1 when unknown.
        public var numPartitions: Int32 = -1
        /// v5+; -1 when unknown.
        public var replicationFactor: Int16 = -1
        /// v5+; nil when the configs could not be returned.
        public var configs: [Config]? = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 5
            try c.string(&name, "name", compact: flex)
            try c.uuid(&topicId, "topic_id", present: version >= 7, ignorable: true)
            try c.int16(&errorCode, "error_code")
            try c.nullableString(&errorMessage, "error_message", compact: flex, nullable: true)
            try c.int32(&numPartitions, "num_partitions", present: flex, default: -1, ignorable: true)
            try c.int16(&replicationFactor, "replication_factor", present: flex, default: -1, ignorable: true)
            if flex {
                try c.nullableStructArray(&configs, "configs", compact: true, nullable: true, version: version)
                try c.taggedFields(&unknownTaggedFields) { c in
                    try c.tag(0, &topicConfigErrorCode, "topic_config_error_code") { c, v in try c.int16(&v, "") }
                }
            }
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
        let flex = version >= 5
        try c.int32(&throttleTimeMs, "throttle_time_ms")
        try c.structArray(&topics, "topics", compact: flex, version: version)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
