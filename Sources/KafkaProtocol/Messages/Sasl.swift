// SaslHandshake · API key 17 · versions 0…1 · never flexible
//   v0: after the handshake the SASL tokens follow as raw length-prefixed frames.
//   v1: the tokens travel in SaslAuthenticate requests (KIP-152).
// SaslAuthenticate · API key 36 · versions 0…2 · flexible from 2
//   v1: session_lifetime_ms for re-authentication (KIP-368).  v2: flexible.

/// Chooses a SASL mechanism.
public struct SaslHandshakeRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = SaslHandshakeResponse
    public static let apiKey = ApiKey.saslHandshake
    public static let versions: ClosedRange<Int16> = 0 ... 1
    public static let flexibleFrom: Int16? = nil

    /// E.g. `PLAIN`, `SCRAM-SHA-512`, `OAUTHBEARER`.
    public var mechanism = ""

    /// A value with every field at its default.
    public init() {}
    /// A value with these fields set (the others at their defaults).
    /// - Parameters:
    ///   - mechanism: E.g. `PLAIN`, `SCRAM-SHA-512`, `OAUTHBEARER`.
    public init(mechanism: String) { self.mechanism = mechanism }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        try c.string(&mechanism, "mechanism", compact: false)
    }
}

/// The broker's answer to a mechanism choice, with every mechanism it enables.
public struct SaslHandshakeResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.saslHandshake
    public static let versions: ClosedRange<Int16> = 0 ... 1
    public static let flexibleFrom: Int16? = nil

    /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
    public var errorCode: Int16 = 0
    /// `mechanisms`: the SASL mechanisms the broker enables.
    public var mechanisms: [String] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        try c.int16(&errorCode, "error_code")
        try c.stringArray(&mechanisms, "mechanisms", compact: false)
    }
}

/// One SASL token from the client.
public struct SaslAuthenticateRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = SaslAuthenticateResponse
    public static let apiKey = ApiKey.saslAuthenticate
    public static let versions: ClosedRange<Int16> = 0 ... 2
    public static let flexibleFrom: Int16? = 2

    /// `auth_bytes`: the SASL mechanism's bytes (the client's token in the request, the broker's answer in the response).
    public var authBytes: [UInt8] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}
    /// A value with these fields set (the others at their defaults).
    /// - Parameters:
    ///   - authBytes: the SASL mechanism's bytes (the client's token in the request, the broker's answer in the response) (`auth_bytes`).
    public init(authBytes: [UInt8]) { self.authBytes = authBytes }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        try c.bytes(&authBytes, "auth_bytes", compact: version >= 2)
        try c.taggedFields(&unknownTaggedFields, flexible: version >= 2)
    }
}

/// One SASL token from the broker.
public struct SaslAuthenticateResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.saslAuthenticate
    public static let versions: ClosedRange<Int16> = 0 ... 2
    public static let flexibleFrom: Int16? = 2

    /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
    public var errorCode: Int16 = 0
    /// `error_message`: the broker's explanation of the error, or null.
    public var errorMessage: String?
    /// `auth_bytes`: the SASL mechanism's bytes (the client's token in the request, the broker's answer in the response).
    public var authBytes: [UInt8] = []
    /// v1+: after this many ms the client must re-authenticate (0 = never).
    public var sessionLifetimeMs: Int64 = 0
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 2
        try c.int16(&errorCode, "error_code")
        try c.nullableString(&errorMessage, "error_message", compact: flex, nullable: true)
        try c.bytes(&authBytes, "auth_bytes", compact: flex)
        try c.int64(&sessionLifetimeMs, "session_lifetime_ms", present: version >= 1, ignorable: true)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
