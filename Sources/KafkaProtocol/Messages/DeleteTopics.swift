// DeleteTopics · API key 20 · versions 1…6 · flexible from 4
// (Kafka 4.0 removed v0, KIP-896.)
//   v1: throttle_time_ms.  v4: flexible.  v5: error_message in the response (KIP-599).
//   v6: topics named by name or id (KIP-516): `topics` replaces `topic_names`.

/// Deletes topics.
public struct DeleteTopicsRequest: KafkaRequest, Equatable {
    public typealias Response = DeleteTopicsResponse
    public static let apiKey = ApiKey.deleteTopics
    public static let versions: ClosedRange<Int16> = 1 ... 6
    public static let flexibleFrom: Int16? = 4

    /// v6+: a topic by name or id.
    public struct Topic: ProtocolStruct, Equatable {
        public var name: String?
        public var topicId = KafkaUUID.zero
        public var unknownTaggedFields: [TaggedField] = []
        public init() {}
        public init(name: String?, topicId: KafkaUUID = .zero) {
            self.name = name
            self.topicId = topicId
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.nullableString(&name, "name", compact: true, nullable: true)
            try c.uuid(&topicId, "topic_id")
            try c.taggedFields(&unknownTaggedFields, flexible: true)
        }
    }

    /// v6+.
    public var topics: [Topic] = []
    /// v0–5.
    public var topicNames: [String] = []
    public var timeoutMs: Int32 = 0
    public var unknownTaggedFields: [TaggedField] = []

    public init() {}

    /// Deletes `names`, filling whichever field `version` uses.
    public init(names: [String], timeoutMs: Int32, version: Int16) {
        if version >= 6 { topics = names.map { Topic(name: $0) } } else { topicNames = names }
        self.timeoutMs = timeoutMs
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 4
        try c.structArray(&topics, "topics", compact: flex, version: version, present: version >= 6)
        if version <= 5 {
            try c.stringArray(&topicNames, "topic_names", compact: flex)
        } else {
            try c.absent(&topicNames, "topic_names", default: [], ignorable: true)
        }
        try c.int32(&timeoutMs, "timeout_ms")
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The outcome for each topic.
public struct DeleteTopicsResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.deleteTopics
    public static let versions: ClosedRange<Int16> = 1 ... 6
    public static let flexibleFrom: Int16? = 4

    public struct Result: ProtocolStruct, Equatable {
        /// Nullable from v6 (topic asked for by an unknown id).
        public var name: String? = ""
        /// v6+.
        public var topicId = KafkaUUID.zero
        public var errorCode: Int16 = 0
        /// v5+.
        public var errorMessage: String?
        public var unknownTaggedFields: [TaggedField] = []
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 4
            try c.nullableString(&name, "name", compact: flex, nullable: version >= 6)
            try c.uuid(&topicId, "topic_id", present: version >= 6, ignorable: true)
            try c.int16(&errorCode, "error_code")
            try c.nullableString(&errorMessage, "error_message", compact: flex, nullable: true, present: version >= 5, ignorable: true)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    public var throttleTimeMs: Int32 = 0
    public var responses: [Result] = []
    public var unknownTaggedFields: [TaggedField] = []

    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 4
        try c.int32(&throttleTimeMs, "throttle_time_ms")
        try c.structArray(&responses, "responses", compact: flex, version: version)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
