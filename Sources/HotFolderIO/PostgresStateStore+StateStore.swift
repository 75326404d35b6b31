// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import PostgresNIO

/// Drops, reads, claims and nodes. Each call is one transaction (or one statement) under the call's deadline.
extension PostgresStateStore: StateStore {
    public func insertDrop(_ key: DropKey, jobs: [NewJob]) async throws -> [StoredJob] {
        let now = clock()
        let routing = notificationRouting.current
        let (stored, after) = try await transaction("insert a drop's jobs") { connection in
            do {
                try await connection.query(
                    "INSERT INTO drop_key (key, inserted_at) VALUES (\(key.value), \(now.timeIntervalSince1970))",
                    logger: self.logger)
            } catch where Self.sqlState(error) == "23505" {
                // The other node's transaction committed first (or ours waited for it on the key's index entry).
                throw StateStoreError.duplicateDrop(key: key.value)
            }
            var stored: [StoredJob] = []
            var after = AfterCommit()
            for job in jobs {
                stored.append(
                    try await self.insertJob(connection, job, dropKey: key.value, now: now, routing: routing, into: &after))
            }
            if stored.contains(where: { $0.state == .ready }) { try await self.announceWork(connection) }
            return (stored, after)
        }
        announce(after, routing)
        return stored
    }

    /// Inside a transaction: inserts one job (under `dropKey`, registered by the caller, or none) with its inputs and
    /// `created` event, and collects what its insert tells: an invalid drop's `job.invalid`, else its change for
    /// the live feed. Every insert of jobs goes through here (``insertDrop(_:jobs:)``, ``recordJobs(_:films:stillThere:)``).
    func insertJob(
        _ connection: PostgresConnection, _ job: NewJob, dropKey: String?, now: Date, routing: NotificationRouting.State,
        into after: inout AfterCommit
    ) async throws -> StoredJob {
        let new = try await insertJobRows(connection, job, dropKey: dropKey, now: now)
        // As in SQLite: an invalid drop is told (`job.invalid`) with the insert that records it.
        if new.state == .invalid {
            try await enqueueJobNotification(connection, new, to: .invalid, now: now, routing: routing, into: &after)
        } else if liveFeed.hasSubscribers {
            after.changes.append(
                LiveJobChange(id: new.id.lowercasedString, name: new.name, lane: new.lane, state: new.state.rawValue))
        }
        return new
    }

    private func insertJobRows(_ connection: PostgresConnection, _ job: NewJob, dropKey: String?, now: Date) async throws -> StoredJob {
        let message = job.state == .invalid || job.state == .failed ? job.message : nil
        // As in SQLite: an invalid drop's files go to failed/, a reused clip's to the archive.
        let disposal: JobLifecycle.InputDisposal? = job.state == .invalid ? .failed : job.state == .done ? .archive : nil
        let seconds = now.timeIntervalSince1970
        do {
            try await connection.query(
                """
                INSERT INTO job (id, name, lane, state, priority, created_at, updated_at, spec_json, attempts,
                    failure_message, spec_version, pending_disposal, film_id, reuse_key, output_path, drop_key, prompt)
                VALUES (\(job.id), \(job.name), \(job.lane), \(job.state.rawValue), \(job.priority), \(seconds),
                    \(seconds), \(job.specJSON), 0, \(message), \(NewJob.currentSpecVersion), \(disposal?.rawValue),
                    \(job.filmID), \(job.reuseKey), \(job.reusedOutput), \(dropKey), \(Self.specFacts(job.specJSON).prompt))
                """, logger: logger)
        } catch where Self.sqlState(error) == "23505" {
            throw StateStoreError.duplicateJob(job.id)
        }
        for input in job.inputs {
            try await connection.query(
                """
                INSERT INTO input_file (job_id, path, device, inode, size, mtime_ns, sha256)
                VALUES (\(job.id), \(input.path), \(Int64(bitPattern: input.identity.device)),
                    \(Int64(bitPattern: input.identity.inode)), \(input.identity.size), \(input.identity.mtimeNs),
                    \(input.sha256))
                """, logger: logger)
        }
        try await appendEvent(connection, jobID: job.id, at: now, kind: .created, from: nil, to: job.state, message: job.message)
        return StoredJob(
            id: job.id, name: job.name, lane: job.lane, state: job.state, failureCategory: nil, failureMessage: message,
            priority: job.priority, createdAt: now, updatedAt: now, specJSON: job.specJSON, attempts: 0,
            nextAttemptAt: nil, outputPath: job.reusedOutput, pendingDisposal: disposal)
    }

    public func forgetDrop(_ key: DropKey) async throws {
        try await call("forget a drop") { connection in
            try await connection.query("DELETE FROM drop_key WHERE key = \(key.value)", logger: self.logger)
        }
    }

    public func job(id: UUID) async throws -> StoredJob? {
        try await call("read a job") { connection in
            try await self.rows(connection, "SELECT \(unescaped: Self.jobColumns) FROM job WHERE id = \(id)")
                .first.map(Self.decodeJob)
        }
    }

    public func lease(ofJob id: UUID) async throws -> JobLease? {
        try await call("read a lease") { connection in
            guard
                let row = try await self.rows(
                    connection, "SELECT lease_owner, lease_generation, lease_until FROM job WHERE id = \(id)"
                ).first,
                let owner = try row[0].decode(String?.self), let until = try row[2].decode(Double?.self)
            else { return nil }
            return JobLease(
                jobID: id, owner: owner, generation: try row[1].decode(Int64.self),
                until: Date(timeIntervalSince1970: until))
        }
    }

    public func activeTask(ofJob id: UUID) async throws -> StoredTask? {
        try await call("read a task") { connection in try await self.activeTask(connection, id, lock: false) }
    }

    public func events(ofJob id: UUID) async throws -> [StoredEvent] {
        try await call("read events") { connection in
            try await self.rows(
                connection,
                "SELECT id, at, kind, from_state, to_state, message FROM event WHERE job_id = \(id) ORDER BY id"
            ).map { row in
                StoredEvent(
                    id: try row[0].decode(Int64.self), jobID: id,
                    at: Date(timeIntervalSince1970: try row[1].decode(Double.self)),
                    kind: StoredEvent.Kind(rawValue: try row[2].decode(String.self)) ?? .note,
                    fromState: try row[3].decode(String?.self).flatMap(JobState.init(rawValue:)),
                    toState: try row[4].decode(String?.self).flatMap(JobState.init(rawValue:)),
                    message: try row[5].decode(String?.self))
            }
        }
    }

    public func inputFiles(ofJob id: UUID) async throws -> [StoredInput] {
        try await call("read inputs") { connection in
            try await self.rows(
                connection,
                "SELECT path, device, inode, size, mtime_ns, sha256 FROM input_file WHERE job_id = \(id) ORDER BY id"
            ).map { row in
                StoredInput(
                    path: try row[0].decode(String.self),
                    identity: InputIdentity(
                        device: UInt64(bitPattern: try row[1].decode(Int64.self)),
                        inode: UInt64(bitPattern: try row[2].decode(Int64.self)), size: try row[3].decode(Int64.self),
                        mtimeNs: try row[4].decode(Int64.self)),
                    sha256: try row[5].decode(String.self))
            }
        }
    }

    public func claimQueued(node: String, limit: Int, leaseFor: TimeInterval, now: Date, maxInFlight: Int?) async throws -> [LeasedJob] {
        guard let maxInFlight else {
            return try await call("claim jobs") { connection in
                try await self.claim(connection, node: node, limit: limit, leaseFor: leaseFor, now: now, kinds: [.queued, .takeOver])
                    .map(\.claim)
            }
        }
        return try await transaction("claim jobs") { connection in
            // Claims under the cap take turns until the transaction ends (a table lock, not an advisory one: it works
            // behind PgBouncer too): two nodes counting at once would each see room for the same last slot. Only
            // heartbeats write the node table, and they wait a moment.
            try await connection.query("LOCK TABLE node IN SHARE ROW EXCLUSIVE MODE", logger: self.logger)
            let seconds = now.timeIntervalSince1970
            let counted = try await self.rows(
                connection,
                """
                SELECT COUNT(*) FROM job WHERE state IN (\(unescaped: LeaseStates.working))
                    OR (state = 'ready' AND lease_until >= \(seconds))
                """)
            let inFlight = try counted.first?[0].decode(Int.self) ?? 0
            let orphans = try await self.claim(connection, node: node, limit: limit, leaseFor: leaseFor, now: now, kinds: [.takeOver])
            let room = min(limit - orphans.count, max(0, maxInFlight - inFlight))
            let queued = room > 0
                ? try await self.claim(connection, node: node, limit: room, leaseFor: leaseFor, now: now, kinds: [.queued]) : []
            return Self.queueOrder(orphans + queued).map(\.claim)
        }
    }

    public func claimTakeOvers(node: String, limit: Int, leaseFor: TimeInterval, now: Date) async throws -> [LeasedJob] {
        try await call("claim jobs to take over") { connection in
            try await self.claim(connection, node: node, limit: limit, leaseFor: leaseFor, now: now, kinds: [.takeOver])
                .map(\.claim)
        }
    }

    /// What a claim takes.
    enum ClaimKind {
        /// `ready` jobs whose backoff has passed.
        case queued
        /// Jobs in a working state whose lease is free, and finished ones whose node ended its lease before moving
        /// their inputs.
        case takeOver
    }

    /// Leases to `node` the first `limit` jobs of `kinds` (priority, then age), in the queue's order, each with its
    /// insertion order (`seq`).
    private func claim(
        _ connection: PostgresConnection, node: String, limit: Int, leaseFor: TimeInterval, now: Date, kinds: Set<ClaimKind>
    ) async throws -> [(claim: LeasedJob, seq: Int64)] {
        let seconds = now.timeIntervalSince1970
        let until = now.addingTimeInterval(leaseFor)
        // Our own constant text around a number we computed: no user input is spliced into the statement.
        var conditions: [String] = []
        if kinds.contains(.queued) {
            conditions.append("(state = 'ready' AND (next_attempt_at IS NULL OR next_attempt_at <= \(seconds)) AND (lease_until IS NULL OR lease_until < \(seconds)))")
        }
        if kinds.contains(.takeOver) {
            conditions.append("(state IN (\(LeaseStates.working)) AND (lease_until IS NULL OR lease_until < \(seconds)))")
            conditions.append("(state IN (\(LeaseStates.finished)) AND pending_disposal IS NOT NULL AND lease_until < \(seconds))")
        }
        // One statement: rows another node is claiming right now are skipped, not waited for, and the old owner is
        // read from the same snapshot the update replaces.
        let rows = try await self.rows(
            connection,
            """
            WITH picked AS (
                SELECT id, lease_owner AS previous FROM job
                WHERE \(unescaped: conditions.joined(separator: " OR "))
                ORDER BY priority DESC, created_at, seq
                LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
            )
            UPDATE job SET lease_owner = \(node), lease_until = \(until.timeIntervalSince1970),
                lease_generation = job.lease_generation + 1
            FROM picked WHERE job.id = picked.id
            RETURNING \(unescaped: Self.jobColumns), job.lease_generation, picked.previous, job.seq
            """)
        let claimed = try rows.map { row in
            (claim: try Self.leasedJob(row, node: node, until: until), seq: try row[18].decode(Int64.self))
        }
        // RETURNING has no order: give them back in the queue's.
        return Self.queueOrder(claimed)
    }

    /// Claims in the queue's order: priority, then age, then insertion.
    static func queueOrder(_ claims: [(claim: LeasedJob, seq: Int64)]) -> [(claim: LeasedJob, seq: Int64)] {
        claims.sorted {
            ($0.claim.job.priority, $1.claim.job.createdAt, $1.seq) > ($1.claim.job.priority, $0.claim.job.createdAt, $0.seq)
        }
    }

    public func renewLeases(node: String, _ leases: [JobLease], leaseFor: TimeInterval, now: Date) async throws -> [JobLease] {
        let until = now.addingTimeInterval(leaseFor)
        let mine = leases.filter { $0.owner == node }
        guard !mine.isEmpty else { return [] }
        return try await call("renew leases") { connection in
            // One statement for all of them: a heartbeat is one round trip however many jobs the node holds.
            let renewed = try await self.rows(
                connection,
                """
                UPDATE job SET lease_until = \(until.timeIntervalSince1970)
                FROM unnest(\(mine.map(\.jobID)), \(mine.map(\.generation))) AS held (id, generation)
                WHERE job.id = held.id AND job.lease_owner = \(node) AND job.lease_generation = held.generation
                RETURNING job.id
                """
            ).map { try $0[0].decode(UUID.self) }
            let ids = Set(renewed)
            return mine.filter { ids.contains($0.jobID) }.map {
                JobLease(jobID: $0.jobID, owner: node, generation: $0.generation, until: until)
            }
        }
    }

    @discardableResult
    public func releaseLease(_ lease: JobLease) async throws -> Bool {
        try await call("release a lease") { connection in
            // One statement: the job is announced to idle nodes only if the lease was released.
            try await self.execute(
                connection,
                """
                WITH released AS (
                    UPDATE job SET lease_owner = NULL, lease_until = NULL
                    WHERE id = \(lease.jobID) AND lease_owner = \(lease.owner) AND lease_generation = \(lease.generation)
                    RETURNING id
                )
                SELECT pg_notify(\(Self.workChannel), '') FROM released
                """) == 1
        }
    }

    @discardableResult
    public func releaseLeases(node: String) async throws -> Int {
        try await transaction("release a node's leases") { connection in
            let released = try await self.execute(
                connection,
                "UPDATE job SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = \(node) RETURNING id")
            if released > 0 { try await self.announceWork(connection) }
            return released
        }
    }

    public func registerNode(name: String, now: Date) async throws {
        let seconds = now.timeIntervalSince1970
        try await call("register a node") { connection in
            try await connection.query(
                """
                INSERT INTO node (name, registered_at, last_heartbeat) VALUES (\(name), \(seconds), \(seconds))
                ON CONFLICT (name) DO UPDATE SET registered_at = excluded.registered_at,
                    last_heartbeat = excluded.last_heartbeat
                """, logger: self.logger)
        }
    }

    public func heartbeat(node name: String, now: Date) async throws {
        let seconds = now.timeIntervalSince1970
        try await call("record a heartbeat") { connection in
            try await connection.query(
                """
                INSERT INTO node (name, registered_at, last_heartbeat) VALUES (\(name), \(seconds), \(seconds))
                ON CONFLICT (name) DO UPDATE SET last_heartbeat = excluded.last_heartbeat
                """, logger: self.logger)
        }
    }

    public func nodes(now: Date) async throws -> [NodeStatus] {
        try await call("list nodes") { connection in
            try await self.rows(
                connection,
                """
                SELECT name, registered_at, last_heartbeat,
                    (SELECT count(*) FROM job WHERE lease_owner = node.name AND lease_until >= \(now.timeIntervalSince1970))
                FROM node ORDER BY name
                """
            ).map { row in
                NodeStatus(
                    name: try row[0].decode(String.self),
                    registeredAt: Date(timeIntervalSince1970: try row[1].decode(Double.self)),
                    lastHeartbeat: Date(timeIntervalSince1970: try row[2].decode(Double.self)),
                    jobsHeld: try row[3].decode(Int.self))
            }
        }
    }
}
