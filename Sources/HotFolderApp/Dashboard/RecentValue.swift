// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Synchronization

/// A value read at most once per `lifetime` (the overview's hourly chart: reading 24 h of finished jobs on every
/// live refresh would cost more than the rest of the page, and an hourly bar a few seconds old looks the same).
final class RecentValue<Value: Sendable>: Sendable {
    private let lifetime: Duration
    private let stored = Mutex<(value: Value, at: ContinuousClock.Instant)?>(nil)

    init(lifetime: Duration) {
        self.lifetime = lifetime
    }

    /// The kept value while it is fresh, else `read()`'s (kept for next time).
    func get(_ read: () async throws -> Value) async rethrows -> Value {
        let now = ContinuousClock.now
        if let kept = stored.withLock({ $0 }), now - kept.at < lifetime { return kept.value }
        let value = try await read()
        stored.withLock { $0 = (value, now) }
        return value
    }
}
