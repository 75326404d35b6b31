// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore

// Leases, drop keys and nodes on SQLite. One node uses them as PostgreSQL's nodes do, so the conformance suite checks
// the same behaviour on both stores; every method is one immediate transaction, so a read-then-write is atomic.
extension SQLiteStateStore {
    /// Migration `v5-lease`: the lease and fencing columns, the drop keys and the nodes (names as in PostgreSQL).
    static func registerLeaseTables(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE job ADD COLUMN lease_owner TEXT;
                ALTER TABLE job ADD COLUMN lease_until REAL;
                ALTER TABLE job ADD COLUMN lease_generation INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE job ADD COLUMN drop_key TEXT;
                CREATE INDEX job_lease ON job(state, lease_until);
                CREATE INDEX job_lease_owner ON job(lease_owner) WHERE lease_owner IS NOT NULL;
                CREATE INDEX job_drop_key ON job(drop_key) WHERE drop_key IS NOT NULL;
                CREATE TABLE drop_key (
                    key TEXT PRIMARY KEY NOT NULL,
                    inserted_at REAL NOT NULL
                );
                CREATE TABLE node (
                    name TEXT PRIMARY KEY NOT NULL,
                    registered_at REAL NOT NULL,
                    last_heartbeat REAL NOT NULL
                );
                """)
    }

    func insertDropRows(_ db: Database, _ key: DropKey, jobs: [NewJob], now: Date) throws -> [StoredJob] {
        do {
            try db.cachedStatement(sql: "INSERT INTO drop_key (key, inserted_at) VALUES (?, ?)")
                .execute(arguments: [key.value, now.timeIntervalSince1970])
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw StateStoreError.duplicateDrop(key: key.value)
        }
        let stored = try insertJobRows(db, jobs, films: [], now: now)
        for job in stored {
            try db.cachedStatement(sql: "UPDATE job SET drop_key = ? WHERE id = ?")
                .execute(arguments: [key.value, job.id.lowercasedString])
        }
        return stored
    }

    /// After the job gave its inputs back: forgets the drop keys of the job and of every job sharing a file with it
    /// (a manifest's rows, a prompt's variants) whose files no job holds any more, and no job of the same drop either. While one of them still holds a
    /// shared file, that file is still in the inbox, and a node planning it again must find every key taken; once
    /// the last lets go, the files have left and the same files moved back are new drops.
    static func forgetReleasedDrop(_ db: Database, _ id: UUID) throws {
        try db.cachedStatement(
            sql: """
                DELETE FROM drop_key WHERE key IN (
                    SELECT sharer.drop_key FROM job AS sharer
                    WHERE sharer.drop_key IS NOT NULL
                        AND EXISTS (SELECT 1 FROM drop_key AS kept WHERE kept.key = sharer.drop_key)
                        AND sharer.id IN (
                            SELECT other.jobId FROM inputFile AS mine
                            JOIN inputFile AS other INDEXED BY inputFile_path
                                ON other.path = mine.path AND other.size = mine.size AND other.mtimeNs = mine.mtimeNs
                            WHERE mine.jobId = ?)
                        AND NOT EXISTS (
                            SELECT 1 FROM inputFile AS its
                            JOIN inputFile AS holder INDEXED BY inputFile_path
                                ON holder.path = its.path AND holder.size = its.size AND holder.mtimeNs = its.mtimeNs
                            WHERE its.jobId = sharer.id AND holder.device != -1)
                        AND NOT EXISTS (
                            SELECT 1 FROM job AS same JOIN inputFile ON inputFile.jobId = same.id
                            WHERE same.drop_key = sharer.drop_key AND inputFile.device != -1))
                """
        ).execute(arguments: [id.lowercasedString])
    }

    /// Throws ``StateStoreError/leaseLost(job:owner:generation:)`` unless `lease` is the job's current lease.
    static func checkLease(_ db: Database, _ id: UUID, _ lease: JobLease?) throws {
        guard let lease else { return }
        // Another job's lease is no lease on this one, even with the same owner and generation.
        guard lease.jobID == id else {
            throw StateStoreError.leaseLost(job: id, owner: lease.owner, generation: lease.generation)
        }
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT lease_owner, lease_generation FROM job WHERE id = ?"),
                arguments: [id.lowercasedString])
        else { throw StateStoreError.jobNotFound(id) }
        let owner: String? = row[0]
        let generation: Int64 = row[1]
        // Given back by a commit out of the working states (owner NULL), the lease still fences: nobody else wrote
        // the job, since only a claim raises the generation.
        guard owner == nil || owner == lease.owner, generation == lease.generation else {
            throw StateStoreError.leaseLost(job: id, owner: lease.owner, generation: lease.generation)
        }
    }

    static func fetchLease(_ db: Database, _ id: UUID) throws -> JobLease? {
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT lease_owner, lease_generation, lease_until FROM job WHERE id = ?"),
            arguments: [id.lowercasedString])
        guard let row, let owner = row[0] as String?, let until = row[2] as Double? else { return nil }
        return JobLease(jobID: id, owner: owner, generation: row[1], until: date(until))
    }

    func claimRows(
        _ db: Database, node: String, limit: Int, leaseFor: TimeInterval, now: Date, maxInFlight: Int? = nil
    ) throws -> [LeasedJob] {
        var readyLimit = limit
        if let maxInFlight {
            // The write transaction is the only one: nobody else claims between this count and the claim.
            readyLimit = min(limit, max(0, maxInFlight - (try Self.countInFlight(db, now: now))))
        }
        // Two index walks merged here, not one `OR` query: that one sorts every queued and every working job in a
        // temporary tree on each claim, and a burst claims a few dozen at a time from ten thousand.
        let ready = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT \(Self.jobColumns), job.lease_owner, job.lease_generation, job.rowid FROM job INDEXED BY job_queue
                    WHERE state = 'ready' AND (nextAttemptAt IS NULL OR nextAttemptAt <= ?)
                        AND (lease_until IS NULL OR lease_until < ?)
                    ORDER BY priority DESC, createdAt, rowid LIMIT ?
                    """),
            arguments: [now.timeIntervalSince1970, now.timeIntervalSince1970, readyLimit])
        let orphans = try takeOverRows(db, limit: limit, now: now)
        let rows = orphans.isEmpty ? ready : Array((ready + orphans).sorted(by: Self.queueOrder).prefix(limit))
        return try lease(db, rows, node: node, until: now.addingTimeInterval(leaseFor))
    }

    func claimTakeOverRows(_ db: Database, node: String, limit: Int, leaseFor: TimeInterval, now: Date) throws -> [LeasedJob] {
        try lease(db, takeOverRows(db, limit: limit, now: now), node: node, until: now.addingTimeInterval(leaseFor))
    }

    /// Jobs in a working state whose lease ended or was given back, and finished jobs whose node ended its lease
    /// before it had moved their inputs, in queue order (columns 7, 8 and 19: priority,
    /// createdAt, rowid): two ranges of the job_lease index (ended, given back), so jobs whose lease is current are
    /// never visited.
    private func takeOverRows(_ db: Database, limit: Int, now: Date) throws -> [Row] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT \(Self.jobColumns), job.lease_owner, job.lease_generation, job.rowid FROM job INDEXED BY job_lease
                    WHERE state IN (\(LeaseStates.working)) AND lease_until < ?
                    UNION ALL
                    SELECT \(Self.jobColumns), job.lease_owner, job.lease_generation, job.rowid FROM job INDEXED BY job_lease
                    WHERE state IN (\(LeaseStates.working)) AND lease_until IS NULL
                    UNION ALL
                    SELECT \(Self.jobColumns), job.lease_owner, job.lease_generation, job.rowid FROM job INDEXED BY job_lease
                    WHERE state IN (\(LeaseStates.finished)) AND lease_until < ? AND pendingDisposal IS NOT NULL
                    ORDER BY 7 DESC, 8, 19 LIMIT ?
                    """),
            arguments: [now.timeIntervalSince1970, now.timeIntervalSince1970, limit])
    }

    /// Jobs in flight on every node: in a working state (from the counts the triggers keep: a burst claims hundreds of
    /// times with thousands in flight), or queued and claimed (a current lease) but not started (a short range of the
    /// job_lease index: at most a claim's worth per node).
    static func countInFlight(_ db: Database, now: Date) throws -> Int {
        try Int.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT (SELECT COALESCE(SUM(n), 0) FROM jobCount WHERE state IN (\(LeaseStates.working)))
                        + (SELECT COUNT(*) FROM job INDEXED BY job_lease WHERE state = 'ready' AND lease_until >= ?)
                    """),
            arguments: [now.timeIntervalSince1970]) ?? 0
    }

    /// Priority (highest first), then age, then insertion: the queue's order, on rows of ``jobColumns`` then owner,
    /// generation and rowid.
    static func queueOrder(_ a: Row, _ b: Row) -> Bool {
        let (pa, pb): (Int, Int) = (a[6], b[6])
        if pa != pb { return pa > pb }
        let (ca, cb): (Double, Double) = (a[7], b[7])
        if ca != cb { return ca < cb }
        let (ra, rb): (Int64, Int64) = (a[18], b[18])
        return ra < rb
    }

    func claimDueRows(
        _ db: Database, node: String, states: Set<JobState>, limit: Int, leaseFor: TimeInterval, now: Date
    ) throws -> [LeasedJob] {
        guard !states.isEmpty else { return [] }
        let names = states.map(\.rawValue).sorted()
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT \(Self.jobColumns), job.lease_owner, job.lease_generation FROM job
                WHERE state IN (\(databaseQuestionMarks(count: names.count)))
                    AND nextAttemptAt IS NOT NULL AND nextAttemptAt <= ?
                    AND (lease_until IS NULL OR lease_until < ?)
                ORDER BY nextAttemptAt, rowid LIMIT ?
                """,
            arguments: StatementArguments(names) + [now.timeIntervalSince1970, now.timeIntervalSince1970, limit])
        return try lease(db, rows, node: node, until: now.addingTimeInterval(leaseFor))
    }

    /// Leases the jobs of `rows` (``jobColumns`` then owner and generation) to `node`.
    private func lease(_ db: Database, _ rows: [Row], node: String, until: Date) throws -> [LeasedJob] {
        try rows.map { row in
            let job = try Self.decodeJob(row)
            let generation: Int64 = row[17]
            try db.cachedStatement(
                sql: "UPDATE job SET lease_owner = ?, lease_until = ?, lease_generation = ? WHERE id = ?"
            ).execute(arguments: [node, until.timeIntervalSince1970, generation + 1, job.id.lowercasedString])
            return LeasedJob(
                job: job, lease: JobLease(jobID: job.id, owner: node, generation: generation + 1, until: until),
                previousOwner: row[16])
        }
    }

    static func fetchTasksDue(_ db: Database, node: String, now: Date, limit: Int) throws -> [InFlightTask] {
        // As ``fetchInFlight(operation:due:limit:)``: two ranges of the task_poll index (never polled, then due by
        // now), not one `IS NULL OR <=` condition that visits every task in flight on each of the poller's wakes.
        let select = """
            SELECT \(taskColumns), job.state, job.name, job.lane, job.outputPath
            FROM task INDEXED BY task_poll JOIN job ON job.id = task.jobId
            WHERE task.active = 1 AND job.lease_owner = ? AND job.state IN ('submitted', 'running', 'downloading')
            """
        let decode = { (row: Row) throws -> InFlightTask in
            InFlightTask(
                task: try decodeTask(row), jobState: try state(row[15], table: "job", column: "state")!,
                name: row[16], lane: row[17], outputPath: row[18])
        }
        let never = try Row.fetchAll(
            db.cachedStatement(sql: select + " AND task.nextPollAt IS NULL ORDER BY task.id LIMIT ?"), arguments: [node, limit]
        ).map(decode)
        guard never.count < limit else { return never }
        return never + (try Row.fetchAll(
            db.cachedStatement(sql: select + " AND task.nextPollAt <= ? ORDER BY task.nextPollAt, task.id LIMIT ?"),
            arguments: [node, now.timeIntervalSince1970, limit - never.count]
        ).map(decode))
    }

    func renewRows(_ db: Database, node: String, _ leases: [JobLease], leaseFor: TimeInterval, now: Date) throws -> [JobLease] {
        let until = now.addingTimeInterval(leaseFor)
        var renewed: [JobLease] = []
        for lease in leases where lease.owner == node {
            try db.cachedStatement(
                sql: "UPDATE job SET lease_until = ? WHERE id = ? AND lease_owner = ? AND lease_generation = ?"
            ).execute(arguments: [until.timeIntervalSince1970, lease.jobID.lowercasedString, node, lease.generation])
            if db.changesCount == 1 {
                renewed.append(JobLease(jobID: lease.jobID, owner: node, generation: lease.generation, until: until))
            }
        }
        return renewed
    }

    func releaseRow(_ db: Database, _ lease: JobLease) throws -> Bool {
        try db.cachedStatement(
            sql: """
                UPDATE job SET lease_owner = NULL, lease_until = NULL
                WHERE id = ? AND lease_owner = ? AND lease_generation = ?
                """
        ).execute(arguments: [lease.jobID.lowercasedString, lease.owner, lease.generation])
        return db.changesCount == 1
    }

    func upsertNode(_ db: Database, name: String, now: Date, registering: Bool) throws {
        let seconds = now.timeIntervalSince1970
        try db.cachedStatement(
            sql: registering
                ? """
                INSERT INTO node (name, registered_at, last_heartbeat) VALUES (?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET registered_at = excluded.registered_at, last_heartbeat = excluded.last_heartbeat
                """
                : """
                INSERT INTO node (name, registered_at, last_heartbeat) VALUES (?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET last_heartbeat = excluded.last_heartbeat
                """
        ).execute(arguments: [name, seconds, seconds])
    }

    /// Every node known, with its last heartbeat and the jobs it holds a current lease on (``NodeRegistry/nodes(now:)``
    /// for synchronous readers such as `hotfolder status`).
    public func nodeList(now: Date) throws -> [NodeStatus] {
        try read("list the nodes") { db in try Self.fetchNodes(db, now: now) }
    }

    static func fetchNodes(_ db: Database, now: Date) throws -> [NodeStatus] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT name, registered_at, last_heartbeat,
                        (SELECT COUNT(*) FROM job WHERE lease_owner = node.name AND lease_until >= ?)
                    FROM node ORDER BY name
                    """),
            arguments: [now.timeIntervalSince1970]
        ).map { row in
            NodeStatus(name: row[0], registeredAt: date(row[1]), lastHeartbeat: date(row[2]), jobsHeld: row[3])
        }
    }
}
