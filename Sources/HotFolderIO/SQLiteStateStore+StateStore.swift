// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore

/// The embedded store as a ``StateStore``: each requirement is one of the synchronous transactions, run on the
/// blocking thread pool so a writer waiting for SQLite's lock never holds a cooperative thread.
extension SQLiteStateStore: StateStore {
    public func insertDrop(_ key: DropKey, jobs: [NewJob]) async throws -> [StoredJob] {
        let now = clock()
        return try await Blocking.run {
            try self.write("insert a drop's jobs") { db in try self.insertDropRows(db, key, jobs: jobs, now: now) }
        }
    }

    public func forgetDrop(_ key: DropKey) async throws {
        try await Blocking.run {
            try self.write("forget a drop") { db in
                try db.cachedStatement(sql: "DELETE FROM drop_key WHERE key = ?").execute(arguments: [key.value])
            }
        }
    }

    public func job(id: UUID) async throws -> StoredJob? {
        try await Blocking.run { try self.job(id) }
    }

    public func lease(ofJob id: UUID) async throws -> JobLease? {
        try await Blocking.run { try self.read("read a lease") { db in try Self.fetchLease(db, id) } }
    }

    public func activeTask(ofJob id: UUID) async throws -> StoredTask? {
        try await Blocking.run { try self.task(forJob: id) }
    }

    public func events(ofJob id: UUID) async throws -> [StoredEvent] {
        try await Blocking.run { try self.events(id) }
    }

    public func inputFiles(ofJob id: UUID) async throws -> [StoredInput] {
        try await Blocking.run { try self.inputs(ofJob: id) }
    }

    public func claimQueued(node: String, limit: Int, leaseFor: TimeInterval, now: Date, maxInFlight: Int?) async throws -> [LeasedJob] {
        try await writeGrouped("claim jobs") { db in
            try self.claimRows(db, node: node, limit: limit, leaseFor: leaseFor, now: now, maxInFlight: maxInFlight)
        }
    }

    public func claimTakeOvers(node: String, limit: Int, leaseFor: TimeInterval, now: Date) async throws -> [LeasedJob] {
        try await writeAsync("claim jobs to take over") { db in
            try self.claimTakeOverRows(db, node: node, limit: limit, leaseFor: leaseFor, now: now)
        }
    }

    public func claimDue(
        node: String, in states: Set<JobState>, limit: Int, leaseFor: TimeInterval, now: Date
    ) async throws -> [LeasedJob] {
        try await Blocking.run {
            try self.write("claim jobs due") { db in
                try self.claimDueRows(db, node: node, states: states, limit: limit, leaseFor: leaseFor, now: now)
            }
        }
    }

    public func tasksDue(node: String, now: Date, limit: Int) async throws -> [InFlightTask] {
        try await Blocking.run {
            try self.read("list a node's tasks due") { db in try Self.fetchTasksDue(db, node: node, now: now, limit: limit) }
        }
    }

    public func renewLeases(node: String, _ leases: [JobLease], leaseFor: TimeInterval, now: Date) async throws -> [JobLease] {
        try await Blocking.run {
            try self.write("renew leases") { db in try self.renewRows(db, node: node, leases, leaseFor: leaseFor, now: now) }
        }
    }

    @discardableResult
    public func releaseLease(_ lease: JobLease) async throws -> Bool {
        try await Blocking.run { try self.write("release a lease") { db in try self.releaseRow(db, lease) } }
    }

    @discardableResult
    public func commit(
        _ id: UUID, _ commit: JobLifecycle.Commit, lease: JobLease?, outputPath: String?,
        task: (@Sendable (inout StoredTask) -> Void)?, budget: BudgetRequest?
    ) async throws -> StoredJob {
        try Self.checkLegal(id, commit)
        let now = clock()
        // On the database's own writer queue, in a group commit with the other jobs' steps of the moment: the
        // caller's thread never waits for the lock, and a burst costs one transaction per group, not per job.
        return try await writeGrouped("move a job from \(commit.from) to \(commit.to)") { db in
            // The lease first: a node that lost the job must not learn (or change) anything else about it.
            try Self.checkLease(db, id, lease)
            return try self.apply(db, id, commit, outputPath: outputPath, task: task, budget: budget, now: now)
        }
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
        return try await writeGrouped("record a task") { db in
            try Self.checkLease(db, jobID, lease)
            return try self.insertTask(
                db, jobID, provider: provider, taskID: taskID, status: status, nextPollAt: nextPollAt, from: from,
                message: message, now: now)
        }
    }

    @discardableResult
    public func updateTask(
        forJob jobID: UUID, lease: JobLease?, update: @escaping @Sendable (inout StoredTask) -> Void
    ) async throws -> StoredTask {
        let now = clock()
        return try await writeGrouped("update a task") { db in
            try Self.checkLease(db, jobID, lease)
            return try self.updateActiveTask(db, jobID: jobID, now: now, update)
        }
    }

    public func appendNote(_ id: UUID, _ message: String, lease: JobLease?) async throws {
        let now = clock()
        try await Blocking.run {
            try self.write("append a note") { db in
                try Self.checkLease(db, id, lease)
                guard try Self.fetchJob(db, id) != nil else { throw StateStoreError.jobNotFound(id) }
                try self.appendEvent(db, jobID: id.lowercasedString, at: now, kind: .note, from: nil, to: nil, message: message)
            }
        }
    }

    public func finishDisposal(
        _ id: UUID, folder: String?, release: Bool, movedInputs: [String: String], lease: JobLease?
    ) async throws {
        let now = clock()
        try await Blocking.run {
            try self.write("record where a job's inputs went") { db in
                try Self.checkLease(db, id, lease)
                try self.disposalRows(db, id, folder: folder, release: release, movedInputs: movedInputs, now: now)
            }
        }
    }

    @discardableResult
    public func releaseLeases(node: String) async throws -> Int {
        try await Blocking.run {
            try self.write("release a node's leases") { db in
                try db.cachedStatement(sql: "UPDATE job SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?")
                    .execute(arguments: [node])
                return db.changesCount
            }
        }
    }

    public func registerNode(name: String, now: Date) async throws {
        try await Blocking.run {
            try self.write("register a node") { db in try self.upsertNode(db, name: name, now: now, registering: true) }
        }
    }

    public func heartbeat(node name: String, now: Date) async throws {
        try await Blocking.run {
            try self.write("record a heartbeat") { db in try self.upsertNode(db, name: name, now: now, registering: false) }
        }
    }

    public func nodes(now: Date) async throws -> [NodeStatus] {
        try await Blocking.run { try self.read("list nodes") { db in try Self.fetchNodes(db, now: now) } }
    }

    /// One node has nobody else to wake it: this only waits for `timeout` (the service's own wake-ups are in-process).
    public func waitForWork(timeout: Duration) async throws -> Bool {
        try await Task.sleep(for: timeout)
        return false
    }
}
