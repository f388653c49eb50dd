/// Exponential backoff with jitter (`reconnect.backoff.ms` / `reconnect.backoff.max.ms`,
/// `retry.backoff.ms` / `retry.backoff.max.ms`).
///
/// Like the Java client: the n-th consecutive failure waits base × 2ⁿ, capped at `max`, then
/// scaled by a random factor in 1 ± `jitter` so that many clients do not retry in lockstep.
/// Pure: the random source is passed in.
public struct Backoff: Sendable, Equatable {
    public var base: Duration
    public var max: Duration
    public var jitter: Double

    public init(base: Duration, max: Duration, jitter: Double = 0.2) {
        self.base = base
        self.max = max
        self.jitter = jitter
    }

    /// Delay before attempt number `failures + 1` after `failures` consecutive failures
    /// (`failures` ≥ 1). `unit` is a random number in [0, 1).
    public func delay(afterFailures failures: Int, unit: Double) -> Duration {
        guard failures > 0 else { return .zero }
        let baseMs = base.doubleMilliseconds
        let maxMs = max.doubleMilliseconds
        let exp = baseMs * pow2(Swift.min(failures - 1, 32))
        let capped = Swift.min(exp, Swift.max(maxMs, baseMs))
        let factor = 1 - jitter + 2 * jitter * Swift.min(Swift.max(unit, 0), 1)
        return .microseconds(Int64((capped * factor * 1000).rounded()))
    }

    /// Delay using the system random number generator.
    public func delay(afterFailures failures: Int) -> Duration {
        delay(afterFailures: failures, unit: Double.random(in: 0 ..< 1))
    }

    private func pow2(_ n: Int) -> Double { Double(UInt64(1) << UInt64(n)) }
}
