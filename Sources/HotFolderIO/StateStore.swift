// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

/// Turns drops into jobs, each drop exactly once however many nodes watch the inbox.
///
/// The drop's key is registered in the same transaction that makes its jobs, so the node that sees a drop second
/// learns it from the database instead of making a second job (and paying for it twice).
public protocol DropRecording: Sendable {
    /// Inserts the jobs of one drop, with their inputs and `created` events, under the drop's unique key (all or none).
    ///
    /// - Throws: ``StateStoreError/duplicateDrop(key:)`` when the key is registered already (another node, or an
    ///   earlier pass, made the jobs): nothing is written.
    func insertDrop(_ key: DropKey, jobs: [NewJob]) async throws -> [StoredJob]

    /// Forgets a drop's key once its files have left the inbox, so the same files dropped again make a new drop.
    func forgetDrop(_ key: DropKey) async throws
}

/// Reads one job and what is attached to it.
public protocol JobReading: Sendable {
    /// The job with this id, or nil.
    func job(id: UUID) async throws -> StoredJob?

    /// The job's current lease, or nil when no node holds it (never claimed, or released).
    func lease(ofJob id: UUID) async throws -> JobLease?

    /// The job's active remote task, or nil.
    func activeTask(ofJob id: UUID) async throws -> StoredTask?

    /// The job's history, oldest first.
    func events(ofJob id: UUID) async throws -> [StoredEvent]

    /// The job's input files, in the order they were inserted.
    func inputFiles(ofJob id: UUID) async throws -> [StoredInput]
}

/// Hands work to nodes under leases: a job is worked on by the node whose lease is current, and a node that stops
/// renewing loses its jobs to the others once the lease ends.
public protocol JobClaiming: Sendable {
    /// Leases up to `limit` jobs to `node` until `now + leaseFor`, highest priority and oldest first: `ready` jobs
    /// whose backoff has passed, and jobs in a working state (`uploading` … `downloading`) whose lease has ended or
    /// was released (take-over). Each claim raises the job's lease generation.
    ///
    /// With `maxInFlight`, queued jobs are claimed only while the jobs in flight on every node (in a working state, or
    /// queued and claimed but not started) number fewer: `max_in_flight` holds across nodes, checked in the claim's
    /// own transaction. Take-overs are never held back by it (they are in flight already).
    func claimQueued(node: String, limit: Int, leaseFor: TimeInterval, now: Date, maxInFlight: Int?) async throws -> [LeasedJob]

    /// Leases up to `limit` jobs in a working state (`uploading` … `downloading`) whose lease ended or was released,
    /// and finished jobs whose lease ended while their inputs were still to move (a commit into a final state keeps
    /// the lease until ``LifecycleWriting/finishDisposal(_:folder:release:movedInputs:lease:)``), oldest first, and no
    /// queued job: a restarted node resumes its own work (after giving its leases back), and a
    /// node whose neighbour died takes that work over, whatever its free slots or a paused queue. Each claim raises
    /// the job's lease generation.
    func claimTakeOvers(node: String, limit: Int, leaseFor: TimeInterval, now: Date) async throws -> [LeasedJob]

    /// Leases up to `limit` jobs in `states` (`held`, `uncertain`: jobs no node works on while they wait) whose
    /// `nextAttemptAt` has come and whose lease is free, soonest first: a hold that ends or a lost task's search
    /// is then handled by one node only. Each claim raises the job's lease generation.
    func claimDue(node: String, in states: Set<JobState>, limit: Int, leaseFor: TimeInterval, now: Date) async throws -> [LeasedJob]

    /// The active tasks of jobs `node` holds whose next status call or download is due at `now` (never polled
    /// first, then soonest), at most `limit`: what the node's poller does next.
    func tasksDue(node: String, now: Date, limit: Int) async throws -> [InFlightTask]

    /// Extends `node`'s leases to `now + leaseFor` (the heartbeat); returns the ones still held, renewed. A lease
    /// missing from the answer was taken over (its generation moved on): the node must drop that job's work.
    ///
    /// A lease that ended but was not taken over yet is renewed: nobody else can have written the job, since a
    /// take-over raises the generation first. Renew every third of the lease so this stays the exception.
    func renewLeases(node: String, _ leases: [JobLease], leaseFor: TimeInterval, now: Date) async throws -> [JobLease]

    /// Gives a lease back (the job can be claimed at once); false when it was no longer held.
    @discardableResult
    func releaseLease(_ lease: JobLease) async throws -> Bool

    /// Gives back every lease `node` holds (a clean stop: other nodes take its jobs over at once instead of after the
    /// lease); returns how many. Only for a node that has stopped working on them.
    @discardableResult
    func releaseLeases(node: String) async throws -> Int
}

/// The state machine's writes: each one a compare-and-set on the job's state, fenced by the writer's lease.
///
/// With a `lease`, a write succeeds only while the job's lease owner and generation are still the lease's, so a node
/// that was frozen past its lease and lost the job fails on its first write, before any side effect it would allow.
/// Without one (the only node on SQLite, an operator's command), only the state is compared.
public protocol LifecycleWriting: Sendable {
    /// Writes one ``JobLifecycle/Commit`` in one transaction (see ``SQLiteStateStore/commit(_:_:outputPath:task:budget:)``).
    ///
    /// A reservation (`commit.spend == .reserve`) is checked against `budget`'s caps over the spend of every node,
    /// in the same transaction.
    ///
    /// - Throws: ``StateStoreError/leaseLost(job:owner:generation:)`` when the lease moved on,
    ///   ``StateStoreError/budgetHold(_:)`` when a cap refuses the reservation,
    ///   ``StateStoreError/unexpectedState(job:expected:actual:requested:)`` when the job moved on,
    ///   ``StateStoreError/illegalTransition(job:from:to:)`` when ``JobState`` forbids the move; nothing is written.
    @discardableResult
    func commit(
        _ id: UUID, _ commit: JobLifecycle.Commit, lease: JobLease?, outputPath: String?,
        task: (@Sendable (inout StoredTask) -> Void)?, budget: BudgetRequest?
    ) async throws -> StoredJob

    /// Records the task a create call returned and moves the job from `from` to `submitted` (one transaction).
    ///
    /// - Throws: as ``commit(_:_:lease:outputPath:task:budget:)``, and ``StateStoreError/duplicateTask(provider:taskID:)``.
    @discardableResult
    func recordTask(
        _ jobID: UUID, lease: JobLease?, provider: String, taskID: String, status: String, nextPollAt: Date?,
        from: JobState, message: String?
    ) async throws -> StoredTask

    /// Changes the job's active task (a status call's facts) without changing the job's state.
    @discardableResult
    func updateTask(
        forJob jobID: UUID, lease: JobLease?, update: @escaping @Sendable (inout StoredTask) -> Void
    ) async throws -> StoredTask

    /// Appends a free-form note to the job's history.
    func appendNote(_ id: UUID, _ message: String, lease: JobLease?) async throws

    /// Records that the job's inputs were moved away (see ``SQLiteStateStore/finishDisposal(_:folder:release:movedInputs:)``).
    ///
    /// With `release`, the inputs are given back, and once every job of the drop has given its inputs back the
    /// drop's key is forgotten: the same files moved back into the inbox (a retry) make a new drop.
    func finishDisposal(
        _ id: UUID, folder: String?, release: Bool, movedInputs: [String: String], lease: JobLease?
    ) async throws
}

/// The nodes sharing one database, for `hotfolder status`.
public protocol NodeRegistry: Sendable {
    /// Records that `name` runs (again), as of `now`.
    func registerNode(name: String, now: Date) async throws

    /// Records that `name` is alive at `now` (registering it when new).
    func heartbeat(node name: String, now: Date) async throws

    /// Every node known, by name, with its last heartbeat and the jobs whose lease it holds at `now`.
    func nodes(now: Date) async throws -> [NodeStatus]
}

/// Wakes an idle node when another one makes work claimable.
public protocol WorkWaking: Sendable {
    /// Suspends until work is announced (true) or `timeout` passes (false). Announcements can be missed, so the
    /// caller claims after a timeout too (the periodic poll).
    func waitForWork(timeout: Duration) async throws -> Bool
}

/// The durable state every node shares: drops, jobs, leases, tasks, nodes, the notification outbox and history.
///
/// ``SQLiteStateStore`` (one node, embedded) and ``PostgresStateStore`` (several nodes) both conform, and one
/// conformance suite checks both. Every requirement is `async throws`: PostgreSQL is reached over the network, and
/// SQLite's blocking calls run off the cooperative threads.
public protocol StateStore:
    DropRecording, JobReading, JobClaiming, LifecycleWriting, NodeRegistry, WorkWaking, NotificationOutbox, HistoryPruning,
    QueueControl
{}

extension JobClaiming {
    /// ``claimQueued(node:limit:leaseFor:now:maxInFlight:)`` with no limit across nodes.
    public func claimQueued(node: String, limit: Int, leaseFor: TimeInterval, now: Date) async throws -> [LeasedJob] {
        try await claimQueued(node: node, limit: limit, leaseFor: leaseFor, now: now, maxInFlight: nil)
    }
}

extension LifecycleWriting {
    /// ``commit(_:_:lease:outputPath:task:budget:)`` with no output path, task change or budget.
    @discardableResult
    public func commit(_ id: UUID, _ commit: JobLifecycle.Commit, lease: JobLease?) async throws -> StoredJob {
        try await self.commit(id, commit, lease: lease, outputPath: nil, task: nil, budget: nil)
    }

    /// ``recordTask(_:lease:provider:taskID:status:nextPollAt:from:message:)`` from `submitting`, with the default note.
    @discardableResult
    public func recordTask(
        _ jobID: UUID, lease: JobLease?, provider: String, taskID: String, status: String, nextPollAt: Date?
    ) async throws -> StoredTask {
        try await recordTask(
            jobID, lease: lease, provider: provider, taskID: taskID, status: status, nextPollAt: nextPollAt,
            from: .submitting, message: nil)
    }
}
