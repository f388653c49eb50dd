import Foundation
import KafkaTestSupport

/// `runProcess` (KafkaTestSupport) with text output and the wall time, for tests that time the CLI.
enum ChildProcess {
    struct Result: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Wall time from start to exit.
        var elapsed: Duration
    }

    static func run(_ executable: URL, _ arguments: [String], environment: [String: String] = [:], removing: [String] = [], stdin: String? = nil) async throws -> Result {
        var env = ProcessInfo.processInfo.environment
        for k in removing { env[k] = nil }
        for (k, v) in environment { env[k] = v }
        let start = ContinuousClock.now
        let r = try await runProcess([executable.path] + arguments, stdin: stdin.map { Data($0.utf8) }, environment: env, timeout: .seconds(180))
        return Result(status: r.status, stdout: String(decoding: r.stdout, as: UTF8.self),
                      stderr: String(decoding: r.stderr, as: UTF8.self), elapsed: ContinuousClock.now - start)
    }

    /// `kwire` from this build, without `KAFKA_BOOTSTRAP` from the test environment.
    static func kwire(_ arguments: [String], stdin: String? = nil) async throws -> Result {
        guard let bin = KwireCLITests.binary else { throw KwireCLITests.FakeBrokerError_("kwire is not built: run swift build first") }
        return try await run(bin, arguments, removing: ["KAFKA_BOOTSTRAP"], stdin: stdin)
    }
}
