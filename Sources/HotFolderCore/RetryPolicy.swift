// SPDX-License-Identifier: GPL-2.0-or-later

/// How often and how long to wait before retrying a transient failure (timeouts, 408/429/5xx).
///
/// Delays grow exponentially with "full jitter" (a uniformly random wait between zero and the exponential
/// ceiling, so many jobs that failed together do not retry together), are capped at ``maxDelay``, and never
/// fall below a server's `Retry-After`. The random source is injected so tests are exact.
public struct RetryPolicy: Sendable, Hashable {
    /// How many attempts in total (the first try included) before the job fails as transient.
    public var maxAttempts: Int
    /// The ceiling of the first retry's delay; it doubles with each further attempt.
    public var base: Duration
    /// The largest ceiling, whatever the attempt number.
    public var maxDelay: Duration

    /// Creates a policy; `maxAttempts` below 1 is treated as 1 and a `maxDelay` below `base` as `base`.
    public init(maxAttempts: Int = 5, base: Duration = .seconds(2), maxDelay: Duration = .seconds(300)) {
        self.maxAttempts = max(1, maxAttempts)
        self.base = max(.zero, base)
        self.maxDelay = max(self.base, maxDelay)
    }

    /// Whether another attempt is allowed after `attempts` attempts (1 after the first try) have failed.
    public func allowsRetry(afterAttempts attempts: Int) -> Bool {
        attempts < maxAttempts
    }

    /// The upper bound of the delay after `attempts` failed attempts: `base × 2^(attempts−1)`, at most ``maxDelay``.
    public func ceiling(afterAttempts attempts: Int) -> Duration {
        let exponent = max(0, attempts - 1)
        // Past 2^62 the doubling overflows; the cap has long been reached by then anyway.
        if exponent >= 62 { return maxDelay }
        let seconds = base.secondsValue * Double(Int64(1) << exponent)
        return min(maxDelay, .seconds(min(seconds, maxDelay.secondsValue)))
    }

    /// The delay before the next attempt, or nil when `attempts` failed attempts exhaust the policy.
    ///
    /// - Parameters:
    ///   - attempts: failed attempts so far, at least 1.
    ///   - retryAfter: the server's `Retry-After`, if any: the delay is never shorter (even above ``maxDelay``,
    ///     since the server knows best when it will accept the call).
    ///   - random: returns a number in `0...1`; values outside are clamped.
    public func delay(
        afterAttempts attempts: Int, retryAfter: Duration? = nil, random: () -> Double
    ) -> Duration? {
        guard allowsRetry(afterAttempts: attempts) else { return nil }
        let fraction = min(1, max(0, random()))
        let jittered = Duration.seconds(ceiling(afterAttempts: attempts).secondsValue * fraction)
        guard let floor = retryAfter else { return jittered }
        return max(jittered, floor)
    }

    /// The delay before the next attempt using a random number generator, or nil when the policy is exhausted.
    public func delay<Generator: RandomNumberGenerator>(
        afterAttempts attempts: Int, retryAfter: Duration? = nil, using generator: inout Generator
    ) -> Duration? {
        // The top 53 bits as a fraction in 0..<1: one draw, no rejection loop (a degenerate generator cannot hang it).
        let fraction = Double(generator.next() >> 11) / Double(UInt64(1) << 53)
        return delay(afterAttempts: attempts, retryAfter: retryAfter) { fraction }
    }

    /// The delay before the next attempt with the system's random numbers, or nil when the policy is exhausted.
    public func delay(afterAttempts attempts: Int, retryAfter: Duration? = nil) -> Duration? {
        var generator = SystemRandomNumberGenerator()
        return delay(afterAttempts: attempts, retryAfter: retryAfter, using: &generator)
    }
}

extension Duration {
    /// This duration in seconds as a floating-point number.
    var secondsValue: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
