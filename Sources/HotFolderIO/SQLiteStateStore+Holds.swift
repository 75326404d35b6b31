// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore

/// Which jobs hold which inbox files: a held file never starts another job; a released one (moved to
/// `failed/`) does when it is dropped again.
extension SQLiteStateStore {
    /// Calls `body` with every input still held by a job: the job's id and the file's identity.
    ///
    /// Rows are read one at a time from a cursor, paths and digests left out: at start-up an inbox of 100,000 kept
    /// inputs is loaded without holding all its rows in memory at once.
    public func forEachHeldInput(_ body: (UUID, InputIdentity) throws -> Void) throws {
        try read("list held inputs") { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT jobId, device, inode, size, mtimeNs FROM inputFile WHERE inode != -1")
            while let row = try rows.next() {
                guard let id = UUID(uuidString: row[0]) else { continue }
                try body(
                    id,
                    InputIdentity(
                        device: UInt64(bitPattern: row[1]), inode: UInt64(bitPattern: row[2]), size: row[3], mtimeNs: row[4]))
            }
        }
    }

    /// Whether some job holds a file with this identity (an index lookup).
    public func isHeld(_ identity: InputIdentity) throws -> Bool {
        try read("look up a held input") { db in
            try Bool.fetchOne(
                db.cachedStatement(
                    sql: "SELECT EXISTS (SELECT 1 FROM inputFile WHERE device = ? AND inode = ? AND size = ? AND mtimeNs = ?)"),
                arguments: [
                    Int64(bitPattern: identity.device), Int64(bitPattern: identity.inode), identity.size, identity.mtimeNs,
                ]) ?? false
        }
    }

    /// Deletes the history of finished jobs last changed before `cutoff` (with their tasks, events and inputs),
    /// oldest first, at most `limit` jobs in this one transaction, and expired uploads. A finished job that still
    /// holds inputs in the inbox (`archive_policy: keep`) stays, or its files would become new jobs; so do jobs whose
    /// inputs are still to be moved.
    ///
    /// A history of a million expired jobs (a service started after months off, or `history_days` lowered) is
    /// deleted in many short transactions rather than one that holds the writer for minutes: the caller calls again
    /// while a batch came back full.
    /// - Returns: how many jobs were deleted (`limit` when there may be more).
    @discardableResult
    public func pruneHistory(before cutoff: Date, now: Date? = nil, limit: Int = 2_000) throws -> Int {
        let now = now ?? clock()
        return try write("prune old history") { db in
            // `+state`: read the jobs by `job_updated` (only those older than the cutoff), not by state (every
            // finished job ever made, which SQLite's planner prefers otherwise).
            try db.execute(
                sql: """
                    DELETE FROM job WHERE rowid IN (
                        SELECT rowid FROM job INDEXED BY job_updated
                        WHERE +state IN ('done', 'invalid', 'failed', 'cancelled') AND updatedAt < ?
                            AND pendingDisposal IS NULL
                            AND NOT EXISTS (SELECT 1 FROM inputFile WHERE inputFile.jobId = job.id AND inputFile.inode != -1)
                        ORDER BY updatedAt LIMIT ?)
                    """,
                arguments: [cutoff.timeIntervalSince1970, max(1, limit)])
            let jobs = db.changesCount
            try db.execute(sql: "DELETE FROM upload WHERE expiresAt < ?", arguments: [now.timeIntervalSince1970])
            return jobs
        }
    }

    /// Gives a job's inputs back (its files went to `failed/`), so dropping them again makes a new job.
    public func releaseInputs(ofJob jobID: UUID) throws {
        try write("release inputs") { db in
            try db.execute(sql: "UPDATE inputFile SET device = -1, inode = -1 WHERE jobId = ?", arguments: [jobID.uuidString.lowercased()])
        }
    }

    /// The job's input paths that another job which is not finished also uses (a manifest shared by its
    /// rows, an image shared by variants): those must stay in the inbox.
    public func inputsSharedWithLiveJobs(_ jobID: UUID) throws -> [String] {
        let finished = JobState.allCases.filter { $0.isTerminal && $0 != .failed }.map { "'\($0.rawValue)'" }.joined(separator: ",")
        return try read("find shared inputs") { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT i.path FROM inputFile i
                    JOIN inputFile o INDEXED BY inputFile_path ON o.path = i.path AND o.size = i.size
                        AND o.mtimeNs = i.mtimeNs AND o.jobId != i.jobId AND o.inode != -1
                    JOIN job j ON j.id = o.jobId
                    WHERE i.jobId = ? AND i.inode != -1 AND j.state NOT IN (\(finished), 'failed')
                    """,
                arguments: [jobID.uuidString.lowercased()])
        }
    }

    /// See ``InputHolding/holders(of:)``.
    public func fileHolders(_ files: [DropKey.File]) throws -> [FileHolder] {
        guard !files.isEmpty else { return [] }
        let wanted = Set(files.map { "\($0.relativePath)\u{0}\($0.size)\u{0}\($0.mtimeNs)" })
        let paths = Array(Set(files.map(\.relativePath))).sorted()
        return try read("find the jobs holding files") { db in
            var holders: [FileHolder] = []
            for start in stride(from: 0, to: paths.count, by: 500) {
                let chunk = Array(paths[start..<min(start + 500, paths.count)])
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT i.path, i.size, i.mtimeNs, i.jobId, j.state FROM inputFile i INDEXED BY inputFile_path
                        JOIN job j ON j.id = i.jobId
                        WHERE i.path IN (\(Array(repeating: "?", count: chunk.count).joined(separator: ",")))
                            AND i.inode != -1
                        """,
                    arguments: StatementArguments(chunk))
                for row in rows {
                    let path: String = row[0]
                    let (size, mtime): (Int64, Int64) = (row[1], row[2])
                    guard wanted.contains("\(path)\u{0}\(size)\u{0}\(mtime)"), let id = UUID(uuidString: row[3]) else { continue }
                    let state = JobState(rawValue: row[4]) ?? .ready
                    holders.append(FileHolder(path: path, job: id, live: !state.isTerminal))
                }
            }
            return holders
        }
    }
}
