// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore

extension SQLiteStateStore {
    /// Writes one ``JobLifecycle/Commit`` in one transaction: the state (compare-and-set), counters, backoff,
    /// failure, inputs still to move, and the active task's next poll, link and last status.
    ///
    /// - Parameters:
    ///   - outputPath: the reserved output name, recorded with this step when not recorded yet.
    ///   - task: the facts of the status call just made, applied to the active task in the same transaction.
    ///   - budget: the job's estimated cost and the caps over it, for a commit that reserves spend.
    /// - Throws: ``StateStoreError/budgetHold(_:)`` when a cap refuses the reservation (nothing is written), ``StateStoreError/unexpectedState(job:expected:actual:requested:)`` when the job moved on,
    ///   ``StateStoreError/illegalTransition(job:from:to:)`` when ``JobState`` forbids the move.
    @discardableResult
    public func commit(
        _ id: UUID, _ commit: JobLifecycle.Commit, outputPath: String? = nil,
        task: (@Sendable (inout StoredTask) -> Void)? = nil, budget: BudgetRequest? = nil
    ) throws -> StoredJob {
        try Self.checkLegal(id, commit)
        let now = clock()
        return try write("move a job from \(commit.from) to \(commit.to)") { db in
            try self.apply(db, id, commit, outputPath: outputPath, task: task, budget: budget, now: now)
        }
    }

    /// ``commit(_:_:outputPath:task:)`` on the database's own writer queue: the caller's thread never waits
    /// for the lock (another process may hold it for up to the busy timeout).
    @discardableResult
    public func commit(
        _ id: UUID, _ commit: JobLifecycle.Commit, outputPath: String? = nil,
        task: (@Sendable (inout StoredTask) -> Void)? = nil, budget: BudgetRequest? = nil
    ) async throws -> StoredJob {
        try Self.checkLegal(id, commit)
        let now = clock()
        return try await writeAsync("move a job from \(commit.from) to \(commit.to)") { db in
            try self.apply(db, id, commit, outputPath: outputPath, task: task, budget: budget, now: now)
        }
    }

    static func checkLegal(_ id: UUID, _ commit: JobLifecycle.Commit) throws {
        if commit.from != commit.to, !commit.from.canTransition(to: commit.to) {
            throw StateStoreError.illegalTransition(job: id, from: commit.from, to: commit.to)
        }
    }

    func apply(
        _ db: Database, _ id: UUID, _ commit: JobLifecycle.Commit, outputPath: String?,
        task: (@Sendable (inout StoredTask) -> Void)?, budget: BudgetRequest?, now: Date
    ) throws -> StoredJob {
        guard var job = try Self.fetchJob(db, id) else { throw StateStoreError.jobNotFound(id) }
        guard job.state == commit.from else {
            throw StateStoreError.unexpectedState(job: id, expected: commit.from, actual: job.state, requested: commit.to)
        }
        // First, so that a cap refusing the reservation leaves nothing written.
        if let spend = commit.spend {
            try applySpend(db, jobID: id.lowercasedString, lane: job.lane, spend, budget: budget, now: now)
        }
        let original = job
        job.apply(commit, outputPath: outputPath, now: now)
        try Self.saveJob(db, job, original: original)
        let touchesTask = task != nil || commit.nextPoll != nil || commit.video != nil || commit.forgetVideoURL
        if touchesTask, try Self.fetchActiveTask(db, id) != nil {
            try updateActiveTask(db, jobID: id, now: now) { stored in
                task?(&stored)
                if let nextPoll = commit.nextPoll { stored.nextPollAt = nextPoll }
                if let video = commit.video {
                    stored.status = "succeeded"
                    stored.progress = 100
                    stored.videoURL = video.url
                    stored.expiresAt = video.expiresAt
                }
                if commit.forgetVideoURL { stored.videoURL = nil }
            }
        }
        if commit.from.isInFlight && !commit.to.isInFlight {
            try db.cachedStatement(sql: "UPDATE task SET active = 0 WHERE jobId = ? AND active = 1")
                .execute(arguments: [id.lowercasedString])
        }
        if commit.from != commit.to {
            try appendEvent(
                db, jobID: id.lowercasedString, at: now, kind: .transition, from: commit.from, to: commit.to,
                message: commit.message)
            // job.done/failed/uncertain/held for the targets that want it; `cost:` nil means the estimate.
            try enqueueJobNotification(db, job, to: commit.to, cost: nil, now: now)
            publishJobChange(db, job)
        } else if !commit.message.isEmpty {
            try appendEvent(db, jobID: id.lowercasedString, at: now, kind: .update, from: nil, to: nil, message: commit.message)
        }
        return job
    }

    /// Records that a job's inputs were moved away: clears the pending disposal, keeps the folder they went to and
    /// where each moved input went (`movedInputs`: input path as stored → absolute new path), and gives the inputs
    /// back (`release`) so the same files dropped again make a new job. One transaction.
    public func finishDisposal(_ id: UUID, folder: String?, release: Bool, movedInputs: [String: String] = [:]) throws {
        let now = clock()
        try write("record where a job's inputs went") { db in
            try disposalRows(db, id, folder: folder, release: release, movedInputs: movedInputs, now: now)
        }
    }

    /// ``finishDisposal(_:folder:release:movedInputs:)`` inside the caller's transaction.
    func disposalRows(_ db: Database, _ id: UUID, folder: String?, release: Bool, movedInputs: [String: String], now: Date) throws {
        guard var job = try Self.fetchJob(db, id) else { throw StateStoreError.jobNotFound(id) }
        let original = job
        job.pendingDisposal = nil
        if let folder { job.outputPath = folder }
        job.updatedAt = now
        try Self.saveJob(db, job, original: original)
        if release {
            try db.cachedStatement(sql: "UPDATE inputFile SET device = -1, inode = -1 WHERE jobId = ?")
                .execute(arguments: [id.lowercasedString])
            // The same files dropped again (a retry moves them back) are a new drop once every job of this one let go.
            try Self.forgetReleasedDrop(db, id)
        }
        for (path, destination) in movedInputs.sorted(by: { $0.key < $1.key }) {
            try db.cachedStatement(sql: "UPDATE inputFile SET movedTo = ? WHERE jobId = ? AND path = ?")
                .execute(arguments: [destination, id.lowercasedString, path])
        }
        if let folder {
            try appendEvent(db, jobID: id.lowercasedString, at: now, kind: .update, from: nil, to: nil, message: "inputs moved to \(folder)")
        }
    }

    /// Jobs whose inputs were still to be moved when the service stopped.
    public func jobsWithPendingDisposal() throws -> [StoredJob] {
        try read("list jobs with inputs to move") { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT \(Self.jobColumns) FROM job WHERE pendingDisposal IS NOT NULL AND lease_owner IS NULL ORDER BY rowid")
            ).map(Self.decodeJob)
        }
    }

    /// Jobs in `state` whose `nextAttemptAt` has come (uncertain jobs due for a search, holds that end), at most `limit`.
    public func jobsDue(in state: JobState, now: Date, limit: Int = 100) throws -> [StoredJob] {
        try read("list jobs due") { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(Self.jobColumns) FROM job INDEXED BY job_state_due
                        WHERE state = ? AND nextAttemptAt IS NOT NULL AND nextAttemptAt <= ?
                        ORDER BY nextAttemptAt LIMIT ?
                        """),
                arguments: [state.rawValue, now.timeIntervalSince1970, limit]
            ).map(Self.decodeJob)
        }
    }

    /// The earliest `nextAttemptAt` of a job in `state`, or nil.
    public func nextDue(in state: JobState) throws -> Date? {
        try read("read the next due time") { db in
            try Double.fetchOne(
                db.cachedStatement(sql: "SELECT MIN(nextAttemptAt) FROM job INDEXED BY job_state_due WHERE state = ? AND nextAttemptAt IS NOT NULL"),
                arguments: [state.rawValue]
            ).map(Self.date)
        }
    }

    /// Whether any job has recorded this output path (a reserved outbox name).
    public func isOutputPathRecorded(_ stem: String) throws -> Bool {
        try read("look up an output name") { db in
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM job WHERE outputPath = ?)"), arguments: [stem]) ?? false
        }
    }

    /// Whether any job has this task on record (a task found by a search must not be some other job's).
    public func isTaskRecorded(provider: String, taskID: String) throws -> Bool {
        try read("look up a task") { db in
            try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM task WHERE provider = ? AND taskId = ?)"),
                arguments: [provider, taskID]) ?? false
        }
    }

    /// When the job's latest create call started (its last move to `submitting`), or nil.
    public func lastSubmittingTime(_ id: UUID) throws -> Date? {
        try read("read the create call's time") { db in
            try Double.fetchOne(
                db.cachedStatement(sql: "SELECT MAX(at) FROM event WHERE jobId = ? AND toState = 'submitting'"),
                arguments: [id.lowercasedString]
            ).map(Self.date)
        }
    }
}
