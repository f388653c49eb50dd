import Foundation
import Testing
import KafkaClient
import KafkaProtocol
import KafkaNet
import KafkaTestSupport

/// Secrets (SASL password, private-key password, OAuth token) never show up when a
/// configuration is printed, dumped or reflected, nor in the CLI's errors about `-X`.
@Suite struct SecretRedactionTests {
    static let password = "S3cret-pw-471"
    static let keyPassword = "K3y-pw-209"
    static let token = "eyJhbGci.S3cret-token"

    static func texts(_ value: Any) -> [String] {
        var dumped = ""
        dump(value, to: &dumped)
        return [String(describing: value), String(reflecting: value), "\(value)", dumped]
    }

    static func expectNoSecrets(_ value: Any, sourceLocation: SourceLocation = #_sourceLocation) {
        for text in texts(value) {
            for secret in [password, keyPassword, token] {
                #expect(!text.contains(secret), "\(type(of: value)) shows a secret: \(text)", sourceLocation: sourceLocation)
            }
        }
    }

    static func config() throws -> ClientConfig {
        var c = try ClientConfig(properties: [
            "bootstrap.servers": "localhost:9094", "security.protocol": "sasl_ssl", "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": "alice", "sasl.password": password, "ssl.key.password": keyPassword,
            "ssl.certificate.location": "/tmp/client.pem", "ssl.key.location": "/tmp/client.key",
        ])
        let token = Self.token
        c.oauthBearerTokenProvider = { OAuthBearerToken(value: token) }
        return c
    }

    @Test func clientProducerAndConsumerConfigsPrintWithoutSecrets() throws {
        let c = try Self.config()
        Self.expectNoSecrets(c)
        // Still useful: the non-secret settings are there.
        #expect(c.description.contains("SCRAM-SHA-512") && c.description.contains("alice") && c.description.contains("<redacted>"))
        var p = ProducerConfig()
        p.client = c
        Self.expectNoSecrets(p)
        var k = ConsumerConfig()
        k.client = c
        Self.expectNoSecrets(k)
    }

    @Test func saslAndTLSSettingsAndTokensPrintWithoutSecrets() {
        let token = Self.token
        Self.expectNoSecrets(SaslConfiguration(mechanism: .plain, username: "alice", password: Self.password))
        Self.expectNoSecrets(SaslConfiguration(mechanism: .oauthBearer, tokenProvider: { OAuthBearerToken(value: token) }))
        var tls = TLSConfiguration()
        tls.keyPassword = Self.keyPassword
        Self.expectNoSecrets(tls)
        Self.expectNoSecrets(OAuthBearerToken(value: Self.token, expiresAt: .now + .seconds(30)))
        var o = ConnectionOptions()
        o.sasl = SaslConfiguration(mechanism: .scramSHA256, username: "alice", password: Self.password)
        o.tls = tls
        Self.expectNoSecrets(o)
    }

    /// `-X` mistakes: a value without '=' (a secret typed with ':' or without its key) and a
    /// mistyped key are reported without echoing the value.
    @Test(.enabled(if: KwireCLITests.binary != nil, "kwire not built"), arguments: [
        ["-X", "sasl.password:\(password)"], ["-X", password], ["-X", "sasl.pasword=\(password)"],
    ])
    func cliErrorsAboutXDoNotEchoTheValue(x: [String]) async throws {
        let r = try await ChildProcess.kwire(["-b", "127.0.0.1:9", "metadata"] + x)
        #expect(r.status == 64)
        #expect(r.stderr.contains("-X") || r.stderr.contains("sasl.pasword"), "\(r.stderr)")
        #expect(!r.stderr.contains(Self.password), "\(r.stderr)")
    }

    /// A wrong password against the in-process broker: the error names the mechanism and not
    /// the password (no rig needed).
    @Test(.enabled(if: KwireCLITests.binary != nil, "kwire not built"))
    func cliAuthenticationErrorDoesNotPrintThePassword() async throws {
        let broker = try FakeBroker { req, b in
            switch req.header.apiKey {
            case .saslHandshake:
                var r = SaslHandshakeResponse()
                r.mechanisms = ["PLAIN"]
                return .respond(b.body(r, for: req))
            case .saslAuthenticate:
                var r = SaslAuthenticateResponse()
                r.errorCode = KafkaErrorCode.saslAuthenticationFailed.rawValue
                r.errorMessage = "Authentication failed: Invalid username or password"
                return .respond(b.body(r, for: req))
            default: return b.defaultAction(req)
            }
        }
        defer { broker.stop() }
        let r = try await ChildProcess.kwire(["-b", broker.address, "metadata", "-X", "security.protocol=sasl_plaintext",
                                              "-X", "sasl.mechanism=PLAIN", "-X", "sasl.username=alice", "-X", "sasl.password=\(Self.password)"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("PLAIN") && r.stderr.contains("authentication"), "\(r.stderr)")
        #expect(!r.stderr.contains(Self.password))
    }
}
