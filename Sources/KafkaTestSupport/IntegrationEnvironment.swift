import Foundation

/// Where integration tests find a real broker: `KAFKA_BOOTSTRAP` (set by `scripts/test.sh`,
/// or pointing at a real cluster). Without it the tests are skipped — visibly, by name.
public enum IntegrationEnvironment {
    /// `host:port[,…]` of a real broker, if configured.
    public static var bootstrap: String? {
        guard let v = ProcessInfo.processInfo.environment["KAFKA_BOOTSTRAP"], !v.isEmpty else { return nil }
        return v
    }

    /// True when integration tests can run.
    public static var isAvailable: Bool { bootstrap != nil }

    /// A topic name unique to this test run.
    public static func uniqueTopic(_ prefix: String = "kw-test") -> String {
        "\(prefix)-\(UInt32.random(in: 0 ... UInt32.max))"
    }
}
