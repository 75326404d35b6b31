// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// When to ask for a task's status next: soon at first, then less often, guided by the provider's estimate.
public enum PollSchedule {
    /// Seconds until the next status call, between `minimum` and `maximum`, times `jitter`.
    ///
    /// - Parameters:
    ///   - pollCount: status calls made so far, this one included.
    ///   - progress: percent done, when the provider says.
    ///   - estimatedTime: the provider's estimate of the whole run, in seconds.
    ///   - elapsed: seconds since the task was created.
    public static func nextDelay(
        pollCount: Int, progress: Int?, estimatedTime: Double?, elapsed: Double, minimum: Double, maximum: Double,
        jitter: Double = Double.random(in: 0.9...1.1)
    ) -> Double {
        let maximum = max(minimum, maximum)
        var delay = minimum * pow(1.5, Double(max(0, pollCount - 1)))
        if let estimatedTime, estimatedTime > 0 {
            // Aim at the expected end: the remaining time, or half of it when far away.
            var remaining = estimatedTime - elapsed
            if let progress, progress > 0, progress < 100 {
                remaining = min(remaining, elapsed * Double(100 - progress) / Double(progress))
            }
            delay = remaining > 2 * minimum ? remaining / 2 : max(minimum, remaining)
        }
        return min(maximum, max(minimum, delay)) * jitter
    }
}
