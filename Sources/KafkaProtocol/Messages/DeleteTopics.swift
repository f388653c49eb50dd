// DeleteTopics · API key 20 · versions 1…6 · flexible from 4
// (Kafka 4.0 removed v0, KIP-896.)
//   v1: throttle_time_ms.  v4: flexible.  v5: error_message in the response (KIP-599).
//   v6: topics named by name or id (KIP-516): `topics` replaces `topic_names`.

/// Deletes topics.
public struct DeleteTopicsRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = DeleteTopicsResponse
    public static let apiKey = ApiKey.deleteTopics
    public static let versions: ClosedRange<Int16> = 1 ... 6
    public static let flexibleFrom: Int16? = 4

    /// v6+: a topic by name or id.
    public struct Topic: ProtocolStruct, Equatable {
        /// `name`: the topic name, or null to delete by `topic_id`.
        public var name: String?
        /// `topic_id`: the topic's UUID (zero when unknown).
        public var topicId = KafkaUUID.zero
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - name: the topic name, or null to delete by `topic_id` (`name`).
        ///   - topicId: the topic's UUID (zero when unknown) (`topic_id`).
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
    /// `timeout_ms`: how long the broker may wait for the operation to complete, in ms.
    public var timeoutMs: Int32 = 0
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    /// Deletes `names`, filling whichever field `version` uses.
    /// - Parameters:
    ///   - names: The topics to delete (`topic_names` up to v5, `topics` from v6).
    ///   - timeoutMs: How long the controller may wait for the deletion, in ms.
    ///   - version: The version the request will be sent at.
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

    /// One topic's outcome.
    public struct Result: ProtocolStruct, Equatable {
        /// Nullable from v6 (topic asked for by an unknown id).
        public var name: String? = ""
        /// v6+.
        public var topicId = KafkaUUID.zero
        /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
        public var errorCode: Int16 = 0
        /// v5+.
        public var errorMessage: String?
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
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

    /// `throttle_time_ms`: how long the broker throttled this request for a quota, in ms (0: not throttled).
    public var throttleTimeMs: Int32 = 0
    /// `responses`: one result per topic.
    public var responses: [Result] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 4
        try c.int32(&throttleTimeMs, "throttle_time_ms")
        try c.structArray(&responses, "responses", compact: flex, version: version)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
