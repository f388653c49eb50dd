import Testing
import Synchronization
@testable import KafkaNet
import KafkaProtocol
import KafkaTestSupport

/// KIP-368: while a connection re-authenticates, the broker accepts only SaslHandshake and
/// SaslAuthenticate, so requests the application sends meanwhile must wait.
@Suite struct ReauthenticationGateTests {
    /// A broker that accepts SASL PLAIN and grants sessions of `sessionLifetimeMs` (KIP-368),
    /// answering SaslHandshake after `handshakeDelay`.
    static func plainBroker(sessionLifetimeMs: Int64, handshakeDelay: Duration = .zero) throws -> FakeBroker {
        try FakeBroker { req, b in
            switch req.header.apiKey {
            case .saslHandshake:
                var r = SaslHandshakeResponse()
                r.mechanisms = ["PLAIN"]
                return .respondAfter(handshakeDelay, b.body(r, for: req))
            case .saslAuthenticate:
                var r = SaslAuthenticateResponse()
                r.sessionLifetimeMs = sessionLifetimeMs
                return .respond(b.body(r, for: req))
            default:
                return b.defaultAction(req)
            }
        }
    }

    @Test func requestsWaitWhileTheConnectionReauthenticates() async throws {
        // Session 1 s (re-authentication every ~0.5 s); a slow handshake answer widens the
        // window in which a request could slip in between SaslHandshake and SaslAuthenticate.
        let broker = try Self.plainBroker(sessionLifetimeMs: 1000, handshakeDelay: .milliseconds(200))
        broker.addTopic("t", partitions: 1)
        defer { broker.stop() }
        var o = ConnectionOptions()
        o.sasl = SaslConfiguration(mechanism: .plain, username: "alice", password: "alice-secret")
        let c = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, options: o)
        defer { c.close() }
        // Two tasks keep requests flowing until a few re-authentications happened.
        let deadline = ContinuousClock.now + .seconds(30)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0 ..< 2 {
                group.addTask {
                    while broker.received.filter({ $0.header.apiKey == .saslHandshake }).count < 4, ContinuousClock.now < deadline {
                        _ = try await c.send(MetadataRequest(topics: ["t"]), timeout: .seconds(10))
                    }
                }
            }
            try await group.waitForAll()
        }
        let keys = broker.received.map(\.header.apiKey)
        #expect(keys.filter { $0 == .saslHandshake }.count >= 4)
        // (The loop may stop right after a SaslHandshake: its SaslAuthenticate is then not in.)
        for (i, k) in keys.enumerated() where k == .saslHandshake && i + 1 < keys.count {
            #expect(keys[i + 1] == .saslAuthenticate, "request \(i + 1) after a SaslHandshake is \(keys[i + 1].name)")
        }
        #expect(keys.filter { $0 == .metadata }.count > 4, "requests went on between re-authentications")
        #expect(c.isOpen && broker.connectionCount == 1)
    }

    @Test func theReauthenticationDelayIsFlooredAndNeverTraps() {
        typealias B = BrokerConnection
        #expect(B.reauthenticationDelay(lifetime: .milliseconds(1), factor: 0.9) == B.minimumReauthenticationDelay)
        #expect(B.reauthenticationDelay(lifetime: .zero, factor: 0.85) == B.minimumReauthenticationDelay)
        #expect(B.reauthenticationDelay(lifetime: .milliseconds(-5), factor: 0.85) == B.minimumReauthenticationDelay)
        #expect(B.reauthenticationDelay(lifetime: .seconds(10), factor: 0.9) == .seconds(8))
        #expect(B.reauthenticationDelay(lifetime: .seconds(100), factor: 0.9) == .seconds(90))
        #expect(B.reauthenticationDelay(lifetime: .seconds(3), factor: 0.9) == .milliseconds(1500))
        #expect(B.reauthenticationDelay(lifetime: .milliseconds(Int64.max), factor: 0.95) > .seconds(1_000_000))
    }

    @Test func aOneMillisecondSessionDoesNotCauseAReauthenticationStorm() async throws {
        let broker = try Self.plainBroker(sessionLifetimeMs: 1)
        defer { broker.stop() }
        var o = ConnectionOptions()
        o.sasl = SaslConfiguration(mechanism: .plain, username: "alice", password: "alice-secret")
        let c = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, options: o)
        defer { c.close() }
        try await Task.sleep(for: .milliseconds(1200))
        // One at connect, then one per 500 ms at most (without the floor: hundreds).
        let handshakes = broker.received.filter { $0.header.apiKey == .saslHandshake }.count
        #expect(handshakes >= 2 && handshakes <= 4, "\(handshakes) SASL handshakes in 1.2 s")
    }
}
