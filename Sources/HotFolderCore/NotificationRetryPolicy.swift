// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// When a failed notification delivery is tried again, and when it is given up (at least once, for a day).
///
/// The delay doubles from ``firstDelay`` up to ``maxDelay``; a delivery still failing ``giveUpAfter`` after its
/// event happened is abandoned (the row stays, marked, for `status`). The last attempt is made at that
/// deadline, so a receiver back just before it still gets the event. Pure: the caller passes the time.
public struct NotificationRetryPolicy: Sendable, Hashable {
    /// The wait after the first failure.
    public var firstDelay: Double
    /// The longest wait between two attempts.
    public var maxDelay: Double
    /// How long after the event deliveries are tried.
    public var giveUpAfter: Double

    /// Creates a policy; the defaults are 5 s doubling to 10 min, for 24 h.
    public init(firstDelay: Double = 5, maxDelay: Double = 600, giveUpAfter: Double = 24 * 3600) {
        self.firstDelay = max(0.001, firstDelay)
        self.maxDelay = max(self.firstDelay, maxDelay)
        self.giveUpAfter = giveUpAfter
    }

    /// What to do after a failed attempt.
    public enum Decision: Sendable, Hashable {
        /// Try again at this time.
        case retry(at: Date)
        /// Stop: the event is older than ``NotificationRetryPolicy/giveUpAfter``.
        case abandon
    }

    /// The wait after `attempts` failed attempts (1 for the first failure).
    public func delay(afterAttempts attempts: Int) -> Double {
        let exponent = Double(min(max(attempts, 1) - 1, 60))
        return min(maxDelay, firstDelay * pow(2, exponent))
    }

    /// What to do when attempt number `attempts` of a delivery for an event made at `createdAt` failed at `now`.
    public func afterFailure(attempts: Int, createdAt: Date, now: Date) -> Decision {
        let deadline = createdAt.addingTimeInterval(giveUpAfter)
        guard now < deadline else { return .abandon }
        return .retry(at: min(deadline, now.addingTimeInterval(delay(afterAttempts: attempts))))
    }
}
