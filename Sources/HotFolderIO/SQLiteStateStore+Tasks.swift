// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore

extension SQLiteStateStore {
    /// Records the task a create call returned and moves the job to `submitted`, in one transaction: call it as
    /// soon as the call returns, so a crash right after still knows the task to poll.
    ///
    /// - Parameters:
    ///   - from: the job's expected state: `submitting`, or `uncertain` when a lost task is found after all.
    ///   - nextPollAt: when to ask for the status first.
    /// - Throws: ``StateStoreError/unexpectedState(job:expected:actual:requested:)`` as ``transition(_:from:to:message:update:task:)``;
    ///   ``StateStoreError/duplicateTask(provider:taskID:)`` when the task id is already recorded.
    @discardableResult
    public func recordTask(
        _ jobID: UUID, provider: String, taskID: String, status: String, nextPollAt: Date?,
        from: JobState = .submitting, message: String? = nil
    ) throws -> StoredTask {
        guard from.canTransition(to: .submitted) else {
            throw StateStoreError.illegalTransition(job: jobID, from: from, to: .submitted)
        }
        let now = clock()
        return try write("record a task") { db in
            try self.insertTask(db, jobID, provider: provider, taskID: taskID, status: status, nextPollAt: nextPollAt, from: from, message: message, now: now)
        }
    }

    /// ``recordTask(_:provider:taskID:status:nextPollAt:from:message:)`` on the database's own writer queue.
    @discardableResult
    public func recordTask(
        _ jobID: UUID, provider: String, taskID: String, status: String, nextPollAt: Date?,
        from: JobState = .submitting, message: String? = nil
    ) async throws -> StoredTask {
        guard from.canTransition(to: .submitted) else {
            throw StateStoreError.illegalTransition(job: jobID, from: from, to: .submitted)
        }
        let now = clock()
        return try await writeAsync("record a task") { db in
            try self.insertTask(db, jobID, provider: provider, taskID: taskID, status: status, nextPollAt: nextPollAt, from: from, message: message, now: now)
        }
    }

    func insertTask(
        _ db: Database, _ jobID: UUID, provider: String, taskID: String, status: String, nextPollAt: Date?,
        from: JobState, message: String?, now: Date
    ) throws -> StoredTask {
        let id = jobID.lowercasedString
        guard var job = try Self.fetchJob(db, jobID) else { throw StateStoreError.jobNotFound(jobID) }
        guard job.state == from else {
            throw StateStoreError.unexpectedState(job: jobID, expected: from, actual: job.state, requested: .submitted)
        }
        try db.cachedStatement(sql: "UPDATE task SET active = 0 WHERE jobId = ? AND active = 1").execute(arguments: [id])
        do {
            try db.cachedStatement(
                sql: """
                    INSERT INTO task (jobId, provider, taskId, status, submittedAt, updatedAt, pollCount, nextPollAt, active)
                    VALUES (?, ?, ?, ?, ?, ?, 0, ?, 1)
                    """
            ).execute(arguments: [
                id, provider, taskID, status, now.timeIntervalSince1970, now.timeIntervalSince1970,
                Self.seconds(nextPollAt),
            ])
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw StateStoreError.duplicateTask(provider: provider, taskID: taskID)
        }
        let original = job
        job.state = .submitted
        job.updatedAt = now
        try Self.saveJob(db, job, original: original)
        try appendEvent(
            db, jobID: id, at: now, kind: .task, from: from, to: .submitted,
            message: message ?? "\(provider) task \(taskID) created")
        return StoredTask(
            jobID: jobID, provider: provider, taskID: taskID, status: status, progress: nil, videoURL: nil,
            expiresAt: nil, estimatedTime: nil, errorMessage: nil, resultJSON: nil, submittedAt: now,
            updatedAt: now, pollCount: 0, nextPollAt: nextPollAt, isActive: true)
    }

    /// Changes the job's active task (status, progress, URL, next poll, …) in one transaction.
    ///
    /// Changes to the job id, provider, task id, submission time and activity are ignored. No event is written:
    /// polls are frequent; state changes go through ``transition(_:from:to:message:update:task:)``.
    @discardableResult
    public func updateTask(forJob jobID: UUID, update: (inout StoredTask) -> Void) throws -> StoredTask {
        let now = clock()
        return try write("update a task") { db in
            try updateActiveTask(db, jobID: jobID, now: now, update)
        }
    }

    /// ``updateTask(forJob:update:)`` on the database's own writer queue.
    @discardableResult
    public func updateTask(forJob jobID: UUID, update: @escaping @Sendable (inout StoredTask) -> Void) async throws -> StoredTask {
        let now = clock()
        return try await writeAsync("update a task") { db in
            try self.updateActiveTask(db, jobID: jobID, now: now, update)
        }
    }

    /// The job's active task, or nil.
    public func task(forJob jobID: UUID) throws -> StoredTask? {
        try read("read a task") { db in try Self.fetchActiveTask(db, jobID) }
    }

    /// Every task the job ever had, oldest first (more than one after an uncertain resubmission).
    public func tasks(forJob jobID: UUID) throws -> [StoredTask] {
        try read("read tasks") { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.taskColumns) FROM task WHERE jobId = ? ORDER BY id",
                arguments: [jobID.lowercasedString]
            ).map { try Self.decodeTask($0) }
        }
    }

    /// Every active task whose job is `submitted`, `running` or `downloading`, soonest poll first: what a restart
    /// resumes.
    public func inFlightTasks() throws -> [InFlightTask] {
        try fetchInFlight(operation: "list tasks in flight", due: nil, limit: nil)
    }

    /// In-flight tasks whose next poll is due at `now` (or unset), soonest first, at most `limit`.
    public func tasksDue(now: Date? = nil, limit: Int = 1000) throws -> [InFlightTask] {
        try fetchInFlight(operation: "list tasks due", due: now ?? clock(), limit: limit)
    }

    func fetchInFlight(operation: String, due: Date?, limit: Int?) throws -> [InFlightTask] {
        let select = """
            SELECT \(Self.taskColumns), job.state, job.name, job.lane, job.outputPath
            FROM task JOIN job ON job.id = task.jobId
            WHERE task.active = 1 AND job.state IN ('submitted', 'running', 'downloading')
            """
        // The limit is bound, not written into the SQL: every distinct text would be another cached statement.
        let limit = limit ?? -1
        let decode = { (row: Row) throws -> InFlightTask in
            InFlightTask(
                task: try Self.decodeTask(row),
                jobState: try Self.state(row[15], table: "job", column: "state")!,
                name: row[16], lane: row[17], outputPath: row[18])
        }
        return try read(operation) { db in
            guard let due else {
                // SQLite sorts NULL first: tasks never polled come first.
                return try Row.fetchAll(
                    db.cachedStatement(sql: select + " ORDER BY task.nextPollAt, task.id LIMIT ?"), arguments: [limit]
                ).map(decode)
            }
            // Two index ranges (never polled, then due by now) rather than one `IS NULL OR <=` condition, which
            // SQLite can only answer by visiting every task in flight: the poller asks this on every wake.
            let never = try Row.fetchAll(
                db.cachedStatement(sql: select + " AND task.nextPollAt IS NULL ORDER BY task.id LIMIT ?"), arguments: [limit]
            ).map(decode)
            let rest = limit < 0 ? -1 : limit - never.count
            guard rest != 0 else { return never }
            let dueNow = try Row.fetchAll(
                db.cachedStatement(sql: select + " AND task.nextPollAt <= ? ORDER BY task.nextPollAt, task.id LIMIT ?"),
                arguments: [due.timeIntervalSince1970, rest]
            ).map(decode)
            return never + dueNow
        }
    }

    // MARK: - Helpers inside a transaction

    static func fetchActiveTask(_ db: Database, _ jobID: UUID) throws -> StoredTask? {
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(taskColumns) FROM task WHERE jobId = ? AND active = 1 ORDER BY id DESC LIMIT 1"),
            arguments: [jobID.lowercasedString])
        return try row.map { try decodeTask($0) }
    }

    @discardableResult
    func updateActiveTask(_ db: Database, jobID: UUID, now: Date, _ update: (inout StoredTask) -> Void) throws -> StoredTask {
        guard let original = try Self.fetchActiveTask(db, jobID) else {
            throw StateStoreError.noActiveTask(job: jobID)
        }
        var task = original
        update(&task)
        task.jobID = original.jobID
        task.provider = original.provider
        task.taskID = original.taskID
        task.submittedAt = original.submittedAt
        task.isActive = true
        task.updatedAt = now
        try db.cachedStatement(
            sql: """
                UPDATE task SET status = ?, progress = ?, videoURL = ?, expiresAt = ?, estimatedTime = ?,
                    errorMessage = ?, resultJSON = ?, updatedAt = ?, pollCount = ?, nextPollAt = ?
                WHERE provider = ? AND taskId = ?
                """
        ).execute(arguments: [
            task.status, task.progress, task.videoURL, Self.seconds(task.expiresAt), task.estimatedTime,
            task.errorMessage, task.resultJSON, now.timeIntervalSince1970, task.pollCount, Self.seconds(task.nextPollAt),
            task.provider, task.taskID,
        ])
        if let progress = task.progress, progress != original.progress {
            let live = LiveProgress(id: jobID.lowercasedString, progress: progress, status: task.status)
            publishAfterCommit(db) { $0.publish(name: "job.progress") { live.json } }
        }
        return task
    }
}
