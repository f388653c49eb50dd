import Testing
import Synchronization
@testable import KafkaNet
import KafkaProtocol
import KafkaTestSupport

/// The legacy SASL flow (KIP-43) against the fake broker acting as a Kafka 0.10/0.11 broker:
/// ApiVersions without SaslAuthenticate, SaslHandshake v0 only, then the tokens as bare
/// size-prefixed frames with no request or response header.
@Suite struct SaslLegacyFlowTests {
    /// Every API we speak except SaslAuthenticate; SaslHandshake v0 only.
    static var legacyRanges: [ApiKey: ClosedRange<Int16>] {
        var ranges: [ApiKey: ClosedRange<Int16>] = [:]
        for (k, d) in ApiRegistry.all where k != .saslAuthenticate { ranges[k] = d.versions }
        ranges[.saslHandshake] = 0 ... 0
        return ranges
    }

    static func legacyBroker(mechanisms: [String] = ["PLAIN", "SCRAM-SHA-256"], tokens: @escaping FakeBroker.RawTokenHandler) throws -> FakeBroker {
        try FakeBroker(apiRanges: legacyRanges, handler: { req, b in
            switch req.header.apiKey {
            case .saslHandshake:
                var r = SaslHandshakeResponse()
                r.mechanisms = mechanisms
                let m = (try? req.decode(SaslHandshakeRequest.self))?.mechanism ?? ""
                guard mechanisms.contains(m) else {
                    r.errorCode = KafkaErrorCode.unsupportedSaslMechanism.rawValue
                    return .respond(b.body(r, for: req))
                }
                return .respondThenRawTokens(b.body(r, for: req))
            case .saslAuthenticate:
                return .disconnect // unknown to such a broker
            default:
                return b.defaultAction(req)
            }
        }, rawTokens: tokens)
    }

    func options(_ sasl: SaslConfiguration) -> ConnectionOptions {
        var o = ConnectionOptions()
        o.sasl = sasl
        return o
    }

    @Test func plainTokenGoesAsABareFrameAndRequestsFollow() async throws {
        let broker = try Self.legacyBroker { token, _ in
            token == SaslFlowTests.plainToken ? .reply([], done: true) : .disconnect
        }
        broker.addTopic("t", partitions: 1)
        defer { broker.stop() }
        let c = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, options: options(SaslConfiguration(mechanism: .plain, username: "alice", password: "alice-secret")))
        defer { c.close() }
        let m = try await c.send(MetadataRequest(topics: ["t"]), timeout: .seconds(5))
        #expect(m.topics.count == 1)
        // No SaslAuthenticate; the handshake at v0 (KIP-152: v1 would promise SaslAuthenticate).
        #expect(broker.received.map(\.header.apiKey) == [.apiVersions, .saslHandshake, .metadata])
        #expect(broker.received.first { $0.header.apiKey == .saslHandshake }?.header.apiVersion == 0)
        #expect(broker.receivedRawTokens == [SaslFlowTests.plainToken])
    }

    @Test func scramRunsItsThreeMessagesAsBareFrames() async throws {
        let server = Mutex(MiniScramServer(password: "alice-secret"))
        let broker = try Self.legacyBroker { token, _ in
            server.withLock { s in
                guard let (reply, done) = s.step(token) else { return .disconnect }
                return .reply(reply, done: done)
            }
        }
        broker.addTopic("t", partitions: 1)
        defer { broker.stop() }
        let c = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, options: options(SaslConfiguration(mechanism: .scramSHA256, username: "alice", password: "alice-secret")))
        defer { c.close() }
        #expect(try await c.send(MetadataRequest(topics: ["t"]), timeout: .seconds(5)).topics.count == 1)
        let tokens = broker.receivedRawTokens.map { String(decoding: $0, as: UTF8.self) }
        #expect(tokens.count == 2)
        #expect(tokens.first?.hasPrefix("n,,n=alice,r=") == true)
        #expect(tokens.last?.hasPrefix("c=biws,r=") == true)
        #expect(server.withLock { $0.proofVerified })
    }

    @Test func oauthBearerTokenGoesAsABareFrame() async throws {
        let expected = Array("n,,\u{1}auth=Bearer tok-9\u{1}\u{1}".utf8)
        let broker = try Self.legacyBroker(mechanisms: ["OAUTHBEARER"]) { token, _ in
            token == expected ? .reply([], done: true) : .disconnect
        }
        defer { broker.stop() }
        let c = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, options: options(SaslConfiguration(mechanism: .oauthBearer, tokenProvider: { OAuthBearerToken(value: "tok-9") })))
        c.close()
        #expect(broker.receivedRawTokens == [expected])
    }

    /// A legacy broker closes the connection on a failed exchange and says nothing: that is an
    /// authentication error naming the mechanism, at once (not retried, no request timeout).
    @Test(arguments: [SaslMechanism.plain, .scramSHA256])
    func wrongPasswordIsAnAuthenticationErrorAtOnce(mechanism: SaslMechanism) async throws {
        let server = Mutex(MiniScramServer(password: "alice-secret"))
        let broker = try Self.legacyBroker { token, _ in
            if mechanism == .plain { return token == SaslFlowTests.plainToken ? .reply([], done: true) : .disconnect }
            return server.withLock { s in s.step(token).map { .reply($0.0, done: $0.1) } ?? .disconnect }
        }
        defer { broker.stop() }
        let start = ContinuousClock.now
        do {
            _ = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, options: options(SaslConfiguration(mechanism: mechanism, username: "alice", password: "Wr0ng-S3cret")), requestTimeout: .seconds(30))
            Issue.record("expected an authentication error")
        } catch let e as KafkaError {
            #expect(e.kind == .authentication, "\(e); the broker saw \(broker.received.map(\.header.apiKey.name)) and \(broker.receivedRawTokens.count) bare token(s) on \(broker.connectionCount) connection(s)")
            #expect(e.message.contains(mechanism.rawValue))
            #expect(!e.isRetriable)
            #expect(!e.description.contains("Wr0ng-S3cret"))
        }
        #expect(ContinuousClock.now - start < .seconds(10), "failed at once, not after the 30 s request timeout")
    }

    @Test func aMechanismTheLegacyBrokerLacksListsTheOnesItHas() async throws {
        let broker = try Self.legacyBroker { _, _ in .disconnect }
        defer { broker.stop() }
        do {
            _ = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, options: options(SaslConfiguration(mechanism: .oauthBearer, tokenProvider: { OAuthBearerToken(value: "t") })))
            Issue.record("expected failure")
        } catch let e as KafkaError {
            #expect(e.kind == .authentication)
            #expect(e.message.contains("OAUTHBEARER"))
            #expect(e.message.contains("PLAIN, SCRAM-SHA-256"))
        }
    }

    /// The raw-frame path at the connection level: an empty answer is a valid token, and a
    /// request after the exchange is matched by correlation id again.
    @Test func rawFramesAreMatchedByPositionThenCorrelationIdsResume() async throws {
        let broker = try Self.legacyBroker { token, _ in .reply(token.reversed(), done: token.isEmpty) }
        defer { broker.stop() }
        let c = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port)
        defer { c.close() }
        _ = try await c.send(SaslHandshakeRequest(mechanism: "PLAIN"), version: 0, timeout: .seconds(5))
        #expect(try await c.connection.sendRawSaslToken([1, 2, 3], timeout: .seconds(5)) == [3, 2, 1])
        #expect(try await c.connection.sendRawSaslToken([], timeout: .seconds(5)) == [])
        #expect(try await c.send(MetadataRequest(topics: []), timeout: .seconds(5)).brokers.count == 1)
        #expect(broker.receivedRawTokens == [[1, 2, 3], []])
    }
}

/// Just enough of a SCRAM-SHA-256 server (RFC 5802) to check the client's proof and sign the
/// final message, for the bare-frame test. Fixed salt and nonce suffix.
struct MiniScramServer {
    let password: String
    var stage = 0
    var clientFirstBare = ""
    var serverFirst = ""
    var proofVerified = false
    let salt: [UInt8] = Array("kafkawire-salt".utf8)

    init(password: String) { self.password = password }

    /// The answer to one client message and whether the exchange is over; nil = reject.
    mutating func step(_ token: [UInt8]) -> ([UInt8], Bool)? {
        let text = String(decoding: token, as: UTF8.self)
        switch stage {
        case 0:
            guard text.hasPrefix("n,,") else { return nil }
            clientFirstBare = String(text.dropFirst(3))
            guard let nonce = clientFirstBare.split(separator: ",").first(where: { $0.hasPrefix("r=") })?.dropFirst(2) else { return nil }
            serverFirst = "r=\(nonce)srv,s=\(Base64.encode(salt)),i=4096"
            stage = 1
            return (Array(serverFirst.utf8), false)
        case 1:
            guard let p = text.range(of: ",p=") else { return nil }
            let withoutProof = String(text[..<p.lowerBound])
            guard let proof = Base64.decode(String(text[p.upperBound...])) else { return nil }
            let salted = PBKDF2<SHA256>.deriveKey(password: Array(password.utf8), salt: salt, iterations: 4096)
            let clientKey = HMAC<SHA256>.authenticate(Array("Client Key".utf8), key: salted)
            let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
            let signature = HMAC<SHA256>.authenticate(authMessage, key: SHA256.hash(clientKey))
            guard zip(proof, signature).map({ $0 ^ $1 }) == clientKey else { return nil }
            proofVerified = true
            stage = 2
            let serverKey = HMAC<SHA256>.authenticate(Array("Server Key".utf8), key: salted)
            return (Array("v=\(Base64.encode(HMAC<SHA256>.authenticate(authMessage, key: serverKey)))".utf8), true)
        default:
            return nil
        }
    }
}

/// The salted password is derived once per client, not once per connection.
@Suite struct ScramKeyCacheTests {
    @Test func theSaltedPasswordIsReusedAcrossConnections() async throws {
        let servers = Mutex<[Int: MiniScramServer]>([:])
        let broker = try SaslLegacyFlowTests.legacyBroker { token, connection in
            servers.withLock { all in
                var s = all[connection] ?? MiniScramServer(password: "alice-secret")
                defer { all[connection] = s }
                guard let (reply, done) = s.step(token) else { return .disconnect }
                return .reply(reply, done: done)
            }
        }
        defer { broker.stop() }
        var o = ConnectionOptions()
        let sasl = SaslConfiguration(mechanism: .scramSHA256, username: "alice", password: "alice-secret")
        o.sasl = sasl
        for _ in 0 ..< 3 {
            let c = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, options: o)
            c.close()
        }
        #expect(servers.withLock { $0.values.filter(\.proofVerified).count } == 3)
        #expect(sasl.scramKeys.count == 1)
    }

    @Test func entriesAreKeyedBySaltIterationsPasswordAndHash() async {
        let cache = ScramKeyCache()
        let salt = Array("salt".utf8)
        let a = await cache.saltedPassword(SHA256.self, password: Array("passwd".utf8), salt: salt, iterations: 1)
        #expect(hex(a) == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc") // RFC 7914 §11
        #expect(await cache.saltedPassword(SHA256.self, password: Array("passwd".utf8), salt: salt, iterations: 1) == a)
        #expect(cache.count == 1)
        #expect(await cache.saltedPassword(SHA256.self, password: Array("other".utf8), salt: salt, iterations: 1) != a)
        #expect(await cache.saltedPassword(SHA512.self, password: Array("passwd".utf8), salt: salt, iterations: 1) != a)
        #expect(await cache.saltedPassword(SHA256.self, password: Array("passwd".utf8), salt: salt, iterations: 2) != a)
        #expect(cache.count == 4)
    }
}
