// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import PostgresNIO

/// The dashboard's reads on PostgreSQL, with the semantics of SQLiteStateStore+Dashboard.swift: pages newest first by
/// `(created_at, seq)` (the indexes of pg-v3-films-stalls), a cursor SQLite's format with `seq` for the rowid.
extension PostgresStateStore: DashboardQueries {
    public func jobListPage(_ filter: JobListFilter, cursor: String?, limit: Int) async throws -> JobListPage {
        let limit = max(1, min(limit, 500))
        // Our own constant text with numbered parameters: no user input is spliced into the statement.
        var conditions: [String] = []
        var binds = PostgresBindings()
        func parameter() -> String { "$\(binds.count)" }
        let states = Array(Set(filter.states.map(\.rawValue))).sorted()
        if !states.isEmpty {
            binds.append(states)
            conditions.append("job.state = ANY(\(parameter()))")
        }
        if let lane = filter.lane {
            binds.append(lane)
            conditions.append("job.lane = \(parameter())")
        }
        if let cursor {
            guard let (createdAt, seq) = SQLiteStateStore.decodeCursor(cursor) else { throw StateStoreError.badCursor(cursor) }
            binds.append(createdAt)
            let first = parameter()
            binds.append(seq)
            conditions.append("(job.created_at, job.seq) < (\(first), \(parameter()))")
        }
        if let text = filter.query?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            // Case-insensitive substrings of the name or the prompt, as SQLite's trigram index finds them.
            let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_")
            binds.append("%" + escaped + "%")
            conditions.append("(job.name ILIKE \(parameter()) OR job.prompt ILIKE \(parameter()))")
        }
        binds.append(limit + 1)
        let sql = """
            SELECT \(Self.jobColumns), job.seq, task.progress, task.status
            FROM job LEFT JOIN task ON task.job_id = job.id AND task.active
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY job.created_at DESC, job.seq DESC LIMIT \(parameter())
            """
        let query = PostgresQuery(unsafeSQL: sql, binds: binds)
        return try await call("list jobs for the dashboard") { connection in
            let rows = try await self.rows(connection, query).map { row in
                let job = try Self.decodeJob(row)
                let facts = Self.specFacts(job.specJSON)
                return (
                    row: JobListRow(
                        job: job, model: facts.model, prompt: facts.prompt, progress: try row[17].decode(Int?.self),
                        taskStatus: try row[18].decode(String?.self)),
                    key: (job.createdAt.timeIntervalSince1970, try row[16].decode(Int64.self))
                )
            }
            let page = rows.prefix(limit)
            let next = rows.count > limit ? page.last.map { SQLiteStateStore.encodeCursor($0.key.0, $0.key.1) } : nil
            return JobListPage(rows: page.map(\.row), nextCursor: next)
        }
    }

    public func finishedEachHour(now: Date) async throws -> [Int] {
        let end = now.timeIntervalSince1970
        let start = end - 24 * 3600
        return try await call("count finished jobs per hour") { connection in
            var hours = [Int](repeating: 0, count: 24)
            for row in try await self.rows(
                connection,
                """
                SELECT floor((updated_at - \(start)) / 3600)::bigint, COUNT(*) FROM job
                WHERE state = 'done' AND updated_at >= \(start) AND updated_at < \(end) GROUP BY 1
                """)
            {
                let hour = try row[0].decode(Int.self)
                if hours.indices.contains(hour) { hours[hour] = try row[1].decode(Int.self) }
            }
            return hours
        }
    }

    public func laneNames(limit: Int) async throws -> [String] {
        try await call("list lanes") { connection in
            // Sorted by bytes, as SQLite sorts them, whatever the database's collation.
            try await self.rows(
                connection, #"SELECT DISTINCT lane COLLATE "C" FROM job ORDER BY 1 LIMIT \#(limit)"#
            ).map { try $0[0].decode(String.self) }
        }
    }

    /// Whether a write would go through now: the server answers, within the call's deadline, and is not read-only
    /// (a standby, or `default_transaction_read_only`).
    public func canWrite() async -> Bool {
        (try? await call("check that the database is writable") { connection in
            try await self.rows(connection, "SHOW transaction_read_only").first?[0].decode(String.self) == "off"
        }) ?? false
    }
}
