import KafkaProtocol

/// Runs SaslHandshake + SaslAuthenticate on a freshly negotiated connection (and again for
/// KIP-368 re-authentication). Errors a user can act on: a wrong password is an
/// `.authentication` error naming the mechanism; a mechanism the broker does not enable lists
/// the ones it does. Secrets never appear in errors.
enum SaslAuthenticator {
    /// Authenticates and returns the session lifetime the broker granted (nil = unlimited).
    static func authenticate(_ c: BrokerConnection, _ config: SaslConfiguration, timeout: Duration) async throws -> Duration? {
        let remote = c.remote
        guard c.brokerRange(for: .saslAuthenticate) != nil else {
            throw KafkaError(.unsupportedVersion, "broker does not support SaslAuthenticate (Kafka < 1.0); raw SASL v0 framing is not implemented", context: .init(broker: remote, apiKey: .saslAuthenticate))
        }
        let handshake = try await c.send(SaslHandshakeRequest(mechanism: config.mechanism.rawValue), version: min(1, try c.version(for: SaslHandshakeRequest.self)), timeout: timeout)
        let code = KafkaErrorCode(rawValue: handshake.errorCode)
        if code == .unsupportedSaslMechanism {
            throw KafkaError(.authentication, "the broker does not enable SASL mechanism \(config.mechanism.rawValue); it enables: \(handshake.mechanisms.joined(separator: ", "))", context: .init(broker: remote, apiKey: .saslHandshake))
        }
        guard code.isSuccess else {
            throw KafkaError(.authentication, "SASL handshake failed: \(code.name)", context: .init(broker: remote, apiKey: .saslHandshake))
        }
        var exchange: any SaslExchange
        switch config.mechanism {
        case .plain: exchange = PlainExchange(username: config.username, password: config.password)
        case .scramSHA256: exchange = ScramExchange<SHA256>(mechanism: .scramSHA256, username: config.username, password: config.password)
        case .scramSHA512: exchange = ScramExchange<SHA512>(mechanism: .scramSHA512, username: config.username, password: config.password)
        case .oauthBearer:
            guard let provider = config.tokenProvider else { throw KafkaError(.configuration, "OAUTHBEARER needs a token provider") }
            exchange = OAuthBearerExchange(provider: provider)
        }
        var token: [UInt8]? = try await exchange.start()
        var lifetime: Duration?
        var rounds = 0
        while let t = token {
            rounds += 1
            guard rounds <= 10 else { throw KafkaError(.authentication, "SASL \(config.mechanism.rawValue) exchange did not finish", context: .init(broker: remote)) }
            let response = try await c.send(SaslAuthenticateRequest(authBytes: t), timeout: timeout)
            let rc = KafkaErrorCode(rawValue: response.errorCode)
            guard rc.isSuccess else {
                // The broker's message (e.g. "Authentication failed during authentication due to
                // invalid credentials with SASL mechanism SCRAM-SHA-512") never echoes secrets.
                throw KafkaError(.authentication, "SASL \(config.mechanism.rawValue) authentication failed: \(response.errorMessage ?? rc.name)", context: .init(broker: remote, apiKey: .saslAuthenticate))
            }
            if response.sessionLifetimeMs > 0 { lifetime = .milliseconds(response.sessionLifetimeMs) }
            token = try exchange.respond(to: response.authBytes)
        }
        if !exchange.isComplete {
            throw KafkaError(.authentication, "SASL \(config.mechanism.rawValue) exchange ended before the server's final message", context: .init(broker: remote))
        }
        return lifetime
    }
}
