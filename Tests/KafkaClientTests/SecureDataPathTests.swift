import Foundation
import Synchronization
import Testing
import KafkaClient
import KafkaProtocol
import KafkaTestSupport

/// KafkaProducer and KafkaConsumer through every secured front of `scripts/secure_rig.sh`:
/// TLS (CA file, mutual TLS, untrusted CA, host name mismatch), SASL_PLAINTEXT with each
/// mechanism, SASL_SSL with SCRAM-SHA-512, a legacy broker without SaslAuthenticate, and
/// wrong credentials for producer, consumer and admin. The credentials are the rig's
/// test-only ones.
@Suite(.enabled(if: SecureRigEnvironment.hasDataPathFronts, "secure rig not running (or started by an older secure_rig.sh): scripts/secure_rig.sh start"))
struct SecureDataPathTests {
    typealias E = SecureRigEnvironment

    static func tls(_ bootstrap: String) -> [String: String] {
        ["bootstrap.servers": bootstrap, "security.protocol": "ssl", "ssl.ca.location": E["KAFKA_TLS_CA"]]
    }

    static func sasl(_ bootstrap: String, _ mechanism: String, tls: Bool = false, password: String = E["KAFKA_SASL_PASSWORD"]) -> [String: String] {
        var p = ["bootstrap.servers": bootstrap, "security.protocol": tls ? "sasl_ssl" : "sasl_plaintext", "sasl.mechanism": mechanism]
        if tls { p["ssl.ca.location"] = E["KAFKA_TLS_CA"] }
        if mechanism != "OAUTHBEARER" {
            p["sasl.username"] = E["KAFKA_SASL_USER"]
            p["sasl.password"] = password
        }
        return p
    }

    /// The rig's OAuth token, valid for an hour.
    static let oauth: @Sendable (inout ClientConfig) -> Void = { c in
        let token = E["KAFKA_OAUTH_TOKEN"]
        c.oauthBearerTokenProvider = { OAuthBearerToken(value: token, expiresAt: .now + .seconds(3600)) }
    }

    /// Records whose keys (some null), values and headers differ per record.
    static func records(topic: String, count: Int) -> [ProducerRecord] {
        (0 ..< count).map { i in
            ProducerRecord(topic: topic, partition: 0, key: i % 7 == 0 ? nil : "key-\(i)", value: "value-\(i)-" + String(repeating: "z", count: i % 29),
                           headers: [RecordHeader(key: "seq", value: Array(String(i).utf8)), RecordHeader(key: "absent", value: nil as ArraySlice<UInt8>?)])
        }
    }

    /// Creates a one-partition topic, produces `count` records (half with `send`, half with
    /// `enqueue` + `flush`), reads partition 0 from the beginning and checks that exactly those
    /// records came back, in order, with their keys, values and headers — all over `props`.
    func roundTrip(_ props: [String: String], count: Int = 200, configure: (inout ClientConfig) -> Void = { _ in }) async throws {
        var client = try ClientConfig(properties: props)
        configure(&client)
        let admin = try KafkaAdminClient(config: client)
        let topic = IntegrationEnvironment.uniqueTopic("kw-secure")
        try await admin.createTopic(NewTopic(name: topic, partitions: 1))
        await admin.close()

        var pc = ProducerConfig()
        pc.client = client
        let failures = Mutex<[String]>([])
        let producer = try KafkaProducer(config: pc) { report in
            if let e = report.error { failures.withLock { $0.append("\(e)") } }
        }
        let sent = Self.records(topic: topic, count: count)
        for (i, r) in sent.prefix(count / 2).enumerated() {
            let meta = try await producer.send(r)
            #expect(meta.partition == 0 && meta.offset == Int64(i))
        }
        for r in sent.dropFirst(count / 2) { try producer.enqueue(r) }
        try await producer.flush()
        await producer.close()
        #expect(failures.withLock { $0 }.isEmpty)

        var cc = ConsumerConfig()
        cc.client = client
        cc.fetchMaxWait = .milliseconds(100)
        let consumer = try KafkaConsumer(config: cc)
        try await consumer.assign([TopicPartition(topic: topic, partition: 0)], from: .beginning)
        var got: [ConsumerRecord] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while got.count < count, ContinuousClock.now < deadline {
            got += try await consumer.poll(max: 1000, timeout: .milliseconds(500))
        }
        got += try await consumer.poll(timeout: .milliseconds(300)) // nothing more may arrive
        await consumer.close()

        #expect(got.count == count)
        for (i, (r, s)) in zip(got, sent).enumerated() {
            #expect(r.offset == Int64(i))
            #expect(r.key.map(Array.init) == s.key, "key \(i)")
            #expect(r.value.map(Array.init) == s.value, "value \(i)")
            #expect(r.headers == s.headers, "headers \(i)")
        }
    }

    // MARK: TLS

    @Test func produceAndConsumeOverTLSWithACAFile() async throws {
        try await roundTrip(Self.tls(E["KAFKA_SSL_BOOTSTRAP"]))
    }

    @Test func produceAndConsumeOverMutualTLS() async throws {
        var p = Self.tls(E["KAFKA_MTLS_BOOTSTRAP"])
        p["ssl.certificate.location"] = E["KAFKA_TLS_CLIENT_CERT"]
        p["ssl.key.location"] = E["KAFKA_TLS_CLIENT_KEY"]
        try await roundTrip(p)
    }

    /// Timeouts no failure path may be waiting for (see `wrongPasswordFailsFast`).
    static let slowTimeouts = ["socket.connection.setup.timeout.ms": "60000", "request.timeout.ms": "60000"]

    @Test func anUntrustedCAFailsWithACertificateErrorInEveryClient() async throws {
        var p = Self.tls(E["KAFKA_SSL_BOOTSTRAP"]).merging(Self.slowTimeouts) { $1 }
        p["ssl.ca.location"] = E["KAFKA_TLS_UNTRUSTED_CA"]
        for client in FailingClient.allCases {
            let (e, elapsed) = try await client.failure(p)
            #expect(e.kind == .authentication, "\(client): \(e)")
            #expect(e.message.contains("certificate verify failed"), "\(client): \(e)")
            #expect(elapsed < .seconds(15), "\(client) failed after \(elapsed)")
        }
    }

    /// The wrong-name front presents a certificate from the trusted CA for another host name.
    @Test func aHostNameMismatchFailsNamingTheReason() async throws {
        let p = Self.tls(E["KAFKA_SSL_WRONG_NAME_BOOTSTRAP"]).merging(Self.slowTimeouts) { $1 }
        for client in FailingClient.allCases {
            let (e, elapsed) = try await client.failure(p)
            #expect(e.kind == .authentication, "\(client): \(e)")
            #expect(e.message.contains("hostname mismatch"), "\(client): \(e)")
            #expect(elapsed < .seconds(15), "\(client) failed after \(elapsed)")
        }
        // The same front with host name verification off: the chain still verifies, and the
        // brokers it advertises present the right name.
        var off = p
        off["ssl.endpoint.identification.algorithm"] = "none"
        try await roundTrip(off, count: 20)
    }

    // MARK: SASL

    @Test(arguments: ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"])
    func produceAndConsumeOverSaslPlaintext(mechanism: String) async throws {
        try await roundTrip(Self.sasl(E["KAFKA_SASL_BOOTSTRAP"], mechanism), configure: mechanism == "OAUTHBEARER" ? Self.oauth : { _ in })
    }

    /// Issue 7's done-when: SASL_SSL with SCRAM-SHA-512 through the scramp-backed gateway.
    @Test func produceAndConsumeOverSaslSSLWithScramSha512() async throws {
        try await roundTrip(Self.sasl(E["KAFKA_SASL_SSL_BOOTSTRAP"], "SCRAM-SHA-512", tls: true), count: 1000)
    }

    @Test func produceAndConsumeOverSaslSSLWithOAuthBearer() async throws {
        try await roundTrip(Self.sasl(E["KAFKA_SASL_SSL_BOOTSTRAP"], "OAUTHBEARER", tls: true), count: 50, configure: Self.oauth)
    }

    /// A Kafka 0.10/0.11-style broker (no SaslAuthenticate): SaslHandshake v0 and bare token
    /// frames, still checked by scramp.
    @Test(arguments: ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
    func produceAndConsumeThroughABrokerWithoutSaslAuthenticate(mechanism: String) async throws {
        try await roundTrip(Self.sasl(E["KAFKA_SASL_LEGACY_BOOTSTRAP"], mechanism), count: 100)
    }

    /// Wrong password: an `.authentication` error naming the mechanism, at once. Connect and
    /// request timeouts are raised to 60 s and delivery/API timeouts are the defaults (120 s,
    /// 60 s), so a retry loop or a wait for any timeout would take at least 60 s. Alone, each
    /// case fails within a second or two; the 15 s bound leaves room for a loaded 2-core machine
    /// running the whole suite in parallel.
    @Test(arguments: FailingClient.allCases, [
        ("KAFKA_SASL_SSL_BOOTSTRAP", "SCRAM-SHA-512", true),
        ("KAFKA_SASL_BOOTSTRAP", "PLAIN", false),
        ("KAFKA_SASL_LEGACY_BOOTSTRAP", "SCRAM-SHA-256", false),
    ])
    func wrongPasswordFailsFast(client: FailingClient, front: (bootstrap: String, mechanism: String, tls: Bool)) async throws {
        let password = "S3cret-Wr0ng-\(UInt32.random(in: 0 ... .max))"
        let (e, elapsed) = try await client.failure(Self.sasl(E[front.bootstrap], front.mechanism, tls: front.tls, password: password).merging(Self.slowTimeouts) { $1 })
        #expect(e.kind == .authentication, "\(e)")
        #expect(e.message.contains(front.mechanism), "\(e)")
        #expect(!e.description.contains(password) && !"\(e.underlying as Any)".contains(password))
        #expect(elapsed < .seconds(15), "\(client) over \(front.bootstrap) failed after \(elapsed)")
    }

    @Test func aMechanismTheBrokerDoesNotEnableListsTheEnabledOnes() async throws {
        let enabled = E["KAFKA_SASL_LEGACY_MECHANISMS"].split(separator: ",").joined(separator: ", ")
        let (e, _) = try await FailingClient.admin.failure(Self.sasl(E["KAFKA_SASL_LEGACY_BOOTSTRAP"], "OAUTHBEARER"), configure: Self.oauth)
        #expect(e.kind == .authentication)
        #expect(e.message.contains("does not enable SASL mechanism OAUTHBEARER"))
        #expect(e.message.contains("it enables: \(enabled)"), "\(e)")
    }

    /// OAUTHBEARER on the short-session gateway: the token is replaced at 80 % of its lifetime,
    /// so KIP-368 re-authentications keep working while the provider is called about once per
    /// token lifetime (not per connection or re-authentication).
    @Test func oauthBearerTokenIsSharedAndRefreshedAcrossReauthentication() async throws {
        let lifetime = Duration.seconds(3)
        let calls = Mutex(0)
        let token = E["KAFKA_OAUTH_TOKEN"]
        var c = try ClientConfig(properties: Self.sasl(E["KAFKA_SASL_REAUTH_BOOTSTRAP"], "OAUTHBEARER"))
        c.oauthBearerTokenProvider = {
            calls.withLock { $0 += 1 }
            return OAuthBearerToken(value: token, expiresAt: .now + lifetime)
        }
        let admin = try KafkaAdminClient(config: c)
        let start = ContinuousClock.now
        _ = try await admin.refreshMetadata()
        _ = try await admin.describeCluster()
        let session = Duration.milliseconds(Int(E["KAFKA_SASL_SESSION_LIFETIME_MS"]) ?? 5000)
        while ContinuousClock.now - start < session * 2 {
            try await Task.sleep(for: .milliseconds(250))
            _ = try await admin.refreshMetadata()
        }
        let elapsed = ContinuousClock.now - start
        let n = calls.withLock { $0 }
        #expect(n >= 2, "refreshed before expiry")
        // About one call per 2.4 s (80 % of 3 s) plus the first, however many connections and
        // re-authentications there were; generous for a loaded machine.
        #expect(n <= Int(elapsed / .milliseconds(2400)) + 2, "\(n) provider calls in \(elapsed)")
        await admin.close()
    }
}

/// The three clients, each made to fail on its first use of the network.
enum FailingClient: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case producer, consumer, admin

    var testDescription: String { rawValue }

    /// The error the client fails with and how long that took.
    func failure(_ props: [String: String], configure: (inout ClientConfig) -> Void = { _ in }) async throws -> (KafkaError, Duration) {
        var client = try ClientConfig(properties: props)
        configure(&client)
        let start = ContinuousClock.now
        func failed(_ error: any Error) throws -> (KafkaError, Duration) {
            // Qualified: both KafkaClient's alias and KafkaProtocol's type are in scope, and
            // the `(T).self` #require writes cannot choose between them.
            let e = try #require(error as? KafkaProtocol.KafkaError, "\(error)")
            return (e, ContinuousClock.now - start)
        }
        switch self {
        case .producer:
            var pc = ProducerConfig()
            pc.client = client
            let p = try KafkaProducer(config: pc)
            defer { Task { await p.close(timeout: .zero) } }
            do {
                _ = try await p.send(ProducerRecord(topic: "kw-secure-never", partition: 0, key: "k", value: "must not arrive"))
            } catch {
                return try failed(error)
            }
        case .consumer:
            var cc = ConsumerConfig()
            cc.client = client
            let c = try KafkaConsumer(config: cc)
            defer { Task { await c.close() } }
            do {
                try await c.assign([TopicPartition(topic: "kw-secure-never", partition: 0)], from: .beginning)
                _ = try await c.poll(timeout: .seconds(60))
            } catch {
                return try failed(error)
            }
        case .admin:
            let a = try KafkaAdminClient(config: client)
            defer { Task { await a.close() } }
            do {
                _ = try await a.describeCluster()
            } catch {
                return try failed(error)
            }
        }
        Issue.record("\(self) did not fail")
        return (KafkaError(.closed, "did not fail"), ContinuousClock.now - start)
    }
}

extension SecureRigEnvironment {
    /// The fronts these tests need (added to secure_rig.sh after the first version).
    static var hasDataPathFronts: Bool {
        isAvailable && values["KAFKA_SASL_LEGACY_BOOTSTRAP"] != nil && values["KAFKA_SSL_WRONG_NAME_BOOTSTRAP"] != nil
    }
}
