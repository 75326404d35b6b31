// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// Which jobs hold which inbox files (by identity): a held file never starts another job.
///
/// Kept compact because an inbox of kept inputs (`archive_policy: keep`) holds one entry per file, 100,000 and
/// more: almost every input belongs to one job, so that job is stored inline, and only an input shared by several
/// jobs (a manifest and its rows, an image shared by variants) pays for a set. Releasing one job never releases
/// an input another job still holds.
public struct InputHolders: Sendable {
    private enum Holders: Sendable {
        case one(UUID)
        case many(Set<UUID>)
    }

    private var byInput: [FileIdentity: Holders] = [:]

    /// Creates an empty map.
    public init() {}

    /// Number of inputs held by at least one job.
    public var count: Int { byInput.count }

    /// Whether some job holds the file with this identity.
    public func isHeld(_ identity: FileIdentity) -> Bool {
        byInput[identity] != nil
    }

    /// The jobs holding the file with this identity (empty when none does).
    public func jobs(holding identity: FileIdentity) -> Set<UUID> {
        switch byInput[identity] {
        case nil: []
        case .one(let job): [job]
        case .many(let jobs): jobs
        }
    }

    /// Notes that `jobID` holds the file with this identity.
    public mutating func insert(_ jobID: UUID, holding identity: FileIdentity) {
        switch byInput[identity] {
        case nil: byInput[identity] = .one(jobID)
        case .one(let job) where job == jobID: break
        case .one(let job): byInput[identity] = .many([job, jobID])
        case .many(var jobs):
            byInput[identity] = nil  // the set is uniquely referenced while it grows
            jobs.insert(jobID)
            byInput[identity] = .many(jobs)
        }
    }

    /// Notes that `jobID` gave its inputs back; inputs other jobs also hold stay held.
    public mutating func release(jobID: UUID) {
        var changes: [(FileIdentity, Holders?)] = []
        for (identity, holders) in byInput {
            switch holders {
            case .one(let job) where job == jobID:
                changes.append((identity, nil))
            case .many(let jobs) where jobs.contains(jobID):
                var rest = jobs
                rest.remove(jobID)
                changes.append((identity, rest.count == 1 ? .one(rest.first!) : .many(rest)))
            default:
                continue
            }
        }
        for (identity, holders) in changes { byInput[identity] = holders }
    }

    /// Forgets the file with this identity whoever holds it (the database says no job does).
    public mutating func remove(_ identity: FileIdentity) {
        byInput[identity] = nil
    }
}
