// ApiVersions · API key 18 · versions 0…4 · flexible from 3
//   v1: throttle_time_ms in the response.
//   v2: no layout change (the broker may throttle).
//   v3: client_software_name/version in the request; flexible; response gains tagged fields
//       supported_features (0), finalized_features_epoch (1), finalized_features (2) (KIP-511, KIP-584).
//   v4: no layout change; the broker may include features with min version 0 (KIP-1022).
// The response header is always v0 (see `HeaderVersions.response`), and a broker that does not
// support the requested version answers UNSUPPORTED_VERSION with a v0 body listing its range
// for ApiVersions, which `KafkaNet` uses to retry at a version it speaks.

/// Asks a broker which API versions it supports.
public struct ApiVersionsRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = ApiVersionsResponse
    public static let apiKey = ApiKey.apiVersions
    public static let versions: ClosedRange<Int16> = 0 ... 4
    public static let flexibleFrom: Int16? = 3

    /// v3+: the client library's name (letters, digits, `.`, `-`).
    public var clientSoftwareName = ""
    /// v3+: the client library's version.
    public var clientSoftwareVersion = ""
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}
    /// A value with these fields set (the others at their defaults).
    /// - Parameters:
    ///   - clientSoftwareName: v3+: the client library's name (letters, digits, `.`, `-`).
    ///   - clientSoftwareVersion: v3+: the client library's version.
    public init(clientSoftwareName: String, clientSoftwareVersion: String) {
        self.clientSoftwareName = clientSoftwareName
        self.clientSoftwareVersion = clientSoftwareVersion
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 3
        try c.string(&clientSoftwareName, "client_software_name", compact: flex, present: version >= 3, ignorable: true)
        try c.string(&clientSoftwareVersion, "client_software_version", compact: flex, present: version >= 3, ignorable: true)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The broker's supported API versions and features.
public struct ApiVersionsResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.apiVersions
    public static let versions: ClosedRange<Int16> = 0 ... 4
    public static let flexibleFrom: Int16? = 3

    /// One API and the version range the broker supports for it.
    public struct ApiVersion: ProtocolStruct, Equatable {
        /// `api_key`: the API key (see `ApiKey`).
        public var apiKey: Int16 = 0
        /// `min_version`: the lowest supported version.
        public var minVersion: Int16 = 0
        /// `max_version`: the highest supported version.
        public var maxVersion: Int16 = 0
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - apiKey: the API key (see `ApiKey`) (`api_key`).
        ///   - minVersion: the lowest supported version (`min_version`).
        ///   - maxVersion: the highest supported version (`max_version`).
        public init(apiKey: Int16, minVersion: Int16, maxVersion: Int16) {
            self.apiKey = apiKey
            self.minVersion = minVersion
            self.maxVersion = maxVersion
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.int16(&apiKey, "api_key")
            try c.int16(&minVersion, "min_version")
            try c.int16(&maxVersion, "max_version")
            try c.taggedFields(&unknownTaggedFields, flexible: version >= 3)
        }
    }

    /// A feature the broker supports (tagged, v3+).
    public struct SupportedFeature: ProtocolStruct, Equatable {
        /// `name`: the feature name.
        public var name = ""
        /// `min_version`: the lowest supported version.
        public var minVersion: Int16 = 0
        /// `max_version`: the highest supported version.
        public var maxVersion: Int16 = 0
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.string(&name, "name", compact: true)
            try c.int16(&minVersion, "min_version")
            try c.int16(&maxVersion, "max_version")
            try c.taggedFields(&unknownTaggedFields, flexible: true)
        }
    }

    /// A cluster-wide finalized feature (tagged, v3+).
    public struct FinalizedFeature: ProtocolStruct, Equatable {
        /// `name`: the feature name.
        public var name = ""
        /// `max_version_level`: the highest finalized version level.
        public var maxVersionLevel: Int16 = 0
        /// `min_version_level`: the lowest finalized version level.
        public var minVersionLevel: Int16 = 0
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.string(&name, "name", compact: true)
            try c.int16(&maxVersionLevel, "max_version_level")
            try c.int16(&minVersionLevel, "min_version_level")
            try c.taggedFields(&unknownTaggedFields, flexible: true)
        }
    }

    /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
    public var errorCode: Int16 = 0
    /// `api_keys`: every API the broker speaks, with its version range.
    public var apiKeys: [ApiVersion] = []
    /// v1+.
    public var throttleTimeMs: Int32 = 0
    /// Tag 0 (v3+); nil when absent.
    public var supportedFeatures: [SupportedFeature]?
    /// Tag 1 (v3+); nil when absent (Kafka's default is -1).
    public var finalizedFeaturesEpoch: Int64?
    /// Tag 2 (v3+).
    public var finalizedFeatures: [FinalizedFeature]?
    /// Tag 3 (v3+): set by a KRaft controller ready for ZK migration.
    public var zkMigrationReady: Bool?
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 3
        try c.int16(&errorCode, "error_code")
        try c.structArray(&apiKeys, "api_keys", compact: flex, version: version)
        try c.int32(&throttleTimeMs, "throttle_time_ms", present: version >= 1, ignorable: true)
        if flex {
            try c.taggedFields(&unknownTaggedFields) { c in
                try c.tag(0, &supportedFeatures, "supported_features") { c, v in try c.structArray(&v, "", compact: true, version: version) }
                try c.tag(1, &finalizedFeaturesEpoch, "finalized_features_epoch") { c, v in try c.int64(&v, "") }
                try c.tag(2, &finalizedFeatures, "finalized_features") { c, v in try c.structArray(&v, "", compact: true, version: version) }
                try c.tag(3, &zkMigrationReady, "zk_migration_ready") { c, v in try c.bool(&v, "") }
            }
        }
    }

    /// The range for `key`, if the broker listed it.
    /// - Parameter key: The API.
    /// - Returns: Its advertised versions; nil when the broker lacks it.
    public func range(for key: ApiKey) -> ClosedRange<Int16>? {
        guard let e = apiKeys.first(where: { $0.apiKey == key.rawValue }), e.minVersion <= e.maxVersion else { return nil }
        return e.minVersion ... e.maxVersion
    }
}
