import Foundation
import Testing
import KafkaClient
import KafkaProtocol

/// TLS and SASL against real peers: Tansu behind socat TLS front ends and a SASL gateway that
/// checks SCRAM with an independent implementation (PyPI scramp) — `scripts/secure_rig.sh`,
/// started by `scripts/test.sh`. The credentials here are the rig's test-only ones.
@Suite(.enabled(if: SecureRigEnvironment.isAvailable, "secure rig not running: scripts/secure_rig.sh start (scripts/test.sh does it)"))
struct SecureIntegrationTests {
    typealias E = SecureRigEnvironment

    func admin(_ properties: [String: String], configure: (inout ClientConfig) -> Void = { _ in }) throws -> KafkaAdminClient {
        var c = try ClientConfig(properties: properties)
        c.defaultApiTimeout = .seconds(10)
        c.requestTimeout = .seconds(10)
        configure(&c)
        return try KafkaAdminClient(config: c)
    }

    @Test(arguments: ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
    func saslPlaintextWithEachMechanism(mechanism: String) async throws {
        let a = try admin([
            "bootstrap.servers": E["KAFKA_SASL_BOOTSTRAP"], "security.protocol": "sasl_plaintext",
            "sasl.mechanism": mechanism, "sasl.username": E["KAFKA_SASL_USER"], "sasl.password": E["KAFKA_SASL_PASSWORD"],
        ])
        let name = "kw-sasl-\(UInt32.random(in: 0 ... .max))"
        try await a.createTopic(NewTopic(name: name, partitions: 2))
        #expect(try await a.listTopics().contains { $0.name == name })
        try await a.deleteTopic(name)
        await a.close()
    }

    @Test func oauthBearerWithATokenProvider() async throws {
        let token = E["KAFKA_OAUTH_TOKEN"]
        let a = try admin(["bootstrap.servers": E["KAFKA_SASL_BOOTSTRAP"], "security.protocol": "sasl_plaintext", "sasl.mechanism": "OAUTHBEARER"]) {
            $0.oauthBearerTokenProvider = { OAuthBearerToken(value: token) }
        }
        #expect(try await !a.describeCluster().brokers.isEmpty)
        await a.close()
    }

    @Test(arguments: ["PLAIN", "SCRAM-SHA-512"])
    func wrongPasswordFailsFastWithAnAuthenticationError(mechanism: String) async throws {
        let a = try admin([
            "bootstrap.servers": E["KAFKA_SASL_BOOTSTRAP"], "security.protocol": "sasl_plaintext",
            "sasl.mechanism": mechanism, "sasl.username": E["KAFKA_SASL_USER"], "sasl.password": "not-the-password",
        ])
        do {
            _ = try await a.describeCluster()
            Issue.record("expected an authentication error")
        } catch let e as KafkaError {
            // `.authentication`, not `.timeout`: the failure is not retried until
            // default.api.timeout.ms runs out (a retried one would end as a timeout).
            #expect(e.kind == .authentication)
            #expect(e.message.contains(mechanism))
            #expect(!e.description.contains("not-the-password"))
        }
        await a.close()
    }

    @Test func sslWithTheRigCA() async throws {
        let a = try admin(["bootstrap.servers": E["KAFKA_SSL_BOOTSTRAP"], "security.protocol": "ssl", "ssl.ca.location": E["KAFKA_TLS_CA"]])
        let m = try await a.refreshMetadata()
        #expect(m.brokers.values.allSatisfy { $0.host == "localhost" })
        await a.close()
    }

    @Test func sslWithAnUntrustedCAFailsWithACertificateError() async throws {
        let a = try admin(["bootstrap.servers": E["KAFKA_SSL_BOOTSTRAP"], "security.protocol": "ssl", "ssl.ca.location": E["KAFKA_TLS_UNTRUSTED_CA"]])
        do {
            _ = try await a.describeCluster()
            Issue.record("expected a certificate error")
        } catch let e as KafkaError {
            #expect(e.kind == .authentication)
            #expect(e.message.contains("certificate verify failed"))
        }
        await a.close()
    }

    @Test func saslSSLWithScramSha512() async throws {
        let a = try admin([
            "bootstrap.servers": E["KAFKA_SASL_SSL_BOOTSTRAP"], "security.protocol": "sasl_ssl", "ssl.ca.location": E["KAFKA_TLS_CA"],
            "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": E["KAFKA_SASL_USER"], "sasl.password": E["KAFKA_SASL_PASSWORD"],
        ])
        let name = "kw-saslssl-\(UInt32.random(in: 0 ... .max))"
        try await a.createTopic(NewTopic(name: name, partitions: 1))
        try await a.deleteTopic(name)
        await a.close()
    }

    @Test func mutualTLS() async throws {
        let base = ["bootstrap.servers": E["KAFKA_MTLS_BOOTSTRAP"], "security.protocol": "ssl", "ssl.ca.location": E["KAFKA_TLS_CA"]]
        let without = try admin(base)
        await #expect(throws: KafkaError.self) { _ = try await without.describeCluster() }
        await without.close()
        var withCert = base
        withCert["ssl.certificate.location"] = E["KAFKA_TLS_CLIENT_CERT"]
        withCert["ssl.key.location"] = E["KAFKA_TLS_CLIENT_KEY"]
        let a = try admin(withCert)
        #expect(try await !a.describeCluster().brokers.isEmpty)
        await a.close()
    }

    @Test func reauthenticationKeepsTheConnectionUsable() async throws {
        let lifetimeMs = Int(E["KAFKA_SASL_SESSION_LIFETIME_MS"]) ?? 5000
        let a = try admin([
            "bootstrap.servers": E["KAFKA_SASL_REAUTH_BOOTSTRAP"], "security.protocol": "sasl_plaintext",
            "sasl.mechanism": "SCRAM-SHA-256", "sasl.username": E["KAFKA_SASL_USER"], "sasl.password": E["KAFKA_SASL_PASSWORD"],
        ])
        // Keep using the connection for longer than one session lifetime: the gateway closes a
        // connection whose session expired, so success means we re-authenticated in time.
        _ = try await a.refreshMetadata()
        let first = ContinuousClock.now
        var last = first
        while last - first < .milliseconds(lifetimeMs * 3 / 2) {
            try await Task.sleep(for: .milliseconds(250))
            _ = try await a.refreshMetadata()
            last = ContinuousClock.now
        }
        #expect(last - first > .milliseconds(lifetimeMs), "requests kept succeeding past one session lifetime")
        await a.close()
    }
}

/// Reads the env file written by `scripts/secure_rig.sh start` (or the same variables from the
/// environment).
enum SecureRigEnvironment {
    static let values: [String: String] = {
        var out = ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("KAFKA_") }
        if let path = ProcessInfo.processInfo.environment["KWIRE_SECURE_ENV"], let text = try? String(contentsOfFile: path, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                guard let eq = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
                out[String(line[..<eq])] = String(line[line.index(after: eq)...]).trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
            }
        }
        return out
    }()

    static var isAvailable: Bool { values["KAFKA_SASL_BOOTSTRAP"] != nil && values["KAFKA_SSL_BOOTSTRAP"] != nil }

    static subscript(_ key: String) -> String { values[key] ?? "" }
}
