import Synchronization
public import KafkaProtocol

/// A broker address with a lazily (re)connected `BrokerConnection`.
///
/// Every caller asks for `connection()`; concurrent callers share one connect attempt. A failed
/// attempt makes the next one wait `reconnect.backoff.ms` × 2ⁿ (with jitter, capped at
/// `reconnect.backoff.max.ms`); a successful one resets the backoff. A connection found closed
/// is replaced on the next call.
public final class BrokerLink: Sendable {
    /// The broker's host name or address.
    public let host: String
    /// The broker's port.
    public let port: Int
    /// The broker's node id when known from metadata (nil for bootstrap servers).
    public let nodeId: Int32?
    private let options: ConnectionOptions
    private let requestTimeout: Duration
    private let loop: EventLoop?
    private let state = Mutex(State())

    private struct State {
        var current: BrokerConnection?
        var attempt: Task<BrokerConnection, any Error>?
        var failures = 0
        var notBefore = ContinuousClock.now
        var closed = false
    }

    /// A link that connects on first use.
    /// - Parameters:
    ///   - host: The broker's host name or address.
    ///   - port: The broker's port.
    ///   - nodeId: Its node id from metadata; nil for a bootstrap server.
    ///   - options: Settings of every connection made (TLS, SASL, backoff, …).
    ///   - requestTimeout: The default wait for an answer.
    ///   - loop: The I/O loop; nil for `EventLoop.shared()`.
    public init(host: String, port: Int, nodeId: Int32? = nil, options: ConnectionOptions, requestTimeout: Duration, loop: EventLoop? = nil) {
        self.host = host
        self.port = port
        self.nodeId = nodeId
        self.options = options
        self.requestTimeout = requestTimeout
        self.loop = loop
    }

    /// `host:port`.
    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Consecutive failed connect attempts so far.
    public var consecutiveFailures: Int { state.withLock { $0.failures } }

    /// An open, negotiated connection, connecting (after any backoff) if needed.
    ///
    /// Honours cancellation: a cancelled caller stops waiting at once with `.cancelled`, while
    /// the shared connect attempt goes on for the other callers (and the next call).
    /// - Returns: The current connection, or a new one.
    /// - Throws: `KafkaError`: `.closed` after `close()`, the connect attempt's error
    ///   (`.connection`, `.timeout`, `.authentication`, …), or `.cancelled`.
    public func connection() async throws -> BrokerConnection {
        enum Next { case ready(BrokerConnection), wait(Task<BrokerConnection, any Error>) }
        let next: Next = try state.withLock { s in
            if s.closed { throw KafkaError(.closed, "client closed", context: .init(broker: address)) }
            if let c = s.current, c.isOpen { return .ready(c) }
            if s.current != nil {
                // The connection died: reconnect after at least the base backoff.
                s.current = nil
                s.failures = max(s.failures, 1)
                s.notBefore = .now + options.reconnectBackoff.delay(afterFailures: s.failures)
            }
            if let attempt = s.attempt { return .wait(attempt) }
            let wait = s.notBefore - .now
            let (host, port, options, timeout, loop) = (self.host, self.port, self.options, self.requestTimeout, self.loop)
            let attempt = Task {
                if wait > .zero { try await Task.sleep(for: wait) }
                return try await BrokerConnection.connect(host: host, port: port, options: options, requestTimeout: timeout, loop: loop)
            }
            s.attempt = attempt
            return .wait(attempt)
        }
        let task: Task<BrokerConnection, any Error>
        switch next {
        case let .ready(c): return c
        case let .wait(t): task = t
        }
        // The attempt is shared (and unstructured): awaiting `task.value` would ignore this
        // caller's cancellation until connect or its timeout finished.
        let result = await Self.outcome(of: task, address: address)
        if case let .failure(e as KafkaError) = result, e.kind == .cancelled, Task.isCancelled {
            // Only this caller gave up; the attempt's own outcome is settled by whoever sees it.
            throw e
        }
        do {
            let c = try result.get()
            let keep: Bool = state.withLock { s in
                guard !s.closed else { return false }
                if s.current !== c {
                    s.current = c
                    s.failures = 0
                }
                if s.attempt == task { s.attempt = nil }
                return true
            }
            if !keep {
                c.close()
                throw KafkaError(.closed, "client closed", context: .init(broker: address))
            }
            return c
        } catch let e as KafkaError where e.kind == .closed {
            throw e
        } catch {
            state.withLock { s in
                if s.attempt == task {
                    s.attempt = nil
                    s.failures += 1
                    s.notBefore = .now + options.reconnectBackoff.delay(afterFailures: s.failures)
                }
            }
            if let e = error as? KafkaError { throw e.with(.init(broker: address)) }
            throw KafkaError(.connection, "cannot connect to \(address): \(error)", context: .init(broker: address), underlying: error)
        }
    }

    /// The attempt's result, or `.cancelled` as soon as the calling task is cancelled.
    private static func outcome(of task: Task<BrokerConnection, any Error>, address: String) async -> Result<BrokerConnection, any Error> {
        let once = OnceContinuation<BrokerConnection>()
        do {
            return .success(try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (c: CheckedContinuation<BrokerConnection, any Error>) in
                    guard once.install(c, cancelledMessage: "connect to \(address) cancelled") else { return }
                    Task { once.resume(with: await task.result) }
                }
            } onCancel: {
                once.cancel("connect to \(address) cancelled", context: .init(broker: address))
            })
        } catch {
            return .failure(error)
        }
    }

    /// Sends `request` on the current connection (connecting first if needed).
    /// - Parameters:
    ///   - request: The request.
    ///   - version: The version to use; nil for the highest common one.
    ///   - timeout: How long to wait for the answer; nil for the link's request timeout.
    /// - Returns: The decoded response.
    /// - Throws: `KafkaError` from connecting or from `BrokerConnection.send(_:version:timeout:)`.
    public func send<R: KafkaRequest>(_ request: R, version: Int16? = nil, timeout: Duration? = nil) async throws -> R.Response {
        let c = try await connection()
        return try await c.send(request, version: version, timeout: timeout ?? requestTimeout)
    }

    /// Sends a request whose fields depend on the negotiated version (e.g. FindCoordinator's
    /// `key` up to v3, `coordinator_keys` from v4): `make` builds it for that version.
    /// - Parameters:
    ///   - timeout: How long to wait for the answer; nil for the link's request timeout.
    ///   - make: Builds the request for the negotiated version.
    /// - Returns: The decoded response.
    /// - Throws: What `make` throws, or `KafkaError` from connecting or sending.
    public func send<R: KafkaRequest>(timeout: Duration? = nil, _ make: (Int16) throws -> R) async throws -> R.Response {
        let c = try await connection()
        let version = try c.version(for: R.self)
        return try await c.send(make(version), version: version, timeout: timeout ?? requestTimeout)
    }

    /// Closes the current connection; the link stays usable and reconnects on the next call.
    public func disconnect() {
        let c = state.withLock { s -> BrokerConnection? in
            defer { s.current = nil }
            return s.current
        }
        c?.close()
    }

    /// Closes for good: the connection is closed and later calls fail with `.closed`.
    public func close() {
        let (c, attempt) = state.withLock { s -> (BrokerConnection?, Task<BrokerConnection, any Error>?) in
            s.closed = true
            defer { s.current = nil; s.attempt = nil }
            return (s.current, s.attempt)
        }
        attempt?.cancel()
        c?.close()
    }
}
