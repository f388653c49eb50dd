import Foundation

/// Where integration tests find a real broker: `KAFKA_BOOTSTRAP` (set by `scripts/test.sh`,
/// or pointing at a real cluster). Without it the tests are skipped — visibly, by name — unless
/// `KWIRE_REQUIRE_INTEGRATION=1` (set by `scripts/test.sh` unless `KWIRE_OFFLINE=1`), in which
/// case `IntegrationPrerequisiteTests` fails naming what is missing.
public enum IntegrationEnvironment {
    /// `host:port[,…]` of a real broker, if configured.
    public static var bootstrap: String? {
        guard let v = ProcessInfo.processInfo.environment["KAFKA_BOOTSTRAP"], !v.isEmpty else { return nil }
        return v
    }

    /// True when integration tests can run.
    public static var isAvailable: Bool { bootstrap != nil }

    /// True when the run must not skip integration suites (`KWIRE_REQUIRE_INTEGRATION=1`).
    public static var isRequired: Bool { ProcessInfo.processInfo.environment["KWIRE_REQUIRE_INTEGRATION"] == "1" }

    /// True when `tool` is an executable in one of the system bin directories (where apt-get
    /// puts socat and openssl; not `PATH`, which a test runner may have narrowed).
    public static func hasSystemTool(_ tool: String) -> Bool {
        ["/usr/bin/", "/bin/", "/usr/local/bin/"].contains { FileManager.default.isExecutableFile(atPath: $0 + tool) }
    }

    /// A topic name unique to this test run.
    public static func uniqueTopic(_ prefix: String = "kw-test") -> String {
        "\(prefix)-\(UInt32.random(in: 0 ... UInt32.max))"
    }
}
