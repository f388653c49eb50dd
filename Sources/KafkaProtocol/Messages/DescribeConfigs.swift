// DescribeConfigs · API key 32 · versions 1…4 · flexible from 4
// (Kafka 4.0 removed v0 and its per-config is_default, KIP-896.)
//   v1: include_synonyms; config_source and synonyms in the response (KIP-226).
//   v2: no layout change (the broker answers before throttling).
//   v3: include_documentation; config_type and documentation in the response (KIP-569).
//   v4: flexible.

/// Describes the configuration of topics, brokers and other resources.
public struct DescribeConfigsRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = DescribeConfigsResponse
    public static let apiKey = ApiKey.describeConfigs
    public static let versions: ClosedRange<Int16> = 1 ... 4
    public static let flexibleFrom: Int16? = 4

    /// `resource_type` of a topic.
    public static let topicResourceType: Int8 = 2
    /// `resource_type` of a broker.
    public static let brokerResourceType: Int8 = 4
    /// `resource_type` of a broker's loggers.
    public static let brokerLoggerResourceType: Int8 = 8

    /// One resource to describe. Schema struct `DescribeConfigsResource`.
    public struct Resource: ProtocolStruct, Equatable {
        /// `DescribeConfigsRequest.topicResourceType`, ….
        public var resourceType: Int8 = 0
        /// The topic name, or the broker id as a string (empty = the default broker config).
        public var resourceName = ""
        /// The config names to describe; nil = all.
        public var configurationKeys: [String]? = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - resourceType: `DescribeConfigsRequest.topicResourceType`, ….
        ///   - resourceName: The topic name, or the broker id as a string (empty = the default broker config).
        ///   - configurationKeys: The config names to describe; nil = all.
        public init(resourceType: Int8, resourceName: String, configurationKeys: [String]? = nil) {
            self.resourceType = resourceType
            self.resourceName = resourceName
            self.configurationKeys = configurationKeys
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 4
            try c.int8(&resourceType, "resource_type")
            try c.string(&resourceName, "resource_name", compact: flex)
            try c.nullableArray(&configurationKeys, "configuration_keys", compact: flex, nullable: true) { c, e in try c.string(&e, "", compact: flex) }
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// `resources`: the resources whose configuration is asked for.
    public var resources: [Resource] = []
    /// Return each config's synonyms.
    public var includeSynonyms = false
    /// v3+: return each config's documentation.
    public var includeDocumentation = false
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}
    /// A value with these fields set (the others at their defaults).
    /// - Parameters:
    ///   - resources: the resources whose configuration is asked for (`resources`).
    ///   - includeSynonyms: Return each config's synonyms.
    ///   - includeDocumentation: v3+: return each config's documentation.
    public init(resources: [Resource], includeSynonyms: Bool = false, includeDocumentation: Bool = false) {
        self.resources = resources
        self.includeSynonyms = includeSynonyms
        self.includeDocumentation = includeDocumentation
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 4
        try c.structArray(&resources, "resources", compact: flex, version: version)
        try c.bool(&includeSynonyms, "include_synonyms")
        try c.bool(&includeDocumentation, "include_documentation", present: version >= 3)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The configurations described.
public struct DescribeConfigsResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.describeConfigs
    public static let versions: ClosedRange<Int16> = 1 ... 4
    public static let flexibleFrom: Int16? = 4

    /// Where else a config's value is set. Schema struct `DescribeConfigsSynonym`.
    public struct Synonym: ProtocolStruct, Equatable {
        /// `name`: the configuration key.
        public var name = ""
        /// `value`: the value from this source, or null.
        public var value: String? = ""
        /// The `config_source` of this synonym.
        public var source: Int8 = 0
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 4
            try c.string(&name, "name", compact: flex)
            try c.nullableString(&value, "value", compact: flex, nullable: true)
            try c.int8(&source, "source")
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// One config of a resource. Schema struct `DescribeConfigsResourceResult`.
    public struct Config: ProtocolStruct, Equatable {
        /// `name`: the configuration key.
        public var name = ""
        /// nil for sensitive configs.
        public var value: String? = ""
        /// `read_only`: whether the value cannot be changed.
        public var readOnly = false
        /// 1 = dynamic topic, 2 = dynamic broker, 3 = dynamic default broker, 4 = static broker,
        /// 5 = default, 6 = dynamic broker logger, 7 = client metrics, 8 = group; -1 unknown.
        public var configSource: Int8 = -1
        /// `is_sensitive`: whether the value is secret (the broker sends null for it).
        public var isSensitive = false
        /// `synonyms`: the other values of this key by source, highest priority first.
        public var synonyms: [Synonym] = []
        /// v3+: 1 = boolean, 2 = string, 3 = int, 4 = short, 5 = long, 6 = double, 7 = list,
        /// 8 = class, 9 = password; 0 unknown.
        public var configType: Int8 = 0
        /// v3+.
        public var documentation: String? = ""
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 4
            try c.string(&name, "name", compact: flex)
            try c.nullableString(&value, "value", compact: flex, nullable: true)
            try c.bool(&readOnly, "read_only")
            try c.int8(&configSource, "config_source")
            try c.bool(&isSensitive, "is_sensitive")
            try c.structArray(&synonyms, "synonyms", compact: flex, version: version)
            try c.int8(&configType, "config_type", present: version >= 3, ignorable: true)
            try c.nullableString(&documentation, "documentation", compact: flex, nullable: true, present: version >= 3, default: "", ignorable: true)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// The configs of one resource. Schema struct `DescribeConfigsResult`.
    public struct Result: ProtocolStruct, Equatable {
        /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
        public var errorCode: Int16 = 0
        /// `error_message`: the broker's explanation of the error, or null.
        public var errorMessage: String? = ""
        /// `resource_type`: the resource type (2 topic, 4 broker, 8 broker logger).
        public var resourceType: Int8 = 0
        /// `resource_name`: the resource's name (a topic name or a broker id).
        public var resourceName = ""
        /// `configs`: the resource's configuration entries.
        public var configs: [Config] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 4
            try c.int16(&errorCode, "error_code")
            try c.nullableString(&errorMessage, "error_message", compact: flex, nullable: true)
            try c.int8(&resourceType, "resource_type")
            try c.string(&resourceName, "resource_name", compact: flex)
            try c.structArray(&configs, "configs", compact: flex, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// `throttle_time_ms`: how long the broker throttled this request for a quota, in ms (0: not throttled).
    public var throttleTimeMs: Int32 = 0
    /// `results`: one result per resource.
    public var results: [Result] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 4
        try c.int32(&throttleTimeMs, "throttle_time_ms")
        try c.structArray(&results, "results", compact: flex, version: version)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
