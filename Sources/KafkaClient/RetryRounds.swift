import KafkaProtocol
import KafkaNet

/// The pause between rounds of a per-item retry loop (some groups or partitions are done,
/// others need another try), all within `default.api.timeout.ms` of the start.
struct RetryRounds {
    private let deadline: ContinuousClock.Instant
    private let policy: Backoff
    private var failures = 0

    /// `budget`: how long the rounds may take (default `default.api.timeout.ms`).
    init(config: ClientConfig, budget: Duration? = nil) {
        deadline = .now + (budget ?? config.defaultApiTimeout)
        policy = config.retryBackoffPolicy
    }

    /// When the rounds must be over.
    var end: ContinuousClock.Instant { deadline }

    /// Runs one attempt, cut off at the deadline: an attempt can wait far longer than the
    /// budget left (a connection's reconnect backoff, `socket.connection.setup.timeout.ms`,
    /// `request.timeout.ms`), and a call given `default.api.timeout.ms` must end by then. At
    /// the deadline the attempt is cancelled and this throws a retriable `.timeout` (the caller
    /// then ends its rounds with `timedOut`).
    func attempt<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let deadline = self.deadline
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                // Cancelled when the attempt ends first; a cancelled sleep returns nil.
                try? await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw Self.cancelled }
            if let value = first { return value }
            try Self.checkCancellation()
            // The deadline came first: stop the attempt and say what it was stuck on, if it
            // ends with something better than its cancellation (e.g. "cannot connect to …").
            group.cancelAll()
            var stuckOn: KafkaError?
            do {
                if let late = try await group.next(), let value = late { return value }
            } catch let e as KafkaError where e.kind != .cancelled {
                stuckOn = e
            } catch {}
            guard let stuckOn else { throw KafkaError(.timeout, "the attempt did not finish before default.api.timeout.ms ran out") }
            throw KafkaError(.timeout, "the attempt did not finish before default.api.timeout.ms ran out: \(stuckOn)", context: stuckOn.context, underlying: stuckOn)
        }
    }

    /// Sleeps the backoff and returns true, or returns false at once when the next round would
    /// start past the deadline.
    ///
    /// Throws `KafkaError(.cancelled)` when the task is cancelled (before or during the pause),
    /// so every retry loop built on it stops promptly on cancellation.
    mutating func next() async throws -> Bool {
        try Self.checkCancellation()
        failures += 1
        let delay = policy.delay(afterFailures: failures)
        guard ContinuousClock.now + delay < deadline else { return false }
        do {
            try await Task.sleep(for: delay)
        } catch {
            throw Self.cancelled
        }
        return true
    }

    /// The error a cancelled admin call (or other public wait) throws.
    static var cancelled: KafkaError { KafkaError(.cancelled, "cancelled") }

    /// Throws `cancelled` when the current task is cancelled.
    static func checkCancellation() throws(KafkaError) {
        if Task.isCancelled { throw cancelled }
    }

    /// The error for an item still failing when the time ran out, wrapping its last error.
    static func timedOut(_ what: String, last: KafkaError?) -> KafkaError {
        guard let last else { return KafkaError(.timeout, "\(what) did not succeed within default.api.timeout.ms") }
        return KafkaError(.timeout, "\(what) did not succeed within default.api.timeout.ms; last error: \(last)", context: last.context, underlying: last)
    }
}
