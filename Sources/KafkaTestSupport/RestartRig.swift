import Foundation

/// Drives `scripts/restart_rig.sh`: one Tansu broker on S3 storage (a local moto_server), so
/// that its data and committed offsets survive a restart, and which a test can restart
/// gracefully (SIGTERM) or crash (SIGKILL) — each time on the same port.
///
/// `scripts/test.sh` starts the rig and hands it to the tests as `KWIRE_RESTART_RIG` (the
/// bootstrap address) with `KWIRE_RESTART_DIR` (its state directory, which the script reads);
/// `fromEnvironment` picks that up. The soak starts a rig of its own (`start`) behind a proxy.
/// Every script run goes through `runProcess`: nothing blocks the cooperative pool.
public struct RestartRig: Sendable {
    /// Where clients connect (`127.0.0.1:port`, the advertised listener).
    public let bootstrap: String
    /// The script's state directory (`KWIRE_RESTART_DIR`).
    public let stateDir: String

    /// `scripts/restart_rig.sh` of this checkout.
    public static let script: String = {
        // Sources/KafkaTestSupport/RestartRig.swift → the repository root.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/restart_rig.sh").path
    }()

    /// A failed script run, with the end of what it wrote on stderr.
    public struct RigError: Error, CustomStringConvertible {
        /// What failed and why.
        public let description: String
        /// - Parameter description: What failed and why.
        public init(description: String) { self.description = description }
    }

    /// The rig `scripts/test.sh` started: `KWIRE_RESTART_RIG` and `KWIRE_RESTART_DIR`, nil when
    /// either is missing.
    public static var fromEnvironment: RestartRig? {
        let env = ProcessInfo.processInfo.environment
        guard let b = env["KWIRE_RESTART_RIG"], !b.isEmpty, let d = env["KWIRE_RESTART_DIR"], !d.isEmpty else { return nil }
        return RestartRig(bootstrap: b, stateDir: d)
    }

    /// A rig already running with its state in `stateDir`, reachable at `bootstrap`.
    /// - Parameters:
    ///   - bootstrap: The advertised address (`127.0.0.1:port`).
    ///   - stateDir: The script's state directory.
    public init(bootstrap: String, stateDir: String) {
        self.bootstrap = bootstrap
        self.stateDir = stateDir
    }

    /// Starts a rig with its state in `stateDir` (moto_server and a bucket, then Tansu).
    /// - Parameters:
    ///   - stateDir: A directory of its own (`KWIRE_RESTART_DIR`).
    ///   - advertisedPort: The port the broker advertises, e.g. a `FaultProxy`'s in front of it
    ///     (nil: its own).
    /// - Throws: `RigError` when the script fails.
    public static func start(stateDir: String, advertisedPort: Int? = nil) async throws -> RestartRig {
        var args = ["start"]
        if let advertisedPort { args += ["--advertised-port", String(advertisedPort)] }
        let line = try await run(args, stateDir: stateDir)
        return RestartRig(bootstrap: line, stateDir: stateDir)
    }

    /// Starts a rig of its own (state in `stateDir`) whose broker advertises a new `FaultProxy`
    /// in front of it, so that every connection of a client goes through the proxy.
    /// - Parameter stateDir: A directory of its own.
    /// - Returns: The rig (its `bootstrap` is the proxy's address) and the proxy.
    /// - Throws: `RigError` when the script fails.
    public static func startBehindProxy(stateDir: String) async throws -> (rig: RestartRig, proxy: FaultProxy) {
        let proxy = try FaultProxy()
        do {
            let rig = try await start(stateDir: stateDir, advertisedPort: proxy.port)
            guard let port = rig.brokerPort else {
                await rig.stop()
                throw RigError(description: "restart_rig.sh recorded no broker port in \(stateDir)")
            }
            proxy.upstreamPort = port
            return (rig, proxy)
        } catch {
            proxy.stop()
            throw error
        }
    }

    /// A graceful restart with the broker drained first: `proxy` holds all traffic for `drain`
    /// (requests already sent stay in flight, new ones wait), then SIGTERM and a start on the
    /// same port, then traffic flows again (and the client finds its connections gone).
    ///
    /// Why the drain: Tansu on S3 acknowledges a write before it is durable, and writes that
    /// arrive while it shuts down can be lost even after SIGTERM (librdkafka, idempotent,
    /// acks=all: 999,746 of 1,000,000 acknowledged messages in the log after three restarts under
    /// load). A test of the client's exactness must not fail on the broker's durability, so it
    /// restarts the broker the way a controlled shutdown would: with no writes arriving.
    /// - Parameters:
    ///   - proxy: The proxy in front of this rig's broker.
    ///   - drain: How long traffic is held before the SIGTERM.
    /// - Throws: `RigError` when the script fails (traffic flows again either way).
    public func drainedRestart(through proxy: FaultProxy, drain: Duration = .milliseconds(1500)) async throws {
        proxy.pause(.blackhole)
        defer { proxy.resume() }
        try await Task.sleep(for: drain)
        try await restart()
    }

    /// The broker's own port (behind a proxy this is not the bootstrap's).
    public var brokerPort: Int? {
        (try? String(contentsOfFile: stateDir + "/tansu/broker.port", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Graceful restart: SIGTERM, wait for the exit, stay down `down`, start on the same port;
    /// returns once the broker answers ApiVersions again.
    /// - Parameter down: How long the broker stays stopped.
    /// - Throws: `RigError` when the script fails.
    public func restart(down: Duration = .zero) async throws {
        _ = try await Self.run(["restart", "--down", Self.seconds(down)], stateDir: stateDir)
    }

    /// Crash: SIGKILL, stay down `down`, start on the same port (writes the broker had
    /// acknowledged may be lost).
    /// - Parameter down: How long the broker stays dead.
    /// - Throws: `RigError` when the script fails.
    public func kill(down: Duration = .zero) async throws {
        _ = try await Self.run(["kill", "--down", Self.seconds(down)], stateDir: stateDir)
    }

    /// Stops Tansu and moto_server (the data is gone).
    public func stop() async {
        _ = try? await Self.run(["stop"], stateDir: stateDir)
    }

    private static func seconds(_ d: Duration) -> String {
        let ms = max(0, d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)
        return String(format: "%.3f", Double(ms) / 1000)
    }

    /// Runs the script and returns its one stdout line.
    private static func run(_ args: [String], stateDir: String) async throws -> String {
        var env = ProcessInfo.processInfo.environment
        env["KWIRE_RESTART_DIR"] = stateDir
        let r = try await runProcess(["/bin/bash", script] + args, environment: env, timeout: .seconds(120))
        let out = String(decoding: r.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard r.status == 0 else {
            throw RigError(description: "restart_rig.sh \(args.joined(separator: " ")) failed (status \(r.status)): \(String(decoding: r.stderr.suffix(1500), as: UTF8.self))")
        }
        return out
    }
}
