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
/// stays bounded however long the queue.
final class PlannedSpecs: Sendable {
    private let entries = Mutex<[UUID: (json: Data, spec: JobSpec)]>([:])
    let capacity: Int

    init(capacity: Int = 2_048) {
        self.capacity = capacity
    }

    /// Keeps `spec` (stored as `json`) for `id`'s first work; nothing when full.
    func add(_ id: UUID, json: Data, spec: JobSpec) {
        entries.withLock { entries in
            guard entries.count < capacity else { return }
            entries[id] = (json, spec)
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
