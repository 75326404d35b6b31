// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import PostgresNIO

// The state machine's writes, with the semantics of SQLiteStateStore+Lifecycle.swift and +Tasks.swift: the job row is
// locked (`FOR UPDATE`) first, then the lease and the state are compared, then everything is written in the same
// transaction, with the job event for every notification target that wants it (PostgresStateStore+AfterCommit.swift).
// This node's live feed hears of the change once the transaction has committed.
extension PostgresStateStore {
    @discardableResult
    public func commit(
        _ id: UUID, _ commit: JobLifecycle.Commit, lease: JobLease?, outputPath: String?,
        task: (@Sendable (inout StoredTask) -> Void)?, budget: BudgetRequest?
    ) async throws -> StoredJob {
        try SQLiteStateStore.checkLegal(id, commit)
        let now = clock()
        let routing = notificationRouting.current
        let (job, after) = try await transaction("move a job from \(commit.from) to \(commit.to)") { connection in
            var job = try await self.lockFenced(connection, id, lease: lease)
            guard job.state == commit.from else {
                throw StateStoreError.unexpectedState(job: id, expected: commit.from, actual: job.state, requested: commit.to)
            }
            if let spend = commit.spend {
                // First, so that a cap refusing the reservation leaves nothing written.
                try await self.applySpend(connection, id, lane: job.lane, spend, budget: budget, now: now)
            }
            job.apply(commit, outputPath: outputPath, now: now)
            try await self.saveJob(connection, job, expectedState: commit.from)
            let touchesTask = task != nil || commit.nextPoll != nil || commit.video != nil || commit.forgetVideoURL
            if touchesTask, var stored = try await self.activeTask(connection, id, lock: true) {
                task?(&stored)
                if let nextPoll = commit.nextPoll { stored.nextPollAt = nextPoll }
                if let video = commit.video {
                    stored.status = "succeeded"
                    stored.progress = 100
                    stored.videoURL = video.url
                    stored.expiresAt = video.expiresAt
                }
                if commit.forgetVideoURL { stored.videoURL = nil }
                try await self.saveTask(connection, stored, now: now)
            }
            if commit.from.isInFlight && !commit.to.isInFlight {
                try await connection.query("UPDATE task SET active = false WHERE job_id = \(id) AND active", logger: self.logger)
            }
            // Back in the queue and due now: wake idle nodes (a retry with a backoff waits for their poll instead).
            if commit.to == .ready, commit.notBefore.map({ $0 <= now }) ?? true { try await self.announceWork(connection) }
            if commit.from != commit.to {
                try await self.appendEvent(
                    connection, jobID: id, at: now, kind: .transition, from: commit.from, to: commit.to,
                    message: commit.message)
            } else if !commit.message.isEmpty {
                try await self.appendEvent(connection, jobID: id, at: now, kind: .update, from: nil, to: nil, message: commit.message)
            }
            var after = AfterCommit()
            if commit.from != commit.to {
                // job.done/failed/uncertain/held for the targets that want it, as SQLite's commit writes them.
                try await self.enqueueJobNotification(connection, job, to: commit.to, now: now, routing: routing, into: &after)
            }
            return (job, after)
        }
        announce(after, routing)
        return job
    }

    @discardableResult
    public func recordTask(
        _ jobID: UUID, lease: JobLease?, provider: String, taskID: String, status: String, nextPollAt: Date?,
        from: JobState, message: String?
    ) async throws -> StoredTask {
        guard from.canTransition(to: .submitted) else {
            throw StateStoreError.illegalTransition(job: jobID, from: from, to: .submitted)
        }
        let now = clock()
        let seconds = now.timeIntervalSince1970
        return try await transaction("record a task") { connection in
            var job = try await self.lockFenced(connection, jobID, lease: lease)
            guard job.state == from else {
                throw StateStoreError.unexpectedState(job: jobID, expected: from, actual: job.state, requested: .submitted)
            }
            try await connection.query("UPDATE task SET active = false WHERE job_id = \(jobID) AND active", logger: self.logger)
            do {
                try await connection.query(
                    """
                    INSERT INTO task (job_id, provider, task_id, status, submitted_at, updated_at, poll_count, next_poll_at, active)
                    VALUES (\(jobID), \(provider), \(taskID), \(status), \(seconds), \(seconds), 0,
                        \(nextPollAt?.timeIntervalSince1970), true)
                    """, logger: self.logger)
            } catch where Self.sqlState(error) == "23505" {
                throw StateStoreError.duplicateTask(provider: provider, taskID: taskID)
            }
            job.state = .submitted
            job.updatedAt = now
            try await self.saveJob(connection, job, expectedState: from)
            try await self.appendEvent(
                connection, jobID: jobID, at: now, kind: .task, from: from, to: .submitted,
                message: message ?? "\(provider) task \(taskID) created")
            return StoredTask(
                jobID: jobID, provider: provider, taskID: taskID, status: status, progress: nil, videoURL: nil,
                expiresAt: nil, estimatedTime: nil, errorMessage: nil, resultJSON: nil, submittedAt: now,
                updatedAt: now, pollCount: 0, nextPollAt: nextPollAt, isActive: true)
        }
    }

    @discardableResult
    public func updateTask(
        forJob jobID: UUID, lease: JobLease?, update: @escaping @Sendable (inout StoredTask) -> Void
    ) async throws -> StoredTask {
        let now = clock()
        return try await transaction("update a task") { connection in
            _ = try await self.lockFenced(connection, jobID, lease: lease)
            guard var task = try await self.activeTask(connection, jobID, lock: true) else {
                throw StateStoreError.noActiveTask(job: jobID)
            }
            update(&task)
            return try await self.saveTask(connection, task, now: now)
        }
    }

    public func appendNote(_ id: UUID, _ message: String, lease: JobLease?) async throws {
        let now = clock()
        try await transaction("append a note") { connection in
            _ = try await self.lockFenced(connection, id, lease: lease)
            try await self.appendEvent(connection, jobID: id, at: now, kind: .note, from: nil, to: nil, message: message)
        }
    }

    public func finishDisposal(
        _ id: UUID, folder: String?, release: Bool, movedInputs: [String: String], lease: JobLease?
    ) async throws {
        let now = clock()
        try await transaction("record where a job's inputs went") { connection in
            var job = try await self.lockFenced(connection, id, lease: lease)
            let state = job.state
            job.pendingDisposal = nil
            if let folder { job.outputPath = folder }
            job.updatedAt = now
            try await self.saveJob(connection, job, expectedState: state)
            if release {
                // The drop's row first: two of its jobs released at once on two nodes then run one after the other,
                // and the second's check below sees the first's inputs given back (a new snapshot per statement).
                _ = try await self.rows(
                    connection,
                    "SELECT key FROM drop_key WHERE key = (SELECT drop_key FROM job WHERE id = \(id)) FOR UPDATE")
                try await connection.query(
                    "UPDATE input_file SET device = -1, inode = -1 WHERE job_id = \(id)", logger: self.logger)
            }
            for (path, destination) in movedInputs.sorted(by: { $0.key < $1.key }) {
                try await connection.query(
                    "UPDATE input_file SET moved_to = \(destination) WHERE job_id = \(id) AND path = \(path)",
                    logger: self.logger)
            }
            if let folder {
                try await self.appendEvent(
                    connection, jobID: id, at: now, kind: .update, from: nil, to: nil, message: "inputs moved to \(folder)")
            }
            if release {
                // The drop keys of this job and of the jobs sharing a file with it (a manifest's rows, a prompt's
                // variants) are forgotten once no job holds any of their files: until then a shared file is still in
                // the inbox, and a node planning it again must find every key taken.
                // Two nodes releasing jobs that share a file at the same moment would each still see the other as
                // a holder and both keep their keys: these forgets take turns (a lock that ends with the
                // transaction, unlike a session advisory lock, so PgBouncer's transaction mode keeps working), and
                // the second sees the first's release.
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.forgetLock))", logger: self.logger)
                try await connection.query(
                    """
                    DELETE FROM drop_key WHERE key IN (
                        SELECT sharer.drop_key FROM job AS sharer
                        WHERE sharer.drop_key IS NOT NULL
                            AND EXISTS (SELECT 1 FROM drop_key AS kept WHERE kept.key = sharer.drop_key)
                            AND sharer.id IN (
                                SELECT other.job_id FROM input_file AS mine
                                JOIN input_file AS other ON other.path = mine.path AND other.size = mine.size
                                    AND other.mtime_ns = mine.mtime_ns
                                WHERE mine.job_id = \(id))
                            AND NOT EXISTS (
                                SELECT 1 FROM input_file AS its
                                JOIN input_file AS holder ON holder.path = its.path AND holder.size = its.size
                                    AND holder.mtime_ns = its.mtime_ns
                                WHERE its.job_id = sharer.id AND holder.device <> -1)
                            AND NOT EXISTS (
                                SELECT 1 FROM job AS same JOIN input_file ON input_file.job_id = same.id
                                WHERE same.drop_key = sharer.drop_key AND input_file.device <> -1))
                    """, logger: self.logger)
            }
        }
    }

    // MARK: - Helpers inside a transaction

    func saveJob(_ connection: PostgresConnection, _ job: StoredJob, expectedState: JobState) async throws {
        let changed = try await execute(
            connection,
            """
            UPDATE job SET state = \(job.state.rawValue), failure_category = \(job.failureCategory),
                failure_message = \(job.failureMessage), priority = \(job.priority),
                updated_at = \(job.updatedAt.timeIntervalSince1970), attempts = \(job.attempts),
                next_attempt_at = \(job.nextAttemptAt?.timeIntervalSince1970), output_path = \(job.outputPath),
                counters = \(SQLiteStateStore.encodeCounters(job.counters)), pending_disposal = \(job.pendingDisposal?.rawValue),
                lease_owner = CASE WHEN \(LeaseStates.keepsLease(job)) THEN lease_owner END,
                lease_until = CASE WHEN \(LeaseStates.keepsLease(job)) THEN lease_until END
            WHERE id = \(job.id) AND state = \(expectedState.rawValue)
            RETURNING id
            """)
        // The row is locked by this transaction, so this only trips if the schema misbehaves.
        guard changed == 1 else { throw StateStoreError.jobNotFound(job.id) }
    }

    /// Writes a task's changeable fields (identity, submission time and activity are kept as stored).
    @discardableResult
    func saveTask(_ connection: PostgresConnection, _ task: StoredTask, now: Date) async throws -> StoredTask {
        var task = task
        task.updatedAt = now
        task.isActive = true
        try await connection.query(
            """
            UPDATE task SET status = \(task.status), progress = \(task.progress), video_url = \(task.videoURL),
                expires_at = \(task.expiresAt?.timeIntervalSince1970), estimated_time = \(task.estimatedTime),
                error_message = \(task.errorMessage), result_json = \(task.resultJSON),
                updated_at = \(now.timeIntervalSince1970), poll_count = \(task.pollCount),
                next_poll_at = \(task.nextPollAt?.timeIntervalSince1970)
            WHERE provider = \(task.provider) AND task_id = \(task.taskID)
            """, logger: logger)
        return task
    }

    /// The transaction lock the forgetting of drop keys takes turns under ("hotf").
    static let forgetLock: Int64 = 0x686F_7466
}
