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
