import KafkaProtocol

/// Runs SaslHandshake + SaslAuthenticate on a freshly negotiated connection (and again for
/// KIP-368 re-authentication). Errors a user can act on: a wrong password is an
/// `.authentication` error naming the mechanism; a mechanism the broker does not enable lists
/// the ones it does. Secrets never appear in errors.
///
/// A broker without SaslAuthenticate (API key 36; Kafka 0.10–0.11) gets the legacy flow of
/// KIP-43: SaslHandshake v0, then the SASL tokens as bare size-prefixed frames with no request
/// or response header (as the Java client's SaslClientAuthenticator and librdkafka do). That
/// flow has no error messages: the broker just closes the connection on a failed exchange.
enum SaslAuthenticator {
    /// Authenticates and returns the session lifetime the broker granted (nil = unlimited).
    static func authenticate(_ c: BrokerConnection, _ config: SaslConfiguration, timeout: Duration) async throws -> Duration? {
        let remote = c.remote
        let mechanism = config.mechanism.rawValue
        // KIP-152: handshake v1 promises SaslAuthenticate requests; v0 promises bare tokens.
        let legacy = c.brokerRange(for: .saslAuthenticate) == nil
        let handshakeVersion = legacy ? try c.version(for: SaslHandshakeRequest.self, cap: 0) : min(1, try c.version(for: SaslHandshakeRequest.self))
        let handshake = try await c.sendNow(SaslHandshakeRequest(mechanism: mechanism), version: handshakeVersion, timeout: timeout)
        let code = KafkaErrorCode(rawValue: handshake.errorCode)
        if code == .unsupportedSaslMechanism {
            throw KafkaError(.authentication, "the broker does not enable SASL mechanism \(mechanism); it enables: \(handshake.mechanisms.joined(separator: ", "))", context: .init(broker: remote, apiKey: .saslHandshake))
        }
        guard code.isSuccess else {
            throw KafkaError(.authentication, "SASL handshake failed: \(code.name)", context: .init(broker: remote, apiKey: .saslHandshake))
        }
        var exchange = try makeExchange(config)
        var token: [UInt8]? = try await exchange.start()
        var lifetime: Duration?
        var rounds = 0
        while let t = token {
            rounds += 1
            guard rounds <= 10 else { throw KafkaError(.authentication, "SASL \(mechanism) exchange did not finish", context: .init(broker: remote)) }
            let challenge: [UInt8]
            if legacy {
                challenge = try await rawRound(c, t, mechanism: mechanism, timeout: timeout)
            } else {
                let response = try await c.sendNow(SaslAuthenticateRequest(authBytes: t), timeout: timeout)
                let rc = KafkaErrorCode(rawValue: response.errorCode)
                guard rc.isSuccess else {
                    // The broker's message (e.g. "Authentication failed during authentication due to
                    // invalid credentials with SASL mechanism SCRAM-SHA-512") never echoes secrets.
                    throw KafkaError(.authentication, "SASL \(mechanism) authentication failed: \(response.errorMessage ?? rc.name)", context: .init(broker: remote, apiKey: .saslAuthenticate))
                }
                if response.sessionLifetimeMs > 0 { lifetime = .milliseconds(response.sessionLifetimeMs) }
                challenge = response.authBytes
            }
            token = try await exchange.respond(to: challenge)
        }
        if !exchange.isComplete {
            throw KafkaError(.authentication, "SASL \(mechanism) exchange ended before the server's final message", context: .init(broker: remote))
        }
        return lifetime
    }

    static func makeExchange(_ config: SaslConfiguration) throws -> any SaslExchange {
        switch config.mechanism {
        case .plain: return PlainExchange(username: config.username, password: config.password)
        case .scramSHA256: return ScramExchange<SHA256>(mechanism: .scramSHA256, username: config.username, password: config.password, keys: config.scramKeys)
        case .scramSHA512: return ScramExchange<SHA512>(mechanism: .scramSHA512, username: config.username, password: config.password, keys: config.scramKeys)
        case .oauthBearer:
            guard let source = config.tokenSource else { throw KafkaError(.configuration, "OAUTHBEARER needs a token provider") }
            return OAuthBearerExchange(source: source)
        }
    }

    /// One legacy round: a bare token out, the broker's bare answer back (empty for PLAIN and
    /// OAUTHBEARER success). A legacy broker closes the connection when authentication fails
    /// and cannot say why, so a connection lost here is reported as an authentication failure
    /// (not retried) — by far the most common cause.
    private static func rawRound(_ c: BrokerConnection, _ token: [UInt8], mechanism: String, timeout: Duration) async throws -> [UInt8] {
        do {
            return try await c.connection.sendRawSaslToken(token, timeout: timeout)
        } catch let e as KafkaError where e.kind == .connection {
            throw KafkaError(.authentication, "SASL \(mechanism) authentication failed: the broker closed the connection during the exchange (brokers without SaslAuthenticate give no reason; most often the credentials are wrong)", context: .init(broker: c.remote, apiKey: .saslHandshake, apiVersion: 0), underlying: e)
        } catch let e as KafkaError where e.kind == .timeout {
            throw KafkaError(.timeout, "no answer to the SASL \(mechanism) token (sent as a bare frame after SaslHandshake v0) within the request timeout", context: .init(broker: c.remote), underlying: e)
        }
    }
}
