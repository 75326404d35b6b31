// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Synchronization

/// The descriptions of the jobs this node's intake just queued, handed to the runner without a round trip through
/// JSON: decoding a stored description was the runner's largest single cost per job in a burst (issue 14).
///
/// Each is taken once, by the first work on its job, and only when the stored bytes are still the ones it was
/// encoded to (a description changed since is decoded from the store). At most `capacity` wait: beyond that the
/// intake stops adding (the runner takes the oldest first, and a burst's later jobs decode as before), so memory
/// stays bounded however long the queue. A job that never runs here (cancelled while queued, taken by another node)
/// would keep its place for good: when full, those kept longer than `maxAge` are let go first.
final class PlannedSpecs: Sendable {
    private let entries = Mutex<[UUID: (json: Data, spec: JobSpec, added: Date)]>([:])
    let capacity: Int
    let maxAge: TimeInterval
    private let clock: @Sendable () -> Date

    init(capacity: Int = 2_048, maxAge: TimeInterval = 600, clock: @escaping @Sendable () -> Date = { Date() }) {
        (self.capacity, self.maxAge, self.clock) = (capacity, maxAge, clock)
    }

    /// Keeps `spec` (stored as `json`) for `id`'s first work; nothing when full of descriptions younger than `maxAge`.
    func add(_ id: UUID, json: Data, spec: JobSpec) {
        let now = clock()
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { now.timeIntervalSince($0.value.added) < maxAge }
                guard entries.count < capacity else { return }
            }
            entries[id] = (json, spec, now)
        }
    }

    /// The description of `job` as planned, when kept and still what the store holds; removed either way.
    func take(_ job: StoredJob) -> JobSpec? {
        guard let kept = entries.withLock({ $0.removeValue(forKey: job.id) }), kept.json == job.specJSON,
            job.specVersion == NewJob.currentSpecVersion
        else { return nil }
        return kept.spec
    }

    /// How many wait (tests).
    var count: Int { entries.withLock { $0.count } }
}
