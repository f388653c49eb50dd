import KafkaNet

/// What printing a configuration shows: every setting except secrets. `sasl.password` and
/// `ssl.key.password` are never shown, and an OAUTHBEARER provider only as "set" — also through
/// `dump()` and `String(reflecting:)`, and inside `ProducerConfig`/`ConsumerConfig`, whose
/// default printing goes through these.
extension ClientConfig: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        var parts = ["bootstrap.servers: \(bootstrapServers.joined(separator: ","))", "client.id: \(clientId)", "security.protocol: \(securityProtocol.rawValue)"]
        if securityProtocol == .saslPlaintext || securityProtocol == .saslSSL {
            parts.append("sasl.mechanism: \(saslMechanism.rawValue)")
            if saslMechanism == .oauthBearer {
                parts.append("token provider: \(oauthBearerTokenProvider == nil ? "none" : "set")")
            } else {
                parts.append("sasl.username: \(saslUsername)")
                parts.append("sasl.password: \(saslPassword.isEmpty ? "(empty)" : "<redacted>")")
            }
        }
        if securityProtocol == .ssl || securityProtocol == .saslSSL { parts.append(tls.description) }
        return "ClientConfig(" + parts.joined(separator: ", ") + ")"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: [
            "bootstrapServers": bootstrapServers, "clientId": clientId, "requestTimeout": requestTimeout,
            "defaultApiTimeout": defaultApiTimeout, "metadataMaxAge": metadataMaxAge,
            "reconnectBackoff": reconnectBackoff, "reconnectBackoffMax": reconnectBackoffMax,
            "retryBackoff": retryBackoff, "retryBackoffMax": retryBackoffMax,
            "connectionSetupTimeout": connectionSetupTimeout, "receiveMessageMaxBytes": receiveMessageMaxBytes,
            "allowAutoCreateTopics": allowAutoCreateTopics, "securityProtocol": securityProtocol,
            "saslMechanism": saslMechanism, "saslUsername": saslUsername,
            "saslPassword": saslPassword.isEmpty ? "(empty)" : "<redacted>",
            "oauthBearerTokenProvider": oauthBearerTokenProvider == nil ? "none" : "set",
            "tls": tls,
        ], displayStyle: .struct)
    }
}
