#if canImport(Glibc)
import Glibc
#endif
import KafkaProtocol
public import KafkaNet

/// Settings shared by every KafkaWire client (admin, producer, consumer).
///
/// Set typed properties directly, or Kafka property names through `set(_:_:)` /
/// `init(properties:)` — e.g. `["bootstrap.servers": "localhost:9092", "request.timeout.ms": "5000"]`.
public struct ClientConfig: PropertyConfigurable {
    /// `bootstrap.servers`: `host:port` pairs to discover the cluster from. Required.
    public var bootstrapServers: [String] = []
    /// `client.id`: sent in every request header. Default: `kafkawire`.
    public var clientId = "kafkawire"
    /// `debug`: contexts to log (librdkafka's names): `cgrp` (consumer group), `all`. Lines go
    /// to `logHandler`, or to standard error when there is none. Default: none.
    public var debugContexts: Set<String> = []
    /// Receives debug lines as (context, message). Secrets are never passed here.
    public var logHandler: (@Sendable (String, String) -> Void)?
    /// `request.timeout.ms`: how long to wait for any response. Default: 30 000 ms.
    public var requestTimeout: Duration = .seconds(30)
    /// `default.api.timeout.ms`: overall budget of an admin operation including retries.
    /// Default: 60 000 ms.
    public var defaultApiTimeout: Duration = .seconds(60)
    /// `metadata.max.age.ms`: cluster metadata is refreshed at least this often. Default: 300 000 ms.
    public var metadataMaxAge: Duration = .seconds(300)
    /// `reconnect.backoff.ms`: first delay before reconnecting to a broker. Default: 50 ms.
    public var reconnectBackoff: Duration = .milliseconds(50)
    /// `reconnect.backoff.max.ms`: the reconnect delay's cap. Default: 1 000 ms.
    public var reconnectBackoffMax: Duration = .seconds(1)
    /// `retry.backoff.ms`: first delay before retrying a failed request. Default: 100 ms.
    public var retryBackoff: Duration = .milliseconds(100)
    /// `retry.backoff.max.ms`: the retry delay's cap. Default: 1 000 ms.
    public var retryBackoffMax: Duration = .seconds(1)
    /// `socket.connection.setup.timeout.ms`: time allowed for one TCP connect. Default: 10 000 ms.
    public var connectionSetupTimeout: Duration = .seconds(10)
    /// `receive.message.max.bytes`: largest response frame accepted. Default: 100 MiB.
    public var receiveMessageMaxBytes = 100 * 1024 * 1024
    /// `allow.auto.create.topics`: let metadata requests for unknown topics create them (where
    /// the broker allows it). Default: false for admin operations.
    public var allowAutoCreateTopics = false

    /// `security.protocol`: how connections are secured.
    public enum SecurityProtocol: String, Sendable {
        /// No encryption, no authentication.
        case plaintext
        /// TLS.
        case ssl
        /// SASL authentication without encryption.
        case saslPlaintext = "sasl_plaintext"
        /// SASL authentication over TLS.
        case saslSSL = "sasl_ssl"
    }
    /// `security.protocol`. Default: plaintext.
    public var securityProtocol = SecurityProtocol.plaintext
    /// `sasl.mechanism` (librdkafka: `sasl.mechanisms`). Default: PLAIN.
    public var saslMechanism = SaslMechanism.plain
    /// `sasl.username`.
    public var saslUsername = ""
    /// `sasl.password`. Never logged or included in errors.
    public var saslPassword = ""
    /// OAUTHBEARER token provider (no property name: a typed-only setting).
    public var oauthBearerTokenProvider: (@Sendable () async throws -> OAuthBearerToken)?
    /// TLS settings used when `security.protocol` is ssl or sasl_ssl (`ssl.*` properties).
    public var tls = TLSConfiguration()

    /// Every setting at its default (no bootstrap servers yet).
    public init() {}

    /// A configuration with the given bootstrap servers and defaults for everything else.
    /// - Parameter bootstrapServers: `host:port` pairs.
    public init(bootstrapServers: [String]) {
        self.bootstrapServers = bootstrapServers
    }

    /// A configuration from Kafka property names.
    /// - Parameter properties: Property names and values, e.g. `["bootstrap.servers": "localhost:9092"]`.
    /// - Throws: `KafkaError(.configuration)` for an unknown key or a bad value.
    public init(properties: [String: String]) throws {
        try set(properties)
    }

    /// Checks the configuration is usable: servers present and parseable.
    /// - Throws: `KafkaError(.configuration)` naming what is missing or inconsistent.
    public func validate() throws {
        guard !bootstrapServers.isEmpty else {
            throw KafkaError(.configuration, "bootstrap.servers is empty: give at least one host:port")
        }
        for s in bootstrapServers { _ = try BootstrapAddress.parse(s) }
        if tls.certificateLocation != nil && tls.keyLocation == nil {
            throw KafkaError(.configuration, "ssl.certificate.location needs ssl.key.location")
        }
        switch securityProtocol {
        case .ssl, .plaintext:
            break
        case .saslPlaintext, .saslSSL:
            switch saslMechanism {
            case .plain, .scramSHA256, .scramSHA512:
                guard !saslUsername.isEmpty else { throw KafkaError(.configuration, "sasl.mechanism=\(saslMechanism.rawValue) needs sasl.username and sasl.password") }
            case .oauthBearer:
                guard oauthBearerTokenProvider != nil else { throw KafkaError(.configuration, "sasl.mechanism=OAUTHBEARER needs a token provider (ClientConfig.oauthBearerTokenProvider)") }
            }
        }
    }

    public static let properties: [ConfigProperty<ClientConfig>] = [
        .init("bootstrap.servers", "Comma-separated host:port list. Required.") { c, v in
            let list = v.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
            for s in list { _ = try BootstrapAddress.parse(s) }
            c.bootstrapServers = list
        },
        .init("client.id", "Client id in request headers. Default: kafkawire.") { c, v in c.clientId = v },
        .init("debug", "Debug contexts to log: cgrp, all (comma-separated).") { c, v in
            let names = Set(v.split(separator: ",").map { String($0).trimmingSpaces.lowercased() }.filter { !$0.isEmpty })
            let known: Set<String> = ["cgrp", "consumer", "all", "generic", "broker", "fetch", "protocol", "topic", "metadata", "msg", "security"]
            if let bad = names.subtracting(known).first { throw ConfigParse.bad("debug", bad, "one of \(known.sorted().joined(separator: ", "))") }
            c.debugContexts = names
        },
        .init("request.timeout.ms", "Response timeout. Default: 30000.") { c, v in c.requestTimeout = try ConfigParse.milliseconds("request.timeout.ms", v, min: 1) },
        .init("default.api.timeout.ms", "Admin operation budget. Default: 60000.") { c, v in c.defaultApiTimeout = try ConfigParse.milliseconds("default.api.timeout.ms", v, min: 1) },
        .init("metadata.max.age.ms", "Metadata refresh interval. Default: 300000.") { c, v in c.metadataMaxAge = try ConfigParse.milliseconds("metadata.max.age.ms", v, min: 1) },
        .init("reconnect.backoff.ms", "First reconnect delay. Default: 50.") { c, v in c.reconnectBackoff = try ConfigParse.milliseconds("reconnect.backoff.ms", v) },
        .init("reconnect.backoff.max.ms", "Reconnect delay cap. Default: 1000.") { c, v in c.reconnectBackoffMax = try ConfigParse.milliseconds("reconnect.backoff.max.ms", v) },
        .init("retry.backoff.ms", "First retry delay. Default: 100.") { c, v in c.retryBackoff = try ConfigParse.milliseconds("retry.backoff.ms", v) },
        .init("retry.backoff.max.ms", "Retry delay cap. Default: 1000.") { c, v in c.retryBackoffMax = try ConfigParse.milliseconds("retry.backoff.max.ms", v) },
        .init("socket.connection.setup.timeout.ms", "TCP connect timeout. Default: 10000.") { c, v in c.connectionSetupTimeout = try ConfigParse.milliseconds("socket.connection.setup.timeout.ms", v, min: 1) },
        .init("receive.message.max.bytes", "Largest response frame. Default: 104857600.") { c, v in c.receiveMessageMaxBytes = try ConfigParse.int("receive.message.max.bytes", v, min: 1024, max: Int(Int32.max)) },
        .init("allow.auto.create.topics", "Allow metadata requests to create topics. Default: false.") { c, v in c.allowAutoCreateTopics = try ConfigParse.bool("allow.auto.create.topics", v) },
        .init("ssl.ca.location", "CA certificate file or directory (PEM). Default: the system trust store.") { c, v in c.tls.caLocation = v.isEmpty ? nil : v },
        .init("ssl.endpoint.identification.algorithm", "https (verify the host name) or none. Default: https.") { c, v in
            c.tls.verifyHostname = try ConfigParse.choice("ssl.endpoint.identification.algorithm", v, ["https", "none"]) == "https"
        },
        .init("enable.ssl.certificate.verification", "Verify the broker certificate. Default: true.") { c, v in c.tls.verifyCertificate = try ConfigParse.bool("enable.ssl.certificate.verification", v) },
        .init("ssl.certificate.location", "Client certificate (PEM) for mutual TLS.") { c, v in c.tls.certificateLocation = v },
        .init("ssl.key.location", "Client private key (PEM) for mutual TLS.") { c, v in c.tls.keyLocation = v },
        .init("ssl.key.password", "Password of the client private key (never logged).") { c, v in c.tls.keyPassword = v },
        .init("security.protocol", "plaintext, ssl, sasl_plaintext or sasl_ssl. Default: plaintext.") { c, v in
            c.securityProtocol = SecurityProtocol(rawValue: try ConfigParse.choice("security.protocol", v, ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"]))!
        },
        .init("sasl.mechanism", "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER. Default: PLAIN.") { c, v in try c.setMechanism("sasl.mechanism", v) },
        .init("sasl.mechanisms", "librdkafka's name for sasl.mechanism.") { c, v in try c.setMechanism("sasl.mechanisms", v) },
        .init("sasl.username", "SASL user name.") { c, v in c.saslUsername = v },
        .init("sasl.password", "SASL password (never logged).") { c, v in c.saslPassword = v },
    ]

    private mutating func setMechanism(_ key: String, _ value: String) throws {
        guard let m = SaslMechanism(rawValue: value.trimmingSpaces.uppercased()) else {
            // Never echo the value back for secrets; mechanisms are not secret.
            throw ConfigParse.bad(key, value, SaslMechanism.allCases.map(\.rawValue).joined(separator: ", "))
        }
        saslMechanism = m
    }

    /// Connection options derived from this configuration.
    var connectionOptions: ConnectionOptions {
        var o = ConnectionOptions()
        o.connectTimeout = connectionSetupTimeout
        o.maxFrameSize = receiveMessageMaxBytes
        o.clientId = clientId
        o.reconnectBackoff = Backoff(base: reconnectBackoff, max: reconnectBackoffMax)
        if securityProtocol == .ssl || securityProtocol == .saslSSL { o.tls = tls }
        if securityProtocol == .saslPlaintext || securityProtocol == .saslSSL {
            o.sasl = SaslConfiguration(mechanism: saslMechanism, username: saslUsername, password: saslPassword, tokenProvider: oauthBearerTokenProvider)
        }
        return o
    }

    var retryBackoffPolicy: Backoff { Backoff(base: retryBackoff, max: retryBackoffMax) }
}

/// A parsed `host:port` (IPv6 as `[::1]:9092`).
struct BootstrapAddress: Equatable {
    let host: String
    let port: Int

    static func parse(_ s: String) throws -> BootstrapAddress {
        var text = s.trimmingSpaces
        for scheme in ["PLAINTEXT://", "SSL://", "SASL_PLAINTEXT://", "SASL_SSL://", "tcp://"] where text.uppercased().hasPrefix(scheme.uppercased()) {
            text = String(text.dropFirst(scheme.count))
        }
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw KafkaError(.configuration, "invalid bootstrap server '\(s)': expected [ipv6]:port")
            }
            host = text[text.index(after: text.startIndex) ..< close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw KafkaError(.configuration, "invalid bootstrap server '\(s)': expected host:port")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (1 ... 65535).contains(port) else {
            throw KafkaError(.configuration, "invalid bootstrap server '\(s)': expected host:port with a port in 1...65535")
        }
        return BootstrapAddress(host: String(host), port: port)
    }
}

extension ClientConfig {
    /// A warning the user should see whatever `debug` says (librdkafka logs these by default),
    /// e.g. a member leaving its group because the application stopped polling.
    func warn(_ context: String, _ message: String) {
        if let logHandler {
            logHandler(context, message)
        } else {
            FileHandleStderr.write("%kafkawire|\(context)|WARN| \(message)\n")
        }
    }

    /// Logs `message` when `debug` enables `context` (or `all`); the message is only built then.
    func log(_ context: String, _ message: @autoclosure () -> String) {
        guard debugContexts.contains(context) || debugContexts.contains("all") else { return }
        let line = message()
        if let logHandler {
            logHandler(context, line)
        } else {
            FileHandleStderr.write("%kafkawire|\(context)| \(line)\n")
        }
    }
}

/// Unbuffered writes to standard error (no Foundation needed).
enum FileHandleStderr {
    static func write(_ s: String) {
        var bytes = Array(s.utf8)
        bytes.withUnsafeMutableBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Glibc.write(2, raw.baseAddress! + off, raw.count - off)
                if n <= 0 { break }
                off += n
            }
        }
    }
}
