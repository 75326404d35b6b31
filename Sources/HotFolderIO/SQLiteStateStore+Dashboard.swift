// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore

/// One row of the dashboard's job list: the job's columns the list shows, its model and prompt, and its task's
/// progress (one indexed query per page, never one per row).
public struct JobListRow: Sendable, Hashable {
    /// The job.
    public var job: StoredJob
    /// `fast` or `quality`, from the request it describes.
    public var model: String?
    /// The prompt it sends.
    public var prompt: String?
    /// The active task's percent done.
    public var progress: Int?
    /// The active task's provider status.
    public var taskStatus: String?

    /// Creates a row.
    public init(job: StoredJob, model: String?, prompt: String?, progress: Int?, taskStatus: String?) {
        self.job = job
        self.model = model
        self.prompt = prompt
        self.progress = progress
        self.taskStatus = taskStatus
    }
}

/// A page of jobs, newest first, and the cursor of the next page (nil on the last one).
public struct JobListPage: Sendable, Hashable {
    /// The jobs on this page.
    public var rows: [JobListRow]
    /// Pass it back as `cursor` for the next (older) page.
    public var nextCursor: String?
}

/// What the dashboard's job list is filtered by.
public struct JobListFilter: Sendable, Hashable {
    /// Only jobs in these states (all when empty).
    public var states: [JobState] = []
    /// Only jobs of this lane (`""` is the inbox itself); nil: every lane.
    public var lane: String?
    /// Text found in the name or the prompt, case-insensitive (3 characters or more through the trigram index).
    public var query: String?

    /// Creates a filter.
    public init(states: [JobState] = [], lane: String? = nil, query: String? = nil) {
        self.states = states
        self.lane = lane
        self.query = query
    }
}

extension SQLiteStateStore {
    /// A page of at most `limit` jobs matching `filter`, newest first, after `cursor` (from the previous page).
    ///
    /// Paged by `(createdAt, rowid)` on the `job_created`, `job_state_created` and `job_lane_created` indexes, so a
    /// page costs the same at the 100,000th job as at the first. A search reads the `jobSearch` full-text index.
    public func jobPage(_ filter: JobListFilter, cursor: String?, limit: Int) throws -> JobListPage {
        let limit = max(1, min(limit, 500))
        let states = Array(Set(filter.states)).sorted { $0.rawValue < $1.rawValue }
        guard states.count > 1 else { return try jobPage(filter, state: states.first, cursor: cursor, limit: limit) }
        // One indexed, ordered read per state, merged: `state IN (…) ORDER BY createdAt` would sort every match.
        var rows: [(row: JobListRow, key: (Double, Int64))] = []
        for state in states {
            rows += try jobRows(filter, state: state, cursor: cursor, limit: limit + 1)
        }
        rows.sort { $0.key.0 != $1.key.0 ? $0.key.0 > $1.key.0 : $0.key.1 > $1.key.1 }
        let page = rows.prefix(limit)
        let next = rows.count > limit ? page.last.map { Self.encodeCursor($0.key.0, $0.key.1) } : nil
        return JobListPage(rows: page.map(\.row), nextCursor: next)
    }

    private func jobPage(_ filter: JobListFilter, state: JobState?, cursor: String?, limit: Int) throws -> JobListPage {
        let rows = try jobRows(filter, state: state, cursor: cursor, limit: limit + 1)
        let page = rows.prefix(limit)
        let next = rows.count > limit ? page.last.map { Self.encodeCursor($0.key.0, $0.key.1) } : nil
        return JobListPage(rows: page.map(\.row), nextCursor: next)
    }

    /// Up to `limit` rows, newest first, with their paging keys.
    private func jobRows(_ filter: JobListFilter, state: JobState?, cursor: String?, limit: Int) throws
        -> [(row: JobListRow, key: (Double, Int64))]
    {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let state {
            conditions.append("job.state = ?")
            arguments += [state.rawValue]
        }
        if let lane = filter.lane {
            conditions.append("job.lane = ?")
            arguments += [lane]
        }
        if let cursor {
            guard let (createdAt, rowid) = Self.decodeCursor(cursor) else { throw StateStoreError.badCursor(cursor) }
            conditions.append("(job.createdAt, job.rowid) < (?, ?)")
            arguments += [createdAt, rowid]
        }
        let select = { (conditions: [String]) in
            """
            SELECT \(Self.jobColumns), job.rowid,
                json_extract(CAST(job.specJSON AS TEXT), '$.request.model'),
                json_extract(CAST(job.specJSON AS TEXT), '$.request.prompt'),
                task.progress, task.status
            FROM job LEFT JOIN task ON task.jobId = job.id AND task.active = 1
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY job.createdAt DESC, job.rowid DESC LIMIT ?
            """
        }
        let fetch = { (db: Database, conditions: [String], arguments: StatementArguments) in
            try Row.fetchAll(db, sql: select(conditions), arguments: arguments + [limit]).map { row in
                let job = try Self.decodeJob(row)
                let createdAt: Double = row[7]
                let rowid: Int64 = row[16]
                return (JobListRow(job: job, model: row[17], prompt: row[18], progress: row[19], taskStatus: row[20]), (createdAt, rowid))
            }
        }
        let term = SearchTerm(filter.query)
        return try read("list jobs for the dashboard") { db in
            guard let term else { return try fetch(db, conditions, arguments) }
            let search = try searchCondition(db, term: term, conditions: conditions, arguments: arguments, limit: limit)
            let rows = try fetch(db, conditions + [search.condition], arguments + search.arguments)
            if search.complete || rows.count >= limit { return rows }
            return try fetch(db, conditions + ["job.rowid IN (\(term.matchingRowids(false)))"], arguments + term.arguments)
        }
    }

    /// How many jobs reached `done` in each hour of the 24 before `now` (index 0 is the oldest hour).
    public func finishedPerHour(now: Date? = nil) throws -> [Int] {
        let end = (now ?? clock()).timeIntervalSince1970
        let start = end - 24 * 3600
        return try read("count finished jobs per hour") { db in
            var hours = [Int](repeating: 0, count: 24)
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT CAST((updatedAt - ?) / 3600 AS INTEGER), COUNT(*) FROM job INDEXED BY job_state_updated
                        WHERE state = 'done' AND updatedAt >= ? AND updatedAt < ? GROUP BY 1
                        """),
                arguments: [start, start, end])
            for row in rows {
                let hour: Int = row[0]
                if hours.indices.contains(hour) { hours[hour] = row[1] }
            }
            return hours
        }
    }

    /// The lanes jobs were dropped in, sorted (for the job list's filter).
    public func lanes(limit: Int = 200) throws -> [String] {
        try read("list lanes") { db in
            try String.fetchAll(db.cachedStatement(sql: "SELECT DISTINCT lane FROM job INDEXED BY job_lane_created ORDER BY lane LIMIT ?"), arguments: [limit])
        }
    }

    /// How many tasks are in flight now (active tasks).
    public func activeTaskCount() throws -> Int {
        try read("count tasks in flight") { db in
            try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM task WHERE active = 1")) ?? 0
        }
    }

    /// Whether the database takes a write now (for `/readyz`): an empty immediate transaction.
    public func isWritable() -> Bool {
        (try? write("check that the database is writable") { _ in true }) ?? false
    }

    static func encodeCursor(_ createdAt: Double, _ rowid: Int64) -> String {
        "\(createdAt.bitPattern)-\(rowid)"
    }

    static func decodeCursor(_ text: String) -> (Double, Int64)? {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let bits = UInt64(parts[0]), let rowid = Int64(parts[1]) else { return nil }
        let createdAt = Double(bitPattern: bits)
        guard createdAt.isFinite else { return nil }
        return (createdAt, rowid)
    }
}
