import Testing
import Synchronization
@testable import KafkaNet
import KafkaProtocol
import KafkaTestSupport

/// OAUTHBEARER tokens are cached per client and refreshed at 80 % of their lifetime: the
/// provider is called once per lifetime, not once per connection or re-authentication.
@Suite struct OAuthBearerTokenTests {
    /// A provider that counts its calls and issues `tok-1`, `tok-2`, … living `lifetime`.
    final class CountingProvider: Sendable {
        let lifetime: Duration?
        let delay: Duration
        let failAfter: Int
        private let state = Mutex<[ContinuousClock.Instant]>([])

        init(lifetime: Duration?, delay: Duration = .zero, failAfter: Int = .max) {
            self.lifetime = lifetime
            self.delay = delay
            self.failAfter = failAfter
        }

        var calls: Int { state.withLock { $0.count } }
        var callTimes: [ContinuousClock.Instant] { state.withLock { $0 } }

        func next() async throws -> OAuthBearerToken {
            let n = state.withLock { s -> Int in
                s.append(.now)
                return s.count
            }
            if delay > .zero { try await Task.sleep(for: delay) }
            if n > failAfter { throw KafkaError(.authentication, "identity provider unavailable") }
            return OAuthBearerToken(value: "tok-\(n)", expiresAt: lifetime.map { .now + $0 })
        }

        var sasl: SaslConfiguration { SaslConfiguration(mechanism: .oauthBearer, tokenProvider: { try await self.next() }) }
    }

    /// The token text inside an OAUTHBEARER client message.
    static func tokenText(_ message: [UInt8]) -> String {
        let s = String(decoding: message, as: UTF8.self)
        guard let r = s.range(of: "auth=Bearer ") else { return "" }
        return String(s[r.upperBound...].prefix { $0 != "\u{1}" })
    }

    /// Tokens the fake broker received, in order.
    final class Seen: Sendable {
        private let tokens = Mutex<[String]>([])
        func append(_ t: String) { tokens.withLock { $0.append(t) } }
        var all: [String] { tokens.withLock { $0 } }
    }

    static func recordingBroker(lifetimeMs: Int64 = 0) throws -> (FakeBroker, Seen) {
        let seen = Seen()
        let broker = try SaslFlowTests.saslBroker(mechanisms: ["OAUTHBEARER"], accept: { token in
            seen.append(tokenText(token))
            return true
        }, lifetimeMs: lifetimeMs)
        return (broker, seen)
    }

    func options(_ sasl: SaslConfiguration) -> ConnectionOptions {
        var o = ConnectionOptions()
        o.sasl = sasl
        return o
    }

    @Test func manyConnectionsShareOneProviderCall() async throws {
        let (broker, seen) = try Self.recordingBroker()
        defer { broker.stop() }
        let provider = CountingProvider(lifetime: .seconds(3600), delay: .milliseconds(100))
        let o = options(provider.sasl)
        try await withThrowingTaskGroup(of: BrokerConnection.self) { group in
            for _ in 0 ..< 6 { group.addTask { try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, options: o) } }
            for try await c in group { c.close() }
        }
        #expect(provider.calls == 1, "concurrent connections waited for the same provider call")
        #expect(seen.all == Array(repeating: "tok-1", count: 6))
    }

    @Test func tokenIsRefreshedInTheBackgroundBeforeItExpires() async throws {
        let (broker, seen) = try Self.recordingBroker()
        defer { broker.stop() }
        let lifetime = Duration.milliseconds(1500)
        let provider = CountingProvider(lifetime: lifetime)
        let sasl = provider.sasl
        defer { sasl.tokenSource?.stop() }
        let first = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, options: options(sasl))
        first.close()
        #expect(provider.calls == 1)
        // No connection asks for a token now: the refresh at 80 % (1.2 s) happens on its own.
        let deadline = ContinuousClock.now + .seconds(20)
        while provider.calls < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let times = provider.callTimes
        try #require(times.count >= 2)
        // Not before the refresh point (a little slack for timer granularity).
        #expect(times[1] - times[0] >= .milliseconds(1100))
        let second = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, options: options(sasl))
        second.close()
        #expect(seen.all.last == "tok-\(provider.calls)", "a new connection uses the refreshed token")
    }

    @Test func reauthenticationUsesTheRefreshedTokenWithoutCallingTheProviderEachTime() async throws {
        // Session 1 s: re-authentication about every 0.5 s; token lifetime 2 s: refreshed every ~1.6 s.
        let (broker, seen) = try Self.recordingBroker(lifetimeMs: 1000)
        defer { broker.stop() }
        let provider = CountingProvider(lifetime: .seconds(2))
        let sasl = provider.sasl
        defer { sasl.tokenSource?.stop() }
        let c = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, options: options(sasl))
        defer { c.close() }
        let deadline = ContinuousClock.now + .seconds(30)
        while Set(seen.all).count < 2 || seen.all.count < 6, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let tokens = seen.all
        #expect(tokens.count >= 6)
        #expect(Set(tokens).count >= 2, "re-authentication picked up the refreshed token")
        // Never an older token after a newer one, and far fewer provider calls than authentications.
        let numbers = tokens.compactMap { Int($0.dropFirst(4)) }
        #expect(numbers == numbers.sorted())
        #expect(provider.calls < tokens.count)
        #expect(broker.connectionCount == 1)
    }

    @Test func aFailedRefreshKeepsTheCurrentTokenUntilItExpires() async throws {
        let provider = CountingProvider(lifetime: .seconds(4), failAfter: 1)
        let source = OAuthBearerTokenSource(provider: { try await provider.next() })
        defer { source.stop() }
        let first = try await source.token()
        #expect(first.value == "tok-1")
        let expiry = try #require(first.expiresAt)
        // The background refresh at 80 % (3.2 s) fails; until expiry the valid token is used.
        let deadline = ContinuousClock.now + .seconds(20)
        while provider.calls < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(provider.calls == 2)
        // (A machine so loaded that this runs after expiry may fail instead; nothing else.)
        if let again = try? await source.token() {
            #expect(again.value == "tok-1")
        } else {
            #expect(ContinuousClock.now >= expiry, "the refresh failed but the token was still valid")
        }
        // Past expiry: the provider is asked again, and its error comes through.
        try await Task.sleep(until: expiry + .milliseconds(50), clock: .continuous)
        await #expect(throws: KafkaError.self) { _ = try await source.token() }
    }

    @Test func aTokenWithoutExpiryIsKeptForGood() async throws {
        let provider = CountingProvider(lifetime: nil)
        let source = OAuthBearerTokenSource(provider: { try await provider.next() })
        for _ in 0 ..< 5 { #expect(try await source.token().value == "tok-1") }
        #expect(provider.calls == 1)
    }

    @Test func stopEndsBackgroundRefreshes() async throws {
        let provider = CountingProvider(lifetime: .milliseconds(500))
        let source = OAuthBearerTokenSource(provider: { try await provider.next() })
        _ = try await source.token()
        source.stop()
        try await Task.sleep(for: .milliseconds(1200))
        #expect(provider.calls == 1, "no refresh after stop() (the 80 % point was at 400 ms)")
        // Asked again after expiry, it still fetches on demand.
        #expect(try await source.token().value == "tok-2")
    }

    @Test func tokenDescriptionsHideTheToken() {
        let t = OAuthBearerToken(value: "eyJhbGciOi.secret-part", expiresAt: .now + .seconds(60), extensions: ["logicalCluster": "lkc-1"])
        for text in [t.description, String(reflecting: t), "\(t)", { var s = ""; dump(t, to: &s); return s }()] {
            #expect(!text.contains("secret-part"), "\(text)")
        }
        #expect(t.description.contains("logicalCluster"))
    }
}
