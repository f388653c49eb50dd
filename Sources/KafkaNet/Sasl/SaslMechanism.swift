import KafkaProtocol

/// The SASL mechanisms KafkaWire speaks.
public enum SaslMechanism: String, Sendable, CaseIterable {
    case plain = "PLAIN"
    case scramSHA256 = "SCRAM-SHA-256"
    case scramSHA512 = "SCRAM-SHA-512"
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
        var s = "n,,\u{1}auth=Bearer \(t.value)"
        for (k, v) in t.extensions.sorted(by: { $0.key < $1.key }) {
            guard k != "auth", k.allSatisfy({ $0.isLetter }), !v.contains("\u{1}") else {
                throw KafkaError(.configuration, "invalid OAUTHBEARER extension '\(k)'")
            }
            s += "\u{1}\(k)=\(v)"
        }
        s += "\u{1}\u{1}"
        return Array(s.utf8)
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
