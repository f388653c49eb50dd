import Foundation
import Testing
import Synchronization
@testable import KafkaNet
import KafkaProtocol
import KafkaTestSupport

func hex(_ b: [UInt8]) -> String { b.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }

/// Published test vectors: FIPS 180-2 examples, RFC 4231 (HMAC), RFC 7914 §11 (PBKDF2).
@Suite struct CryptoVectorTests {
    @Test func sha256() {
        #expect(hex(SHA256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func sha512() {
        #expect(hex(SHA512.hash(Array("abc".utf8))) == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
        #expect(hex(SHA512.hash([])) == "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")
    }

    @Test func hmac() {
        let data = Array("what do ya want for nothing?".utf8), key = Array("Jefe".utf8)
        #expect(hex(HMAC<SHA256>.authenticate(data, key: key)) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(hex(HMAC<SHA512>.authenticate(data, key: key)) == "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737")
        // A key longer than the block size is hashed first (RFC 4231 test case 6).
        let longKey = [UInt8](repeating: 0xAA, count: 131)
        #expect(hex(HMAC<SHA256>.authenticate(Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8), key: longKey)) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test func pbkdf2() {
        #expect(hex(PBKDF2<SHA256>.deriveKey(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1)) == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")
        // Values from Python's hashlib.pbkdf2_hmac (OpenSSL), an independent implementation.
        let password = Array("password".utf8), salt = Array("salt".utf8)
        #expect(hex(PBKDF2<SHA256>.deriveKey(password: password, salt: salt, iterations: 4096)) == "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a")
        #expect(hex(PBKDF2<SHA512>.deriveKey(password: password, salt: salt, iterations: 1)) == "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce")
        #expect(hex(PBKDF2<SHA512>.deriveKey(password: password, salt: salt, iterations: 4096)) == "d197b1b33db0143e018b12f3d1d1479e6cdebdcc97c5c0f87f6902e072f457b5143f30602641b3d55cd335988cb36b84376060ecd532e039b742a239434af2d5")
    }

    /// Messages spanning several blocks, and FIPS 180-2's two-block SHA-512 example (the padding
    /// does not fit after 112 bytes).
    @Test func multiBlockMessages() {
        #expect(hex(SHA512.hash(Array("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8))) == "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909")
        #expect(hex(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 200))) == "c2a908d98f5df987ade41b5fce213067efbcc21ef2240212a41e54b5e7c28ae5")
        #expect(hex(SHA512.hash([UInt8](repeating: UInt8(ascii: "a"), count: 300))) == "a6a77010dd9696c23831e6549de51724df332c2075039b75fcfe6c2e6de42fbd3c80ed4073267e00c8c320712c3cdd9d65a96f90a3fe4a58a6b70a103be08e83")
    }

    @Test func base64() {
        #expect(Base64.encode(Array("n,,".utf8)) == "biws")
        #expect(Base64.encode([0xFF]) == "/w==")
        #expect(Base64.encode([0xFF, 0xEE]) == "/+4=")
        #expect(Base64.decode("W22ZaJ0SNY7soEsUEjb6gQ==")?.count == 16)
        #expect(Base64.decode("abc") == nil)
        #expect(Base64.decode("ab!=") == nil)
        for n in 0 ..< 10 {
            let b = (0 ..< n).map { UInt8($0 * 37 & 0xFF) }
            #expect(Base64.decode(Base64.encode(b)) == b)
        }
    }
}

@Suite struct ScramTests {
    /// RFC 7677 §3: the SCRAM-SHA-256 example exchange, byte for byte.
    @Test func rfc7677Example() async throws {
        var s = ScramExchange<SHA256>(mechanism: .scramSHA256, username: "user", password: "pencil", nonce: "rOprNGfwEbeRWgbNEkqO")
        let first = try await s.start()
        #expect(String(decoding: first, as: UTF8.self) == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        let final = try #require(try await s.respond(to: Array(serverFirst.utf8)))
        #expect(String(decoding: final, as: UTF8.self) == "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
        #expect(!s.isComplete)
        #expect(try await s.respond(to: Array("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".utf8)) == nil)
        #expect(s.isComplete)
    }

    @Test func wrongServerSignatureIsRejected() async throws {
        var s = ScramExchange<SHA256>(mechanism: .scramSHA256, username: "user", password: "pencil", nonce: "rOprNGfwEbeRWgbNEkqO")
        _ = try await s.start()
        _ = try await s.respond(to: Array("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096".utf8))
        do {
            _ = try await s.respond(to: Array("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".utf8))
            Issue.record("expected failure")
        } catch let e as KafkaError {
            #expect(e.kind == .authentication)
            #expect(e.message.contains("SCRAM-SHA-256"))
            #expect(!e.message.contains("pencil"))
        }
    }

    @Test(arguments: [
        "r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",      // nonce not ours
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000", // too few iterations
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=***,i=4096",                // bad salt
        "e=invalid-proof",
        "garbage",
    ])
    func badServerFirstMessagesFail(message: String) async throws {
        var s = ScramExchange<SHA512>(mechanism: .scramSHA512, username: "u", password: "secret-pw", nonce: "rOprNGfwEbeRWgbNEkqO")
        _ = try await s.start()
        do {
            _ = try await s.respond(to: Array(message.utf8))
            Issue.record("expected failure for \(message)")
        } catch let e as KafkaError {
            #expect(e.kind == .authentication)
            #expect(!e.description.contains("secret-pw"))
        }
    }

    /// The server signature is compared with `constantTimeEquals` (every byte, no early exit).
    @Test func constantTimeEqualsComparesEveryByte() {
        let a: [UInt8] = Array(0 ..< 32)
        #expect(constantTimeEquals(a, a))
        #expect(constantTimeEquals([], []))
        var lastDiffers = a
        lastDiffers[31] ^= 0x80
        #expect(!constantTimeEquals(a, lastDiffers))
        var firstDiffers = a
        firstDiffers[0] ^= 1
        #expect(!constantTimeEquals(a, firstDiffers))
        #expect(!constantTimeEquals(a, Array(a.dropLast())))
        #expect(!constantTimeEquals(a, a + [0]))
    }

    /// The exchange verifies the server's signature through `constantTimeEquals`, not `==` (which
    /// stops at the first differing byte). A timing test cannot prove this, so read the source.
    @Test func serverSignatureCheckUsesTheConstantTimeCompare() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/KafkaNet/Sasl/ScramExchange.swift")
        let source = try String(contentsOf: url, encoding: .utf8)
        #expect(source.contains("constantTimeEquals(signature, expected)"))
        #expect(!source.contains("signature == expected"))
        #expect(!source.contains("signature != expected"))
    }

    @Test func userNamesAreEscaped() {
        #expect(ScramExchange<SHA256>.saslName("a=b,c") == "a=3Db=2Cc")
    }
}

/// The SASL flow on a connection, against the fake broker acting as a PLAIN/OAUTHBEARER server.
@Suite struct SaslFlowTests {
    static func saslBroker(mechanisms: [String], accept: @escaping @Sendable ([UInt8]) -> Bool, lifetimeMs: Int64 = 0) throws -> FakeBroker {
        try FakeBroker { req, b in
            switch req.header.apiKey {
            case .saslHandshake:
                var r = SaslHandshakeResponse()
                r.mechanisms = mechanisms
                let m = (try? req.decode(SaslHandshakeRequest.self))?.mechanism ?? ""
                if !mechanisms.contains(m) { r.errorCode = KafkaErrorCode.unsupportedSaslMechanism.rawValue }
                return .respond(b.body(r, for: req))
            case .saslAuthenticate:
                let token = (try? req.decode(SaslAuthenticateRequest.self))?.authBytes ?? []
                var r = SaslAuthenticateResponse()
                if accept(token) {
                    r.sessionLifetimeMs = lifetimeMs
                } else {
                    r.errorCode = KafkaErrorCode.saslAuthenticationFailed.rawValue
                    r.errorMessage = "Authentication failed: Invalid username or password"
                }
                return .respond(b.body(r, for: req))
            default:
                return b.defaultAction(req)
            }
        }
    }

    static let plainToken: [UInt8] = [0] + Array("alice".utf8) + [0] + Array("alice-secret".utf8)

    func options(_ sasl: SaslConfiguration) -> ConnectionOptions {
        var o = ConnectionOptions()
        o.sasl = sasl
        return o
    }

    @Test func plainSucceedsAndRequestsFollow() async throws {
        let broker = try Self.saslBroker(mechanisms: ["PLAIN", "SCRAM-SHA-512"]) { $0 == Self.plainToken }
        broker.addTopic("t", partitions: 1)
        defer { broker.stop() }
        let c = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, options: options(SaslConfiguration(mechanism: .plain, username: "alice", password: "alice-secret")))
        defer { c.close() }
        let m = try await c.send(MetadataRequest(topics: ["t"]), timeout: .seconds(5))
        #expect(m.topics.count == 1)
        #expect(broker.received.map(\.header.apiKey) == [.apiVersions, .saslHandshake, .saslAuthenticate, .metadata])
    }

    @Test func wrongPasswordFailsFastWithAnAuthenticationError() async throws {
        let broker = try Self.saslBroker(mechanisms: ["PLAIN"]) { $0 == Self.plainToken }
        defer { broker.stop() }
        do {
            _ = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, options: options(SaslConfiguration(mechanism: .plain, username: "alice", password: "wrong-secret")))
            Issue.record("expected failure")
        } catch let e as KafkaError {
            #expect(e.kind == .authentication)
            #expect(e.message.contains("PLAIN"))
            #expect(!e.description.contains("wrong-secret"))
            #expect(!e.isRetriable)
        }
    }

    @Test func disabledMechanismListsTheEnabledOnes() async throws {
        let broker = try Self.saslBroker(mechanisms: ["PLAIN", "SCRAM-SHA-256"]) { _ in true }
        defer { broker.stop() }
        do {
            _ = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, options: options(SaslConfiguration(mechanism: .scramSHA512, username: "a", password: "b")))
            Issue.record("expected failure")
        } catch let e as KafkaError {
            #expect(e.kind == .authentication)
            #expect(e.message.contains("SCRAM-SHA-512"))
            #expect(e.message.contains("PLAIN, SCRAM-SHA-256"))
        }
    }

    @Test func oauthBearerSendsTokenAndExtensions() async throws {
        let expected = Array("n,,\u{1}auth=Bearer tok-123\u{1}logicalCluster=lkc-1\u{1}\u{1}".utf8)
        let broker = try Self.saslBroker(mechanisms: ["OAUTHBEARER"]) { $0 == expected }
        defer { broker.stop() }
        let calls = Mutex(0)
        let sasl = SaslConfiguration(mechanism: .oauthBearer, tokenProvider: {
            calls.withLock { $0 += 1 }
            return OAuthBearerToken(value: "tok-123", extensions: ["logicalCluster": "lkc-1"])
        })
        let c = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, options: options(sasl))
        c.close()
        #expect(calls.withLock { $0 } == 1)
    }

    /// `\u{1}` separates the fields of the OAUTHBEARER message: a token or extension carrying it
    /// (or anything else outside RFC 7628's grammar) is refused before anything is sent, as a
    /// configuration error that does not quote the token.
    @Test(arguments: [
        OAuthBearerToken(value: "tok\u{1}auth=Bearer evil"),
        OAuthBearerToken(value: "tok 123"),
        OAuthBearerToken(value: ""),
        OAuthBearerToken(value: "=abc"),
        OAuthBearerToken(value: "abc=d"),
        OAuthBearerToken(value: "tök"),
        OAuthBearerToken(value: "tok-123", extensions: ["logicalCluster": "lkc\u{1}auth=Bearer evil"]),
        OAuthBearerToken(value: "tok-123", extensions: ["logicalCluster": "lkc\u{0}"]),
        OAuthBearerToken(value: "tok-123", extensions: ["cluster\u{1}x": "v"]),
        OAuthBearerToken(value: "tok-123", extensions: ["clüster": "v"]),
        OAuthBearerToken(value: "tok-123", extensions: ["": "v"]),
        OAuthBearerToken(value: "tok-123", extensions: ["auth": "Bearer x"]),
    ])
    func oauthBearerRejectsFieldInjection(token: OAuthBearerToken) throws {
        do {
            _ = try OAuthBearerExchange.initialResponse(token)
            Issue.record("accepted \(Array(token.value.utf8)) \(token.extensions.keys.sorted())")
        } catch let e as KafkaError {
            #expect(e.kind == .configuration)
            #expect(token.value.count < 3 || !e.description.contains(token.value))
        }
    }

    @Test func oauthBearerAcceptsTheWholeGrammar() throws {
        let t = OAuthBearerToken(value: "aZ09-._~+/==", extensions: ["traceId": "a b\tc\r\nd~!"])
        let msg = try OAuthBearerExchange.initialResponse(t)
        #expect(msg == Array("n,,\u{1}auth=Bearer aZ09-._~+/==\u{1}traceId=a b\tc\r\nd~!\u{1}\u{1}".utf8))
    }

    @Test func oauthBearerInjectedTokenFailsTheConnectWithAConfigurationError() async throws {
        let broker = try Self.saslBroker(mechanisms: ["OAUTHBEARER"]) { _ in true }
        defer { broker.stop() }
        let sasl = SaslConfiguration(mechanism: .oauthBearer, tokenProvider: { OAuthBearerToken(value: "tok\u{1}auth=Bearer admin") })
        do {
            let c = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, options: options(sasl))
            c.close()
            Issue.record("connected with an injected token")
        } catch let e as KafkaError {
            #expect(e.kind == .configuration)
        }
        #expect(broker.received.filter { $0.header.apiKey == .saslAuthenticate }.isEmpty, "nothing of the bad token was sent")
    }

    @Test func sessionLifetimeTriggersReauthentication() async throws {
        let broker = try Self.saslBroker(mechanisms: ["PLAIN"], accept: { $0 == Self.plainToken }, lifetimeMs: 200)
        defer { broker.stop() }
        let c = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, options: options(SaslConfiguration(mechanism: .plain, username: "alice", password: "alice-secret")))
        defer { c.close() }
        // Bounded wait for the condition (generous: the machine may be loaded by parallel suites).
        let deadline = ContinuousClock.now + .seconds(30)
        while broker.received.filter({ $0.header.apiKey == .saslAuthenticate }).count < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(broker.received.filter { $0.header.apiKey == .saslAuthenticate }.count >= 3)
        #expect(c.isOpen)
        #expect(broker.connectionCount == 1, "re-authentication happens on the same connection")
    }
}
