import KafkaClient
import KafkaProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Options every broker-talking command shares: `-b/--bootstrap` and `-X key=value`.
enum Common {
    static let valued: Set<String> = ["-b", "--bootstrap", "-X"]
    static let flags: Set<String> = ["-h", "--help"]

    static let help = """
      -b, --bootstrap HOST:PORT[,…]  brokers to bootstrap from (default: $KAFKA_BOOTSTRAP)
      -X KEY=VALUE                   any client property, e.g. -X request.timeout.ms=5000
      -h, --help                     show this help
    """

    /// The client configuration from `-b`, `$KAFKA_BOOTSTRAP` and `-X`.
    /// `applyX: false` leaves `-X` to a caller whose configuration has more properties (the
    /// producer's) and applies them itself.
    static func config(_ args: Arguments, applyX: Bool = true) throws -> ClientConfig {
        var config = ClientConfig()
        // A short default timeout keeps a CLI call against a dead cluster from hanging.
        config.defaultApiTimeout = .seconds(5)
        config.requestTimeout = .seconds(10)
        config.connectionSetupTimeout = .seconds(5)
        for x in args.values("-X") where applyX {
            let (key, value) = try Common.property(x)
            try config.set(key, value)
        }
        if let b = try args.value("-b", "--bootstrap") {
            try config.set("bootstrap.servers", b)
        } else if config.bootstrapServers.isEmpty {
            guard let env = ProcessEnvironment.get("KAFKA_BOOTSTRAP"), !env.isEmpty else {
                throw CLIError.usage("no brokers: pass -b HOST:PORT or set KAFKA_BOOTSTRAP")
            }
            try config.set("bootstrap.servers", env)
        }
        return config
    }
}

extension Common {
    /// Splits one `-X KEY=VALUE` argument. A malformed one is not echoed back: it may be a
    /// secret typed without its key, or with ':' for '='.
    static func property(_ x: String) throws -> (key: String, value: String) {
        guard let eq = x.firstIndex(of: "=") else {
            throw CLIError.usage("-X needs KEY=VALUE: an -X argument has no '=' (not shown, as it may hold a secret)")
        }
        return (String(x[..<eq]), String(x[x.index(after: eq)...]))
    }
}

/// Writes to standard error.
func printError(_ s: String) {
    var line = s
    if !line.hasSuffix("\n") { line += "\n" }
    // write(2) on fd 2 rather than the C `stderr` global, which Swift 6 rightly flags as shared
    // mutable state.
    _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
}

/// Environment lookup without the deprecated `String(cString:)`.
enum ProcessEnvironment {
    static func get(_ name: String) -> String? {
        guard let p = getenv(name) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: strlen(p)), as: UTF8.self)
    }
}
