// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB

/// What the tests check about the schema itself: that the queries a job's life makes are indexed, so their cost does
/// not grow with the history.
extension SQLiteStateStore {
    /// SQLite's plan for `sql` (the `detail` column of `EXPLAIN QUERY PLAN`), e.g. `SCAN spend` or
    /// `SEARCH spend USING INDEX spend_job (jobId=?)`.
    func queryPlan(_ sql: String, arguments: [String] = []) throws -> [String] {
        try read("explain a query") { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: StatementArguments(arguments)).map { $0["detail"] }
        }
    }

    /// `table.column` for each foreign key without a full index that starts with its column: deleting a parent
    /// row (pruning the history) then scans the whole child table once per row, and so does every lookup by it.
    func foreignKeysWithoutIndex() throws -> [String] {
        try read("list foreign keys") { db in
            var missing: [String] = []
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            for table in tables {
                let quoted = table.replacingOccurrences(of: "'", with: "''")
                let columns = try String.fetchAll(db, sql: "SELECT \"from\" FROM pragma_foreign_key_list('\(quoted)')")
                guard !columns.isEmpty else { continue }
                let indexes = try Row.fetchAll(db, sql: "SELECT name, partial FROM pragma_index_list('\(quoted)')")
                var leading = Set<String>()
                for index in indexes where (index["partial"] as Int? ?? 0) == 0 {
                    let name = (index["name"] as String? ?? "").replacingOccurrences(of: "'", with: "''")
                    if let first = try String.fetchOne(db, sql: "SELECT name FROM pragma_index_info('\(name)') ORDER BY seqno LIMIT 1") {
                        leading.insert(first)
                    }
                }
                missing += columns.filter { !leading.contains($0) }.map { "\(table).\($0)" }
            }
            return missing
        }
    }
}
