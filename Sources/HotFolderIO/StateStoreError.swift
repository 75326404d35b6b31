// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

/// Why a state store operation failed; each case reads as one sentence.
public enum StateStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The database could not be opened or migrated.
    case openFailed(path: String, reason: String)
    /// No job has this id.
    case jobNotFound(UUID)
    /// A job with this id exists already.
    case duplicateJob(UUID)
    /// Compare-and-set failed: the job is not in the state the caller expected (someone else moved it).
    case unexpectedState(job: UUID, expected: JobState, actual: JobState, requested: JobState)
    /// The state machine does not allow this move.
    case illegalTransition(job: UUID, from: JobState, to: JobState)
    /// The job has no active remote task.
    case noActiveTask(job: UUID)
    /// This provider task id is already recorded (for this or another job).
    case duplicateTask(provider: String, taskID: String)
    /// A stored value could not be read back.
    case corruptRow(table: String, column: String, value: String)
    /// The database reported an error.
    case database(operation: String, path: String, reason: String)
    /// A budget cap refused the reservation the commit asked for: nothing was written; the job must be held.
    case budgetHold(BudgetHold)
    /// A job list's `cursor` is not one this store handed out.
    case badCursor(String)
    /// These files were registered as a drop already (by another node, or an earlier pass): no job was made.
    case duplicateDrop(key: String)
    /// The writer's lease on the job was taken over (or released): it must drop the job's work. Nothing was written.
    case leaseLost(job: UUID, owner: String, generation: Int64)
    /// The database could not be reached, or did not answer in time. A write's outcome is unknown: it may still
    /// commit after the call gave up, so the caller treats the job as not known (reads it again once the database
    /// answers; its lease fences a write that lands late). `reason` never holds a password.
    case unavailable(operation: String, reason: String)

    /// The error as one sentence.
    public var description: String {
        switch self {
        case .openFailed(let path, let reason):
            "Could not open the state database \(path): \(reason)."
        case .jobNotFound(let id):
            "No job \(id.lowercasedString) in the state database."
        case .duplicateJob(let id):
            "Job \(id.lowercasedString) is already in the state database."
        case .unexpectedState(let job, let expected, let actual, let requested):
            "Job \(job.lowercasedString) is \(actual), not \(expected), so it was not moved to \(requested)."
        case .illegalTransition(let job, let from, let to):
            "Job \(job.lowercasedString) cannot move from \(from) to \(to)."
        case .noActiveTask(let job):
            "Job \(job.lowercasedString) has no active remote task."
        case .duplicateTask(let provider, let taskID):
            "The \(provider) task \(taskID) is already recorded."
        case .corruptRow(let table, let column, let value):
            "The state database holds an unreadable \(table).\(column) value '\(value)'."
        case .database(let operation, let path, let reason):
            "The state database \(path) failed to \(operation): \(reason)."
        case .budgetHold(let hold):
            "Held: \(hold.reason)."
        case .badCursor:
            "The cursor is not one a job list returned; start again without one."
        case .duplicateDrop(let key):
            "These files were registered as a drop already (key \(key.prefix(12))), so no second job was made."
        case .leaseLost(let job, let owner, let generation):
            "Job \(job.lowercasedString) is no longer leased to \(owner) (generation \(generation)): another node took it over."
        case .unavailable(let operation, let reason):
            "The state database is unavailable, so it could not \(operation): \(reason)."
        }
    }
}

extension UUID {
    /// The UUID in lowercase, as the store keeps and the CLI shows it.
    public var lowercasedString: String { uuidString.lowercased() }
}

extension StateStoreError {
    /// Whether trying the same call again later can succeed: the database away (``unavailable(operation:reason:)``),
    /// or SQLite locked by another process past its busy timeout.
    public var isTransient: Bool {
        switch self {
        case .unavailable: true
        // SQLite locked by another process; PostgreSQL's deadlock and serialization failures (try again, says the server).
        case .database(_, _, let reason):
            reason.contains("database is locked") || reason.contains("SQLITE_BUSY") || reason.contains("40P01") || reason.contains("40001")
        default: false
        }
    }

    /// What made a transient error, for a log line.
    public var transientReason: String {
        switch self {
        case .unavailable(_, let reason), .database(_, _, let reason): reason
        default: "\(self)"
        }
    }
}
