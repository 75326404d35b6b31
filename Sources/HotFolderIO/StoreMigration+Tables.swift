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
        var optional: Bool

        /// A column whose PostgreSQL name is the SQLite name in snake case unless `target` says otherwise.
        init(_ source: String, _ kind: Kind, optional: Bool = false, target: String? = nil) {
            (self.source, self.kind, self.optional) = (source, kind, optional)
            self.target = target ?? StoreMigration.snakeCased(source)
        }
    }

    /// One table copied: SQLite's rows in `rowid` order, inserted with the same surrogate ids.
    struct Table: Sendable {
        var source: String
        var target: String
        var columns: [Column]
        /// The `bigserial` column whose sequence must continue after the copied values.
        var serial: String?

        /// A table whose PostgreSQL name is the SQLite name in snake case.
        init(_ source: String, columns: [Column], serial: String? = nil) {
            (self.source, self.target, self.columns, self.serial) = (source, StoreMigration.snakeCased(source), columns, serial)
        }
    }

    /// pg-v1's name for a SQLite name: `nextAttemptAt` → `next_attempt_at`, `videoURL` → `video_url`,
    /// `resultJSON` → `result_json`; a name already in snake case stays as it is.
    static func snakeCased(_ name: String) -> String {
        var out = ""
        var previous: Character?
        for character in name {
            if character.isUppercase, let previous, previous.isLowercase || previous.isNumber { out += "_" }
            out += character.lowercased()
            previous = character
        }
        return out
    }

    /// The tables of the PostgreSQL schema that are copied, parents first (the foreign keys need the job rows first).
    ///
    /// Deliberate differences between the two schemas:
    /// - `job.seq` (PostgreSQL's insertion order) is SQLite's `rowid`, so equal priorities are still claimed in the
    ///   order the node inserted them; surrogate ids (`input_file.id`, `task.id`, `event.id`, `spend.id`,
    ///   `notification.id`) keep their values, so a delivery's `event_id` still names its event; each sequence then
    ///   continues after the largest copied value.
    /// - `job.lease_owner`, `lease_until` and `lease_generation` are not copied: they are reset (NULL, NULL, 0), so
    ///   any node can claim the job; the node that held them has stopped (the migration holds its state lock).
    /// - `task.active` is SQLite's 0/1 integer, PostgreSQL's boolean.
    /// - `job.prompt` (pg-v3, the dashboard's search) is read from the job's description, as SQLite's search index
    ///   reads it: the text of `request.prompt`, else NULL.
    /// - `job.film_id`, `reuse_key` and `output_path` link clips to their `film` and to clips made before, as in
    ///   SQLite.
    /// - Every other name is the SQLite name in snake case (``snakeCased(_:)``): `inputFile.movedTo` is
    ///   `input_file.moved_to`.
    static let tables: [Table] = [
        Table(
            "job",
            columns: [
                Column("rowid", .integer, target: "seq"),
                Column("id", .uuid),
                Column("name", .text),
                Column("lane", .text),
                Column("state", .jobState),
                Column("failureCategory", .text, optional: true),
                Column("failureMessage", .text, optional: true),
                Column("priority", .integer),
                Column("createdAt", .real),
                Column("updatedAt", .real),
                Column("specJSON", .blob),
                Column("attempts", .integer),
                Column("nextAttemptAt", .real, optional: true),
                Column("outputPath", .text, optional: true),
                Column("counters", .text, optional: true),
                Column("pendingDisposal", .text, optional: true),
                Column("specVersion", .integer),
                Column("filmId", .uuid, optional: true),
                Column("reuseKey", .text, optional: true),
                Column("drop_key", .text, optional: true),
                Column(
                    """
                    CASE WHEN json_valid(CAST(specJSON AS TEXT))
                        AND json_type(CAST(specJSON AS TEXT), '$.request.prompt') = 'text'
                    THEN json_extract(CAST(specJSON AS TEXT), '$.request.prompt') END
                    """, .text, optional: true, target: "prompt"),
            ],
            serial: "seq"),
        Table(
            "film",
            columns: [
                Column("id", .uuid),
                Column("name", .text),
                Column("lane", .text),
                Column("folder", .text),
                Column("clips", .integer),
                Column("state", .text),
                Column("outputPath", .text, optional: true),
                Column("message", .text, optional: true),
                Column("createdAt", .real),
                Column("updatedAt", .real),
            ]),
        Table(
            "inputFile",
            columns: [
                Column("id", .integer),
                Column("jobId", .uuid),
                Column("path", .text),
                Column("device", .integer),
                Column("inode", .integer),
                Column("size", .integer),
                Column("mtimeNs", .integer),
                Column("sha256", .text),
                Column("movedTo", .text, optional: true),
            ],
            serial: "id"),
        Table(
            "task",
            columns: [
                Column("id", .integer),
                Column("jobId", .uuid),
                Column("provider", .text),
                Column("taskId", .text),
                Column("status", .text),
                Column("progress", .integer, optional: true),
                Column("videoURL", .text, optional: true),
                Column("expiresAt", .real, optional: true),
                Column("estimatedTime", .integer, optional: true),
                Column("errorMessage", .text, optional: true),
                Column("resultJSON", .blob, optional: true),
                Column("submittedAt", .real),
                Column("updatedAt", .real),
                Column("pollCount", .integer),
                Column("nextPollAt", .real, optional: true),
                Column("active", .boolean),
            ],
            serial: "id"),
        Table(
            "event",
            columns: [
                Column("id", .integer),
                Column("jobId", .uuid),
                Column("at", .real),
                Column("kind", .text),
                Column("fromState", .text, optional: true),
                Column("toState", .text, optional: true),
                Column("message", .text, optional: true),
            ],
            serial: "id"),
        Table(
            "spend",
            columns: [
                Column("id", .integer),
                Column("jobId", .uuid),
                Column("lane", .text),
                Column("day", .text),
                Column("month", .text),
                Column("estimate", .real),
                Column("tokens", .integer),
                Column("amount", .real),
                Column("state", .text),
                Column("reservedAt", .real),
                Column("settledAt", .real, optional: true),
            ],
            serial: "id"),
        Table(
            "budgetOverride",
            columns: [
                Column("cap", .text),
                Column("value", .real, optional: true),
                Column("setAt", .real),
            ]),
        Table(
            "budgetAlert",
            columns: [
                Column("cap", .text),
                Column("period", .text),
                Column("fraction", .real),
                Column("used", .real),
                Column("cap_limit", .real),
                Column("at", .real),
                Column("announcedAt", .real, optional: true),
            ]),
        Table(
            "drop_key",
            columns: [
                Column("key", .text),
                Column("inserted_at", .real),
            ]),
        Table(
            "notification",
            columns: [
                Column("id", .integer),
                Column("eventId", .text),
                Column("type", .text),
                Column("target", .text),
                Column("label", .text),
                Column("body", .blob),
                Column("createdAt", .real),
                Column("attempts", .integer),
                Column("nextAttemptAt", .real, optional: true),
                Column("deliveredAt", .real, optional: true),
                Column("abandonedAt", .real, optional: true),
                Column("lastError", .text, optional: true),
            ],
            serial: "id"),
        Table(
            "notificationStall",
            columns: [
                Column("jobId", .uuid),
                Column("since", .real),
                Column("at", .real),
            ]),
    ]

    /// SQLite's tables that the PostgreSQL schema has no place for, and why leaving them behind loses nothing that
    /// costs money.
    /// (`jobCount` and `jobSearch` are derived from `job` by triggers: PostgreSQL counts and searches `job` itself.)
    static let leftBehind: [(table: String, why: String)] = [
        ("upload", "the upload cache: its links expire, and a node uploads an image again when it needs one"),
        ("node", "this node's registration: every node registers itself when it starts on PostgreSQL"),
        ("queue_pause", "the queue's pause: the first create call refused on PostgreSQL pauses it again, before any charge"),
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
