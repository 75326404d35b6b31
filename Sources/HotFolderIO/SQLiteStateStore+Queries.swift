// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore

extension SQLiteStateStore {
    /// Up to `limit` `ready` jobs whose backoff has passed at `now`, highest priority first, then oldest first.
    public func nextQueued(limit: Int, now: Date? = nil) throws -> [StoredJob] {
        let now = now ?? clock()
        return try read("read the queue") { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(Self.jobColumns) FROM job
                        WHERE state = 'ready' AND (nextAttemptAt IS NULL OR nextAttemptAt <= ?)
                        ORDER BY priority DESC, createdAt, rowid LIMIT ?
                        """),
                arguments: [now.timeIntervalSince1970, limit]
            ).map(Self.decodeJob)
        }
    }

    /// When the next `ready` job that waits for its backoff becomes due (after `now`); nil when none waits.
    ///
    /// The dispatcher sleeps until then instead of asking the queue again and again.
    public func nextRetryTime(after now: Date? = nil) throws -> Date? {
        let now = now ?? clock()
        return try read("read the next retry time") { db in
            // By the backoff index: the queue index would visit every queued job.
            try Double.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT nextAttemptAt FROM job INDEXED BY job_due
                        WHERE nextAttemptAt > ? AND state = 'ready' ORDER BY nextAttemptAt LIMIT 1
                        """),
                arguments: [now.timeIntervalSince1970]
            ).map(Self.date)
        }
    }

    /// When the next status call or download of a task in flight is due; nil when no task is in flight.
    ///
    /// A task never polled yet counts as due at once. The poller sleeps until then. (A task is active exactly
    /// while its job is in flight, so the task table alone answers, from its poll index.)
    public func nextPollTime() throws -> Date? {
        try read("read the next poll time") { db in
            let neverPolled = try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM task WHERE active = 1 AND nextPollAt IS NULL)")) ?? false
            if neverPolled { return Date(timeIntervalSince1970: 0) }
            return try Double.fetchOne(db.cachedStatement(sql: "SELECT MIN(nextPollAt) FROM task WHERE active = 1")).map(Self.date)
        }
    }

    /// Jobs that are not terminal and whose `nextAttemptAt` has passed at `now`, earliest first.
    public func jobsDue(now: Date? = nil) throws -> [StoredJob] {
        let now = now ?? clock()
        let terminal = JobState.allCases.filter(\.isTerminal).map(\.rawValue)
        return try read("read the jobs due") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.jobColumns) FROM job
                    WHERE nextAttemptAt IS NOT NULL AND nextAttemptAt <= ? AND state NOT IN \(Self.list(terminal))
                    ORDER BY nextAttemptAt, rowid
                    """,
                arguments: [now.timeIntervalSince1970]
            ).map(Self.decodeJob)
        }
    }

    /// Jobs in any of `states`, oldest first, at most `limit` (all when nil).
    public func jobs(inStates states: Set<JobState>, limit: Int? = nil) throws -> [StoredJob] {
        guard !states.isEmpty else { return [] }
        let names = states.map(\.rawValue).sorted()
        return try read("list jobs") { db in
            try Row.fetchAll(
                db,
                sql: Self.jobsInStatesSQL(names),
                arguments: [limit ?? -1]
            ).map(Self.decodeJob)
        }
    }

    /// Jobs a person means by `query`: a full id, an id prefix (at least 4 characters), or an exact name.
    public func findJobs(_ query: String) throws -> [StoredJob] {
        let query = query.trimmingCharacters(in: .whitespaces)
        guard !query.isEmpty else { return [] }
        let lower = query.lowercased()
        let isIDPrefix = lower.count >= 4 && lower.allSatisfy { $0.isHexDigit || $0 == "-" }
        return try read("find jobs") { db in
            var sql = "SELECT \(Self.jobColumns) FROM job WHERE name = ?"
            var arguments: StatementArguments = [query]
            if isIDPrefix {
                // The id column is lowercase ASCII, so a range scan on the primary key finds the prefix.
                sql += " OR (id >= ? AND id < ?)"
                arguments += [lower, lower + "\u{7F}"]
            }
            sql += " ORDER BY createdAt, rowid"
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.decodeJob)
        }
    }

    /// How many jobs are in each state (states without jobs are absent).
    public func countsByState() throws -> [JobState: Int] {
        try read("count jobs") { db in
            var counts: [JobState: Int] = [:]
            // Kept by triggers (migration v4-scale): counting the jobs themselves reads every job ever made.
            for row in try Row.fetchAll(db, sql: "SELECT state, n FROM jobCount WHERE n > 0") {
                if let state = try Self.state(row[0], table: "job", column: "state") {
                    counts[state] = row[1]
                }
            }
            return counts
        }
    }

    /// The latest failed and invalid jobs (`recentFailures`). Without `INDEXED BY`, SQLite takes `job_lease`
    /// (`state, lease_until`) just as well and then reads every failed job's row to sort them.
    static let recentFailuresSQL = """
        SELECT \(jobColumns) FROM job INDEXED BY job_state_updated WHERE state IN ('failed', 'invalid')
        ORDER BY updatedAt DESC, rowid DESC LIMIT ?
        """

    /// Jobs in the states `names`, oldest first (`jobs(inStates:)`); `INDEXED BY` as in ``recentFailuresSQL``.
    static func jobsInStatesSQL(_ names: [String]) -> String {
        "SELECT \(jobColumns) FROM job INDEXED BY job_state_created WHERE state IN \(list(names)) ORDER BY createdAt, rowid LIMIT ?"
    }

    /// The latest `failed` and `invalid` jobs, most recent first.
    public func recentFailures(limit: Int) throws -> [StoredJob] {
        try read("read recent failures") { db in
            try Row.fetchAll(db, sql: Self.recentFailuresSQL, arguments: [limit]
            ).map(Self.decodeJob)
        }
    }

    /// A job's history, oldest first.
    public func events(_ jobID: UUID) throws -> [StoredEvent] {
        try read("read events") { db in
            // Cached statements: the runner reads these for every job, and preparing the SQL each time cost more
            // than running it.
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT id, jobId, at, kind, fromState, toState, message FROM event WHERE jobId = ? ORDER BY id"),
                arguments: [jobID.lowercasedString]
            ).map(Self.decodeEvent)
        }
    }

    /// A job's input files, in the order they were inserted.
    public func inputs(ofJob jobID: UUID) throws -> [StoredInput] {
        try read("read inputs") { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT \(Self.inputColumns) FROM inputFile WHERE jobId = ? ORDER BY id"),
                arguments: [jobID.lowercasedString]
            ).map { Self.decodeInput($0) }
        }
    }

    /// Where each of a job's inputs was moved (the archive, a failed folder), in the order of ``inputs(ofJob:)``;
    /// nil for an input not moved (still in the inbox, kept, deleted, or moved before v5 recorded it).
    public func inputDestinations(ofJob jobID: UUID) throws -> [String?] {
        try read("read where inputs went") { db in
            try Row.fetchAll(db, sql: "SELECT movedTo FROM inputFile WHERE jobId = ? ORDER BY id", arguments: [jobID.lowercasedString])
                .map { $0[0] }
        }
    }

    /// Inputs of any job with this identity (device, inode, size, mtime) and, when given, this content hash.
    ///
    /// A restart uses it to skip files that already became jobs; the job state tells whether a match is a
    /// finished job or, say, a failed job's file moved back into the inbox to retry.
    public func knownInputs(_ identity: InputIdentity, sha256: String? = nil) throws -> [KnownInput] {
        var sql = """
            SELECT \(Self.inputColumns), inputFile.jobId, job.state FROM inputFile JOIN job ON job.id = inputFile.jobId
            WHERE inputFile.device = ? AND inputFile.inode = ? AND inputFile.size = ? AND inputFile.mtimeNs = ?
            """
        var arguments: StatementArguments = [
            Int64(bitPattern: identity.device), Int64(bitPattern: identity.inode), identity.size, identity.mtimeNs,
        ]
        if let sha256 {
            sql += " AND inputFile.sha256 = ?"
            arguments += [sha256]
        }
        return try fetchKnown(sql + " ORDER BY inputFile.id", arguments)
    }

    /// Inputs of any job with this content hash, whatever their identity (a copy of a file already used).
    public func knownInputs(sha256: String) throws -> [KnownInput] {
        try fetchKnown(
            """
            SELECT \(Self.inputColumns), inputFile.jobId, job.state FROM inputFile JOIN job ON job.id = inputFile.jobId
            WHERE inputFile.sha256 = ? ORDER BY inputFile.id
            """, [sha256])
    }

    func fetchKnown(_ sql: String, _ arguments: StatementArguments) throws -> [KnownInput] {
        try read("look up known inputs") { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                KnownInput(
                    jobID: try Self.uuid(row[6], table: "inputFile"),
                    jobState: try Self.state(row[7], table: "job", column: "state")!,
                    input: Self.decodeInput(row))
            }
        }
    }

    /// `('a', 'b')` for a list of known identifiers (state raw values: never user input).
    static func list(_ values: [String]) -> String {
        "(" + values.map { "'\($0)'" }.joined(separator: ", ") + ")"
    }
}
