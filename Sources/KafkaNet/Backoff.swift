/// Exponential backoff with jitter (`reconnect.backoff.ms` / `reconnect.backoff.max.ms`,
/// `retry.backoff.ms` / `retry.backoff.max.ms`).
///
/// Like the Java client: the n-th consecutive failure waits base × 2ⁿ, capped at `max`, then
/// scaled by a random factor in 1 ± `jitter` so that many clients do not retry in lockstep.
/// Pure: the random source is passed in.
public struct Backoff: Sendable, Equatable {
    /// The delay after the first failure (`*.backoff.ms`).
    public var base: Duration
    /// The cap the doubling delay stops at (`*.backoff.max.ms`).
    public var max: Duration
    /// How far a delay may randomly stray from the doubled value, as a fraction (0.2: ±20 %).
    public var jitter: Double

    /// A backoff policy.
    /// - Parameters:
    ///   - base: The delay after the first failure.
    ///   - max: The largest delay before jitter; below `base` it counts as `base`.
    ///   - jitter: The random spread as a fraction of the delay (the Java client's 0.2).
    public init(base: Duration, max: Duration, jitter: Double = 0.2) {
        self.base = base
        self.max = max
        self.jitter = jitter
    }

    /// Delay before attempt number `failures + 1` after `failures` consecutive failures.
    /// - Parameters:
    ///   - failures: Consecutive failures so far; 0 or less gives no delay.
    ///   - unit: A random number in [0, 1) that picks the point within the jitter (clamped).
    /// - Returns: base × 2^(failures − 1), capped at `max`, scaled by 1 ± `jitter`.
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
    /// - Parameter failures: Consecutive failures so far; 0 or less gives no delay.
    /// - Returns: The delay before the next attempt (see `delay(afterFailures:unit:)`).
    public func delay(afterFailures failures: Int) -> Duration {
        delay(afterFailures: failures, unit: Double.random(in: 0 ..< 1))
    }

    private func pow2(_ n: Int) -> Double { Double(UInt64(1) << UInt64(n)) }
}
