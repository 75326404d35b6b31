// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import Logging
import PostgresNIO

/// Moves one node's SQLite state into an empty PostgreSQL database (`hotfolder migrate --to postgres://…`, issue 12).
///
/// Every job keeps its id, state, remote tasks (a task id is money: a job whose task is lost would be paid for
/// again), history, spend rows and pending deliveries, and storyboards their films (a film still being made is joined
/// on PostgreSQL once its clips finish); leases are reset so any node can claim the jobs. The copy is
/// one PostgreSQL transaction that also checks, before it commits, that every table holds as many rows as were read
/// (and the spend the same total): either everything lands or nothing does. The SQLite database is read from one
/// snapshot and never changed (it stays as a backup).
///
/// It refuses, with one sentence and before writing anything, when a service uses the state directory
/// (``StateDirectoryLock``), when there is no state database, when it was written by a newer hotfolder, when the
/// server cannot be reached, and when the target already holds hotfolder state (a merge is never attempted).
public struct StoreMigration: Sendable {
    /// How many rows one table has (copied, or to copy in a dry run).
    public struct TableCount: Sendable, Hashable, Codable {
        /// The PostgreSQL table's name.
        public var table: String
        /// Its rows.
        public var rows: Int

        /// A count.
        public init(table: String, rows: Int) {
            self.table = table
            self.rows = rows
        }
    }

    /// A SQLite table that is not copied, and why.
    public struct LeftBehind: Sendable, Hashable, Codable {
        /// The SQLite table's name.
        public var table: String
        /// Its rows.
        public var rows: Int
        /// Why leaving it behind loses nothing that costs money.
        public var why: String
    }

    /// What a migration did, or in a dry run would do.
    public struct Report: Sendable, Hashable, Codable {
        /// The target, without its password.
        public var target: String
        /// True when nothing was written.
        public var dryRun: Bool
        /// The rows of each table copied (verified in the target), in copy order.
        public var copied: [TableCount]
        /// The SQLite tables not copied, with a row count.
        public var leftBehind: [LeftBehind]
        /// The spend copied, in US dollars (billed, reserved and released rows alike).
        public var spendTotal: Double
    }

    /// Why the migration refused or failed; one sentence that never holds the password.
    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// The state directory holds no state database.
        case noStateDatabase(path: String)
        /// The state database has migrations this hotfolder does not know.
        case newerStateDatabase(path: String)
        /// The server could not be reached, or refused the connection.
        case unreachable(server: String, reason: String)
        /// The target already holds rows in these tables.
        case targetNotEmpty(target: String, tables: [TableCount])
        /// After the copy, a table did not hold what was read (nothing was committed).
        case verificationFailed(table: String, expected: String, found: String)
        /// `hotfolder run` found the marker a completed migration leaves: this node's jobs live in PostgreSQL now.
        case movedToPostgres(marker: String)

        /// The failure as one sentence.
        public var description: String {
            switch self {
            case .noStateDatabase(let path):
                "There is no state database at \(path); check --config (or HOTFOLDER_CONFIG) and its state_dir."
            case .newerStateDatabase(let path):
                "The state database \(path) was written by a newer hotfolder; migrate it with that version."
            case .unreachable(let server, let reason):
                "Could not connect to PostgreSQL at \(server): \(reason). Nothing was written."
            case .targetNotEmpty(let target, let tables):
                "The database \(target) already holds hotfolder state (\(tables.map { "\($0.table): \($0.rows) rows" }.joined(separator: ", "))); migrate only into an empty database: drop and create it again (dropdb, createdb) or name a new one. Nothing was written."
            case .verificationFailed(let table, let expected, let found):
                "After the copy the target's \(table) held \(found), not \(expected); the transaction was rolled back and nothing was written."
            case .movedToPostgres(let marker):
                "This node's state was moved to PostgreSQL by `hotfolder migrate` (see \(marker)), and running its jobs here too would pay for them twice; run the nodes with store: in their configuration, or delete that file to go on with SQLite deliberately."
            }
        }
    }

    /// The name of the file a completed migration leaves in the state directory; `hotfolder run` refuses to start
    /// on SQLite while it is there (the jobs now live in PostgreSQL, and running them here too would pay twice).
    public static let markerFileName = "moved-to-postgresql"

    /// The state directory holding the SQLite database.
    public let stateDirectory: String
    /// The target.
    public let endpoint: PostgresEndpoint
    /// The deadline of each short call (connecting, checking); the copy has ``copyTimeout``.
    public var callTimeout: Duration = .seconds(10)
    /// The deadline of the copy's transaction.
    public var copyTimeout: Duration = .seconds(3600)
    /// The most rows one INSERT carries (and one SQLite read returns).
    public var batchRows = 1_000
    /// Silent by default: every failure reaches the caller as an error, and the CLI's stdout carries the report.
    var logger = Logger(label: "hotfolder.migrate", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A migration of the state in `stateDirectory` to `endpoint` (whose password, if any, is set already).
    public init(stateDirectory: String, to endpoint: PostgresEndpoint) {
        self.stateDirectory = stateDirectory
        self.endpoint = endpoint
    }

    /// Where the server is, as failures name it: host and port (or socket) and database, never the password.
    var server: String {
        let place = endpoint.isUnixSocket ? "socket \(endpoint.host)/.s.PGSQL.\(endpoint.port)" : "\(endpoint.host):\(endpoint.port)"
        return "\(place), database \(endpoint.database), user \(endpoint.user)"
    }

    /// Copies the state (or with `dryRun`, only counts what would be copied and checks the target).
    ///
    /// - Throws: ``Failure``, ``StateDirectoryLock/Failure`` when a service runs, ``StateStoreError``.
    public func run(dryRun: Bool) async throws -> Report {
        // Before the database is opened (which may upgrade its schema): no service may be using it.
        let lock = try StateDirectoryLock(directory: stateDirectory, mode: .exclusive)
        defer { withExtendedLifetime(lock) {} }
        let path = (stateDirectory as NSString).appendingPathComponent(SQLiteStateStore.defaultFileName)
        guard FileManager.default.fileExists(atPath: path) else { throw Failure.noStateDatabase(path: path) }
        // Opened as every other command opens it: an older schema is brought up to date first.
        let source = try SQLiteStateStore(directory: stateDirectory)
        defer { try? source.close() }
        let snapshot: DatabaseSnapshot
        let counts: [TableCount]
        let leftBehind: [LeftBehind]
        let spend: Double
        do {
            if try await source.pool.read({ try SQLiteStateStore.migrator.hasBeenSuperseded($0) }) {
                throw Failure.newerStateDatabase(path: path)
            }
            // One snapshot for every read: a CLI command writing meanwhile (`hotfolder budget`) is not half-copied.
            snapshot = try source.pool.makeSnapshot()
            (counts, leftBehind, spend) = try await snapshot.read { db in
                let counts = try Self.tables.map { table in
                    TableCount(table: table.target, rows: try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table.source)") ?? 0)
                }
                let leftBehind = try Self.leftBehind.map { table, why in
                    LeftBehind(table: table, rows: try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0, why: why)
                }
                let spend = try Double.fetchOne(db, sql: "SELECT total(amount) FROM spend") ?? 0
                return (counts, leftBehind, spend)
            }
        } catch let error as Failure {
            throw error
        } catch {
            throw StateStoreError.database(operation: "read the state for the migration", path: path, reason: SQLiteStateStore.reason(error))
        }
        var report = Report(target: endpoint.description, dryRun: dryRun, copied: counts, leftBehind: leftBehind, spendTotal: spend)
        try await withTarget { target in
            try await checkReachable(target)
            if dryRun {
                let existing = try await existingRows(target)
                if !existing.isEmpty { throw Failure.targetNotEmpty(target: endpoint.description, tables: existing) }
                return
            }
            try await target.migrate()
            report.copied = try await copy(from: snapshot, to: target, expecting: counts, spend: spend)
        }
        if !dryRun { writeMarker() }
        return report
    }

    /// Runs `body` with a store for the target whose pool runs in a child task (no schema change yet).
    private func withTarget(_ body: (PostgresStateStore) async throws -> Void) async throws {
        var configuration = endpoint.clientConfiguration
        configuration.options.connectTimeout = .seconds(Int64(max(1, callTimeout.components.seconds)))
        let target = PostgresStateStore(
            configuration: configuration, target: endpoint.description, callTimeout: callTimeout, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await target.run() }
            defer { group.cancelAll() }
            try await body(target)
        }
    }

    /// One trivial query: a server away, a refused login or a missing database fails here, named by its place.
    private func checkReachable(_ target: PostgresStateStore) async throws {
        do {
            try await target.call("connect") { connection in
                _ = try await target.rows(connection, "SELECT 1")
            }
        } catch let error as StateStoreError {
            let reason: String
            switch error {
            case .unavailable(_, let why), .database(_, _, let why): reason = why
            default: reason = error.description
            }
            throw Failure.unreachable(server: server, reason: redacted(reason))
        }
    }

    /// The password is never in a server's or NIO's message, but a reason is shown to people: make sure.
    private func redacted(_ text: String) -> String {
        guard let password = endpoint.password, !password.isEmpty else { return text }
        return text.replacingOccurrences(of: password, with: "(password)")
    }

    /// The copied tables that exist in the target and hold rows (read-only: for a dry run, before any schema).
    private func existingRows(_ target: PostgresStateStore) async throws -> [TableCount] {
        try await target.call("count the target's rows") { connection in
            var found: [TableCount] = []
            for table in Self.tables {
                let exists = try await target.rows(
                    connection, PostgresQuery(unsafeSQL: "SELECT to_regclass('\(table.target)')::text"))
                guard (try exists.first?[0].decode(String?.self)) != nil else { continue }
                let rows = try await target.rows(connection, "SELECT count(*) FROM \(unescaped: table.target)")
                let count = try rows.first?[0].decode(Int.self) ?? 0
                if count > 0 { found.append(TableCount(table: table.target, rows: count)) }
            }
            return found
        }
    }

    /// The copy: one transaction that locks the tables, checks they are empty, inserts every page, moves the
    /// sequences on and verifies the counts and the spend before it commits.
    private func copy(
        from snapshot: DatabaseSnapshot, to target: PostgresStateStore, expecting counts: [TableCount], spend: Double
    ) async throws -> [TableCount] {
        let names = Self.tables.map(\.target).joined(separator: ", ")
        let batchRows = max(1, batchRows)
        let endpointDescription = endpoint.description
        return try await target.transaction("copy the state", timeout: copyTimeout) { connection in
            // Nodes already on this database wait for the copy instead of writing beside it.
            try await connection.query(PostgresQuery(unsafeSQL: "LOCK TABLE \(names) IN EXCLUSIVE MODE"), logger: self.logger)
            let existing = try await Self.countRows(target, connection).filter { $0.rows > 0 }
            if !existing.isEmpty { throw Failure.targetNotEmpty(target: endpointDescription, tables: existing) }
            for table in Self.tables {
                try await self.copyTable(table, from: snapshot, batchRows: batchRows, connection: connection)
                if let serial = table.serial {
                    try await connection.query(
                        PostgresQuery(
                            unsafeSQL: """
                                SELECT setval(pg_get_serial_sequence('\(table.target)', '\(serial)'), \
                                coalesce(max(\(serial)), 0) + 1, false) FROM \(table.target)
                                """), logger: self.logger)
                }
            }
            let copied = try await Self.countRows(target, connection)
            for (read, written) in zip(counts, copied) where read.rows != written.rows {
                throw Failure.verificationFailed(table: read.table, expected: "\(read.rows) rows", found: "\(written.rows) rows")
            }
            let total = try await target.rows(connection, "SELECT coalesce(sum(amount), 0) FROM spend").first?[0].decode(Double.self) ?? 0
            if abs(total - spend) > 0.000_001 * max(1, abs(spend)) {
                throw Failure.verificationFailed(table: "spend", expected: "$\(spend) in total", found: "$\(total)")
            }
            return copied
        }
    }

    /// The rows of every copied table in the target, in ``tables`` order.
    private static func countRows(_ target: PostgresStateStore, _ connection: PostgresConnection) async throws -> [TableCount] {
        let sql = tables.map { "SELECT '\($0.target)', count(*) FROM \($0.target)" }.joined(separator: " UNION ALL ")
        var counts: [String: Int] = [:]
        for row in try await target.rows(connection, PostgresQuery(unsafeSQL: sql)) {
            counts[try row[0].decode(String.self)] = try row[1].decode(Int.self)
        }
        return tables.map { TableCount(table: $0.target, rows: counts[$0.target] ?? 0) }
    }

    /// Copies one table page by page: SQLite's rows in rowid order, each page one multi-row INSERT.
    private func copyTable(
        _ table: Table, from snapshot: DatabaseSnapshot, batchRows: Int, connection: PostgresConnection
    ) async throws {
        // postgres-nio counts a statement's parameters in an Int16: stay well below 32,767.
        let rowsPerInsert = min(batchRows, 30_000 / table.columns.count)
        let select = Self.selectSQL(table)
        let fullInsert = Self.insertSQL(table, rows: rowsPerInsert)
        var after: Int64 = .min
        while true {
            let cursor = after
            let page = try snapshot.read { db in
                try Row.fetchAll(db, sql: select, arguments: [cursor, rowsPerInsert])
            }
            guard let last = page.last else { return }
            var bindings = PostgresBindings(capacity: page.count * table.columns.count)
            for row in page { try Self.bind(row, of: table, into: &bindings) }
            let sql = page.count == rowsPerInsert ? fullInsert : Self.insertSQL(table, rows: page.count)
            try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
            after = last[0]
            if page.count < rowsPerInsert { return }
        }
    }

    /// Leaves the marker that keeps `hotfolder run` from working on the SQLite copy of jobs that moved.
    private func writeMarker() {
        let text = "This node's state was copied to \(endpoint.description) by `hotfolder migrate` at \(Date().formatted(.iso8601)).\n"
        let path = (stateDirectory as NSString).appendingPathComponent(Self.markerFileName)
        try? Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
