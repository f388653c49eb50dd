import KafkaProtocol

/// The SASL mechanisms KafkaWire speaks.
public enum SaslMechanism: String, Sendable, CaseIterable {
    /// User name and password in clear text (RFC 4616): use it over TLS only.
    case plain = "PLAIN"
    /// Salted challenge-response with SHA-256 (RFC 5802, RFC 7677); the password is never sent.
    case scramSHA256 = "SCRAM-SHA-256"
    /// Salted challenge-response with SHA-512.
    case scramSHA512 = "SCRAM-SHA-512"
    /// A bearer token from a provider (RFC 7628, KIP-255).
    case oauthBearer = "OAUTHBEARER"
}

/// An OAuth bearer token and when it stops being valid.
///
/// Its description and reflection never show the token itself.
public struct OAuthBearerToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The compact-serialized token (e.g. a JWT).
    public var value: String
    /// When the token expires. The client replaces it at 80 % of its lifetime (so connections
    /// and KIP-368 re-authentications use a fresh one); nil = valid for good, never replaced.
    public var expiresAt: ContinuousClock.Instant?
    /// SASL extensions sent with the token (KIP-342), e.g. `["logicalCluster": "lkc-123"]`.
    public var extensions: [String: String]

    /// A token.
    /// - Parameters:
    ///   - value: The compact-serialized token.
    ///   - expiresAt: When it expires; nil for never.
    ///   - extensions: SASL extensions to send with it (KIP-342).
    public init(value: String, expiresAt: ContinuousClock.Instant? = nil, extensions: [String: String] = [:]) {
        self.value = value
        self.expiresAt = expiresAt
        self.extensions = extensions
    }

    public var description: String {
        "OAuthBearerToken(value: <redacted>, expires: \(expiresAt.map { "in \($0 - .now)" } ?? "never"), extensions: \(extensions.keys.sorted()))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["value": "<redacted>", "expiresAt": expiresAt as Any, "extensions": extensions.keys.sorted()], displayStyle: .struct)
    }
}

/// How a connection authenticates with SASL.
///
/// Credentials are never included in descriptions, reflection (`dump`), errors or logs.
public struct SaslConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The mechanism (`sasl.mechanism`).
    public var mechanism: SaslMechanism
    /// PLAIN/SCRAM user name.
    public var username: String
    /// PLAIN/SCRAM password.
    public var password: String
    /// OAUTHBEARER: supplies the token. It is called when a connection first needs a token and
    /// then again at 80 % of each token's lifetime (`OAuthBearerToken.expiresAt`); every
    /// connection made with this configuration shares the cached token.
    public var tokenProvider: (@Sendable () async throws -> OAuthBearerToken)? {
        didSet { tokenSource = tokenProvider.map(OAuthBearerTokenSource.init(provider:)) }
    }
    /// The cache and refresh timer behind `tokenProvider` (copies of this value share it).
    package private(set) var tokenSource: OAuthBearerTokenSource?
    /// SCRAM's salted passwords, shared by copies of this value (one client's connections).
    package let scramKeys = ScramKeyCache()

    /// A SASL configuration.
    /// - Parameters:
    ///   - mechanism: The mechanism.
    ///   - username: PLAIN/SCRAM user name.
    ///   - password: PLAIN/SCRAM password.
    ///   - tokenProvider: OAUTHBEARER token source (see `tokenProvider`).
    public init(mechanism: SaslMechanism, username: String = "", password: String = "", tokenProvider: (@Sendable () async throws -> OAuthBearerToken)? = nil) {
        self.mechanism = mechanism
        self.username = username
        self.password = password
        self.tokenProvider = tokenProvider
        tokenSource = tokenProvider.map(OAuthBearerTokenSource.init(provider:))
    }

    public var description: String { "SASL \(mechanism.rawValue) as \(username.isEmpty ? "(token)" : username)" }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["mechanism": mechanism, "username": username, "password": "<redacted>", "tokenProvider": tokenProvider == nil ? "none" : "set"], displayStyle: .struct)
    }
}

/// One client-side SASL exchange: the first token, then an answer to each server challenge,
/// until `isComplete`.
protocol SaslExchange {
    /// The client's first message.
    mutating func start() async throws -> [UInt8]
    /// The answer to a server message; nil when the exchange is complete and nothing is sent.
    mutating func respond(to challenge: [UInt8]) async throws -> [UInt8]?
    /// True once the server's final message was accepted.
    var isComplete: Bool { get }
}

/// PLAIN (RFC 4616): one message, `authzid NUL user NUL password`.
struct PlainExchange: SaslExchange {
    let username: String
    let password: String
    private(set) var isComplete = false

    mutating func start() async throws -> [UInt8] {
        [0] + Array(username.utf8) + [0] + Array(password.utf8)
    }

    mutating func respond(to challenge: [UInt8]) throws -> [UInt8]? {
        isComplete = true
        return nil
    }
}

/// OAUTHBEARER (RFC 7628, KIP-255/342): `n,,\u{1}auth=Bearer TOKEN\u{1}key=value\u{1}…\u{1}`.
struct OAuthBearerExchange: SaslExchange {
    let source: OAuthBearerTokenSource
    private(set) var token: OAuthBearerToken?
    private(set) var isComplete = false
    private var failed = false

    init(source: OAuthBearerTokenSource) { self.source = source }

    mutating func start() async throws -> [UInt8] {
        let t = try await source.token()
        token = t
        return try Self.initialResponse(t)
    }

    /// The client's initial response for `t`, after checking every field against RFC 7628's
    /// grammar: `\u{1}` separates the fields of that message, so a token or extension carrying
    /// it (or any character outside the grammar) could inject fields of its own. A bad token is
    /// a configuration error (the provider returned it); its value is never put in the message.
    static func initialResponse(_ t: OAuthBearerToken) throws -> [UInt8] {
        guard isValidToken(t.value) else {
            throw KafkaError(.configuration, "invalid OAUTHBEARER token from the token provider: not a b64token (RFC 6750: letters, digits, -._~+/ then optional '=' padding)")
        }
        var s = "n,,\u{1}auth=Bearer \(t.value)"
        for (k, v) in t.extensions.sorted(by: { $0.key < $1.key }) {
            guard k != "auth", isValidExtensionKey(k), isValidExtensionValue(v) else {
                throw KafkaError(.configuration, "invalid OAUTHBEARER extension '\(k.filter { $0.isASCII && $0.isLetter })': keys are ASCII letters (not 'auth'), values printable ASCII, space, tab, CR or LF")
            }
            s += "\u{1}\(k)=\(v)"
        }
        s += "\u{1}\u{1}"
        return Array(s.utf8)
    }

    /// RFC 6750 b64token: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
    static func isValidToken(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        var i = 0
        while i < bytes.count, isTokenByte(bytes[i]) { i += 1 }
        guard i > 0 else { return false }
        while i < bytes.count, bytes[i] == UInt8(ascii: "=") { i += 1 }
        return i == bytes.count
    }

    private static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a") ... UInt8(ascii: "z"), UInt8(ascii: "A") ... UInt8(ascii: "Z"), UInt8(ascii: "0") ... UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }

    /// RFC 7628 key: `1*(ALPHA)`.
    static func isValidExtensionKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.allSatisfy { (UInt8(ascii: "a") ... UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "A") ... UInt8(ascii: "Z")).contains($0) }
    }

    /// RFC 7628 value: `*(VCHAR / SP / HTAB / CR / LF)` (VCHAR is %x21-7E).
    static func isValidExtensionValue(_ value: String) -> Bool {
        value.utf8.allSatisfy { (0x21 ... 0x7E).contains($0) || $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
    }

    mutating func respond(to challenge: [UInt8]) throws -> [UInt8]? {
        if challenge.isEmpty {
            isComplete = true
            return nil
        }
        // A non-empty challenge is the server's JSON error; RFC 7628 says answer with a lone
        // %x01, after which the server fails the exchange with its error message.
        guard !failed else { return nil }
        failed = true
        return [1]
    }
}
