// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore
import PostgresNIO

extension StoreMigration {
    /// How one column's SQLite value becomes a PostgreSQL parameter.
    enum Kind: Sendable {
        case text, integer, real, blob, uuid, boolean, jobState
    }

    /// One column: the SQLite expression read, the PostgreSQL column written, and whether NULL is allowed.
    struct Column: Sendable {
        var source: String
        var target: String
        var kind: Kind
        var optional = false
    }

    /// One table copied: SQLite's rows in `rowid` order, inserted with the same surrogate ids.
    struct Table: Sendable {
        var source: String
        var target: String
        var columns: [Column]
        /// The `bigserial` column whose sequence must continue after the copied values.
        var serial: String?
    }

    /// The tables of pg-v1 that are copied, parents first (the foreign keys need the job rows first).
    ///
    /// Deliberate differences between the two schemas:
    /// - `job.seq` (PostgreSQL's insertion order) is SQLite's `rowid`, so equal priorities are still claimed in the
    ///   order the node inserted them; surrogate ids (`input_file.id`, `task.id`, `event.id`, `spend.id`,
    ///   `notification.id`) keep their values, so a delivery's `event_id` still names its event; each sequence then
    ///   continues after the largest copied value.
    /// - `job.lease_owner`, `lease_until` and `lease_generation` are not copied: they are reset (NULL, NULL, 0), so
    ///   any node can claim the job; the node that held them has stopped (the migration holds its state lock).
    /// - `task.active` is SQLite's 0/1 integer, PostgreSQL's boolean.
    /// - `inputFile.movedTo` is `input_file.moved_to`; other camel-case names become snake case.
    static let tables: [Table] = [
        Table(
            source: "job", target: "job",
            columns: [
                Column(source: "rowid", target: "seq", kind: .integer),
                Column(source: "id", target: "id", kind: .uuid),
                Column(source: "name", target: "name", kind: .text),
                Column(source: "lane", target: "lane", kind: .text),
                Column(source: "state", target: "state", kind: .jobState),
                Column(source: "failureCategory", target: "failure_category", kind: .text, optional: true),
                Column(source: "failureMessage", target: "failure_message", kind: .text, optional: true),
                Column(source: "priority", target: "priority", kind: .integer),
                Column(source: "createdAt", target: "created_at", kind: .real),
                Column(source: "updatedAt", target: "updated_at", kind: .real),
                Column(source: "specJSON", target: "spec_json", kind: .blob),
                Column(source: "attempts", target: "attempts", kind: .integer),
                Column(source: "nextAttemptAt", target: "next_attempt_at", kind: .real, optional: true),
                Column(source: "outputPath", target: "output_path", kind: .text, optional: true),
                Column(source: "counters", target: "counters", kind: .text, optional: true),
                Column(source: "pendingDisposal", target: "pending_disposal", kind: .text, optional: true),
                Column(source: "specVersion", target: "spec_version", kind: .integer),
                Column(source: "filmId", target: "film_id", kind: .uuid, optional: true),
                Column(source: "reuseKey", target: "reuse_key", kind: .text, optional: true),
                Column(source: "drop_key", target: "drop_key", kind: .text, optional: true),
            ],
            serial: "seq"),
        Table(
            source: "inputFile", target: "input_file",
            columns: [
                Column(source: "id", target: "id", kind: .integer),
                Column(source: "jobId", target: "job_id", kind: .uuid),
                Column(source: "path", target: "path", kind: .text),
                Column(source: "device", target: "device", kind: .integer),
                Column(source: "inode", target: "inode", kind: .integer),
                Column(source: "size", target: "size", kind: .integer),
                Column(source: "mtimeNs", target: "mtime_ns", kind: .integer),
                Column(source: "sha256", target: "sha256", kind: .text),
                Column(source: "movedTo", target: "moved_to", kind: .text, optional: true),
            ],
            serial: "id"),
        Table(
            source: "task", target: "task",
            columns: [
                Column(source: "id", target: "id", kind: .integer),
                Column(source: "jobId", target: "job_id", kind: .uuid),
                Column(source: "provider", target: "provider", kind: .text),
                Column(source: "taskId", target: "task_id", kind: .text),
                Column(source: "status", target: "status", kind: .text),
                Column(source: "progress", target: "progress", kind: .integer, optional: true),
                Column(source: "videoURL", target: "video_url", kind: .text, optional: true),
                Column(source: "expiresAt", target: "expires_at", kind: .real, optional: true),
                Column(source: "estimatedTime", target: "estimated_time", kind: .integer, optional: true),
                Column(source: "errorMessage", target: "error_message", kind: .text, optional: true),
                Column(source: "resultJSON", target: "result_json", kind: .blob, optional: true),
                Column(source: "submittedAt", target: "submitted_at", kind: .real),
                Column(source: "updatedAt", target: "updated_at", kind: .real),
                Column(source: "pollCount", target: "poll_count", kind: .integer),
                Column(source: "nextPollAt", target: "next_poll_at", kind: .real, optional: true),
                Column(source: "active", target: "active", kind: .boolean),
            ],
            serial: "id"),
        Table(
            source: "event", target: "event",
            columns: [
                Column(source: "id", target: "id", kind: .integer),
                Column(source: "jobId", target: "job_id", kind: .uuid),
                Column(source: "at", target: "at", kind: .real),
                Column(source: "kind", target: "kind", kind: .text),
                Column(source: "fromState", target: "from_state", kind: .text, optional: true),
                Column(source: "toState", target: "to_state", kind: .text, optional: true),
                Column(source: "message", target: "message", kind: .text, optional: true),
            ],
            serial: "id"),
        Table(
            source: "spend", target: "spend",
            columns: [
                Column(source: "id", target: "id", kind: .integer),
                Column(source: "jobId", target: "job_id", kind: .uuid),
                Column(source: "lane", target: "lane", kind: .text),
                Column(source: "day", target: "day", kind: .text),
                Column(source: "month", target: "month", kind: .text),
                Column(source: "estimate", target: "estimate", kind: .real),
                Column(source: "tokens", target: "tokens", kind: .integer),
                Column(source: "amount", target: "amount", kind: .real),
                Column(source: "state", target: "state", kind: .text),
                Column(source: "reservedAt", target: "reserved_at", kind: .real),
                Column(source: "settledAt", target: "settled_at", kind: .real, optional: true),
            ],
            serial: "id"),
        Table(
            source: "budgetOverride", target: "budget_override",
            columns: [
                Column(source: "cap", target: "cap", kind: .text),
                Column(source: "value", target: "value", kind: .real, optional: true),
                Column(source: "setAt", target: "set_at", kind: .real),
            ]),
        Table(
            source: "budgetAlert", target: "budget_alert",
            columns: [
                Column(source: "cap", target: "cap", kind: .text),
                Column(source: "period", target: "period", kind: .text),
                Column(source: "fraction", target: "fraction", kind: .real),
                Column(source: "used", target: "used", kind: .real),
                Column(source: "cap_limit", target: "cap_limit", kind: .real),
                Column(source: "at", target: "at", kind: .real),
                Column(source: "announcedAt", target: "announced_at", kind: .real, optional: true),
            ]),
        Table(
            source: "drop_key", target: "drop_key",
            columns: [
                Column(source: "key", target: "key", kind: .text),
                Column(source: "inserted_at", target: "inserted_at", kind: .real),
            ]),
        Table(
            source: "notification", target: "notification",
            columns: [
                Column(source: "id", target: "id", kind: .integer),
                Column(source: "eventId", target: "event_id", kind: .text),
                Column(source: "type", target: "type", kind: .text),
                Column(source: "target", target: "target", kind: .text),
                Column(source: "label", target: "label", kind: .text),
                Column(source: "body", target: "body", kind: .blob),
                Column(source: "createdAt", target: "created_at", kind: .real),
                Column(source: "attempts", target: "attempts", kind: .integer),
                Column(source: "nextAttemptAt", target: "next_attempt_at", kind: .real, optional: true),
                Column(source: "deliveredAt", target: "delivered_at", kind: .real, optional: true),
                Column(source: "abandonedAt", target: "abandoned_at", kind: .real, optional: true),
                Column(source: "lastError", target: "last_error", kind: .text, optional: true),
            ],
            serial: "id"),
    ]

    /// SQLite's tables that pg-v1 has no place for, and why leaving them behind loses nothing that costs money.
    /// (`jobCount` and `jobSearch` are derived from `job` by triggers: PostgreSQL counts and searches `job` itself.)
    static let leftBehind: [(table: String, why: String)] = [
        ("upload", "the upload cache: its links expire, and a node uploads an image again when it needs one"),
        ("film", "finished storyboards; pg-v1 has no film table yet (their clips are copied)"),
        ("notificationStall", "which stalled jobs were announced; stalled-job events are not made on PostgreSQL yet"),
        ("node", "this node's registration: every node registers itself when it starts on PostgreSQL"),
    ]

    /// Appends one row's values to `bindings`, in the table's column order (the row's column 0 is its rowid).
    static func bind(_ row: Row, of table: Table, into bindings: inout PostgresBindings) throws {
        for (offset, column) in table.columns.enumerated() {
            let value: DatabaseValue = row[offset + 1]
            if value.isNull {
                guard column.optional else { throw corrupt(table, column, value) }
                bindings.appendNull()
                continue
            }
            switch column.kind {
            case .text:
                guard let text = String.fromDatabaseValue(value) else { throw corrupt(table, column, value) }
                bindings.append(text)
            case .integer:
                guard let number = Int64.fromDatabaseValue(value) else { throw corrupt(table, column, value) }
                bindings.append(number)
            case .real:
                guard let number = Double.fromDatabaseValue(value) else { throw corrupt(table, column, value) }
                bindings.append(number)
            case .blob:
                // specJSON and bodies are written as BLOBs; a TEXT value (an older writer) is the same bytes.
                guard let data = Data.fromDatabaseValue(value) ?? String.fromDatabaseValue(value).map({ Data($0.utf8) })
                else { throw corrupt(table, column, value) }
                try bindings.append(data)
            case .uuid:
                guard let text = String.fromDatabaseValue(value), let id = UUID(uuidString: text) else {
                    throw corrupt(table, column, value)
                }
                bindings.append(id)
            case .boolean:
                guard let number = Int64.fromDatabaseValue(value) else { throw corrupt(table, column, value) }
                bindings.append(number != 0)
            case .jobState:
                guard let text = String.fromDatabaseValue(value), JobState(rawValue: text) != nil else {
                    throw corrupt(table, column, value)
                }
                bindings.append(text)
            }
        }
    }

    private static func corrupt(_ table: Table, _ column: Column, _ value: DatabaseValue) -> StateStoreError {
        // The value itself is shown only when short: a blob or a long text is no help in one sentence.
        let shown = value.isNull ? "NULL" : String(describing: value).prefix(60)
        return .corruptRow(table: table.source, column: column.source, value: String(shown))
    }

    /// `INSERT INTO table (columns) VALUES ($1, …), …` for `rows` rows.
    static func insertSQL(_ table: Table, rows: Int) -> String {
        let width = table.columns.count
        var sql = "INSERT INTO \(table.target) (\(table.columns.map(\.target).joined(separator: ", "))) VALUES "
        sql.reserveCapacity(sql.count + rows * width * 6)
        for row in 0..<rows {
            if row > 0 { sql += ", " }
            sql += "("
            for column in 0..<width {
                if column > 0 { sql += ", " }
                sql += "$\(row * width + column + 1)"
            }
            sql += ")"
        }
        return sql
    }

    /// `SELECT rowid, columns… FROM table WHERE rowid > ? ORDER BY rowid LIMIT ?`: one page of the source.
    static func selectSQL(_ table: Table) -> String {
        "SELECT rowid, \(table.columns.map(\.source).joined(separator: ", ")) FROM \(table.source) WHERE rowid > ? ORDER BY rowid LIMIT ?"
    }
}
