/// TLS settings for broker connections (`security.protocol` ssl / sasl_ssl).
///
/// Certificate verification and hostname verification are on by default; TLS 1.2 is the
/// minimum. Private-key passwords are never included in errors or descriptions.
public struct TLSConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// `ssl.ca.location`: a PEM file or a directory of hashed certificates; nil for the system
    /// trust store.
    public var caLocation: String?
    /// `ssl.endpoint.identification.algorithm`: `https` (default) checks that the certificate
    /// names the host we connected to; `none` skips that check (the chain is still verified).
    public var verifyHostname = true
    /// `enable.ssl.certificate.verification`: false accepts any certificate (testing only).
    public var verifyCertificate = true
    /// `ssl.certificate.location`: client certificate (PEM) for mutual TLS.
    public var certificateLocation: String?
    /// `ssl.key.location`: client private key (PEM) for mutual TLS.
    public var keyLocation: String?
    /// `ssl.key.password`: password of an encrypted private key.
    public var keyPassword: String?
    /// The OpenSSL context built from these settings, shared by the copies of this value (so by
    /// every connection of a client) and rebuilt only when the settings differ.
    public let contextCache = TLSContextCache()

    /// The defaults: system trust store, both verifications on, no client certificate.
    public init() {}

    public var description: String {
        "TLS(ca: \(caLocation ?? "system"), verify hostname: \(verifyHostname), client cert: \(certificateLocation ?? "none"))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: [
            "caLocation": caLocation ?? "system", "verifyHostname": verifyHostname, "verifyCertificate": verifyCertificate,
            "certificateLocation": certificateLocation ?? "none", "keyLocation": keyLocation ?? "none",
            "keyPassword": keyPassword == nil ? "none" : "<redacted>",
        ], displayStyle: .struct)
    }
}
