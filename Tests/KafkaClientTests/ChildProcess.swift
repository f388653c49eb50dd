import Foundation
import Synchronization

/// Runs a child process without blocking a cooperative-pool thread: the blocking part (feeding
/// stdin, reading both pipes to the end, waiting for exit) happens on a Dispatch queue and the
/// caller awaits a continuation.
enum ChildProcess {
    struct Result: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Wall time from start to exit.
        var elapsed: Duration
    }

    static func run(_ executable: URL, _ arguments: [String], environment: [String: String] = [:], removing: [String] = [], stdin: String? = nil) async throws -> Result {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Result, any Error>) in
            DispatchQueue.global().async {
                let p = Process()
                p.executableURL = executable
                p.arguments = arguments
                var env = ProcessInfo.processInfo.environment
                for k in removing { env[k] = nil }
                for (k, v) in environment { env[k] = v }
                p.environment = env
                let input = Pipe(), out = Pipe(), err = Pipe()
                p.standardInput = stdin == nil ? FileHandle.nullDevice : input
                p.standardOutput = out
                p.standardError = err
                let start = ContinuousClock.now
                do {
                    try p.run()
                } catch {
                    c.resume(throwing: error)
                    return
                }
                if let stdin {
                    input.fileHandleForWriting.write(Data(stdin.utf8))
                    try? input.fileHandleForWriting.close()
                }
                // Read stderr on its own thread so that neither pipe can fill up and stall the child.
                let errData = LockedData()
                let group = DispatchGroup()
                DispatchQueue.global().async(group: group) { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
                let o = out.fileHandleForReading.readDataToEndOfFile()
                group.wait()
                p.waitUntilExit()
                c.resume(returning: Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                                           stderr: String(decoding: errData.get(), as: UTF8.self), elapsed: ContinuousClock.now - start))
            }
        }
    }

    /// `kwire` from this build, without `KAFKA_BOOTSTRAP` from the test environment.
    static func kwire(_ arguments: [String], stdin: String? = nil) async throws -> Result {
        guard let bin = KwireCLITests.binary else { throw KwireCLITests.FakeBrokerError_("kwire is not built: run swift build first") }
        return try await run(bin, arguments, removing: ["KAFKA_BOOTSTRAP"], stdin: stdin)
    }
}

/// Bytes handed from the stderr reader thread to the waiting one.
final class LockedData: Sendable {
    private let data = Mutex(Data())
    func set(_ d: Data) { data.withLock { $0 = d } }
    func get() -> Data { data.withLock { $0 } }
}
