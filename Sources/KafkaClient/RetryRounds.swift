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
    mutating func next() async throws -> Bool {
        failures += 1
        let delay = policy.delay(afterFailures: failures)
        guard ContinuousClock.now + delay < deadline else { return false }
        try await Task.sleep(for: delay)
        return true
    }

    /// The error for an item still failing when the time ran out, wrapping its last error.
    static func timedOut(_ what: String, last: KafkaError?) -> KafkaError {
        guard let last else { return KafkaError(.timeout, "\(what) did not succeed within default.api.timeout.ms") }
        return KafkaError(.timeout, "\(what) did not succeed within default.api.timeout.ms; last error: \(last)", context: last.context, underlying: last)
    }
}
