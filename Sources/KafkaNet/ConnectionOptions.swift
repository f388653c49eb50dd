public import KafkaProtocol

/// Options for one TCP connection.
public struct ConnectionOptions: Sendable {
    /// Time allowed for TCP connect per address (`socket.connection.setup.timeout.ms`).
    public var connectTimeout: Duration = .seconds(10)
    /// Largest response frame accepted.
    public var maxFrameSize: Int = 100 * 1024 * 1024
    /// Client id sent in every request header (`client.id`).
    public var clientId: String? = "kafkawire"
    /// Upper bounds on the versions negotiated per API (for tests and pinning).
    public var versionCaps: [ApiKey: Int16] = [:]
    /// Backoff between reconnect attempts (`reconnect.backoff.ms`, `reconnect.backoff.max.ms`).
    public var reconnectBackoff = Backoff(base: .milliseconds(50), max: .seconds(1))
    /// SASL authentication after version negotiation; nil for none.
    public var sasl: SaslConfiguration?
    /// TLS for the connection; nil for plaintext.
    public var tls: TLSConfiguration?
    /// Options with the defaults above: plaintext, no SASL.
    public init() {}
}
