// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore

/// The service's durable state: jobs, their input files, remote tasks, the upload cache and each job's history,
/// in one SQLite database (WAL mode) in the state directory.
///
/// Every method is one transaction, and every state change writes its event row in the same transaction.
/// The pipeline commits a state *before* the side effect it allows (write-ahead): `submitting` before the create
/// call, the task id as soon as the call returns, so a restart after `kill -9` knows what may have happened.
/// ``transition(_:from:to:message:update:task:)`` is a compare-and-set: it fails when the job is no longer in the
/// expected state, so two actors (the pipeline and `hotfolder cancel`, say) never both win.
///
/// There is one writer connection (GRDB serialises writes) and a few readers. Methods block for the length of
/// one small transaction. Nothing here stores an API key: no table has a column for one.
public final class SQLiteStateStore: Sendable {
    /// The database file's path.
    public let path: String
    let pool: DatabasePool
    let clock: @Sendable () -> Date
    /// The notification targets, set at start (see `SQLiteStateStore+Notifications.swift`).
    let notificationRouting = NotificationRouting()
    /// Job changes and events for the dashboard's connected clients (published after each commit).
    public let liveFeed = LiveFeed()
    /// The runner's writes waiting for the next group commit (``writeGrouped(_:_:)``).
    let groupCommit = GroupCommitQueue()

    /// The database file name inside the state directory.
    public static let defaultFileName = "hotfolder.sqlite"

    /// Opens (creating if needed) the database in `directory` and runs the migrations.
    ///
    /// - Parameters:
    ///   - directory: the state directory; created (mode 0700) when missing.
    ///   - fileName: the database file inside it.
    ///   - busyTimeout: how long to wait for another process's lock (the CLI's `retry`, say) before failing.
    ///   - clock: the time stamped on rows and events.
    public init(
        directory: String, fileName: String = SQLiteStateStore.defaultFileName, busyTimeout: TimeInterval = 5,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        let path = (directory as NSString).appendingPathComponent(fileName)
        self.path = path
        self.clock = clock
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            var configuration = Configuration()
            configuration.foreignKeysEnabled = true
            configuration.busyMode = .timeout(busyTimeout)
            configuration.label = "hotfolder-state"
            configuration.prepareDatabase { db in
                // WAL + NORMAL is durable across application crashes (kill -9); only an OS crash can lose the last
                // commits, never corrupt the file.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                // Statement journals and the savepoints of a group commit in memory: on disk, each that outgrew
                // 64 KB became a new file in /var/tmp, written and deleted (100 a second in a burst; issue 14).
                try db.execute(sql: "PRAGMA temp_store = MEMORY")
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            // Two processes opening a new or older database at once (the service starting, `hotfolder status`)
            // must not both apply a migration: the second would fail on a table the first just made.
            try Self.withMigrationLock(directory: directory) { try Self.migrator.migrate(pool) }
            let observer = LiveFeedCommitObserver(feed: liveFeed)
            pool.writeWithoutTransaction { db in db.add(transactionObserver: observer, extent: .databaseLifetime) }
        } catch {
            throw StateStoreError.openFailed(path: path, reason: Self.reason(error))
        }
    }

    /// Closes the database; later calls fail.
    public func close() throws {
        do {
            try pool.close()
        } catch {
            throw StateStoreError.database(operation: "close", path: path, reason: Self.reason(error))
        }
    }

    /// The connection settings in effect, for `doctor` and tests: `journal_mode` (`wal`), `foreign_keys` (`1`),
    /// `busy_timeout` (milliseconds) and `synchronous` (`1`, NORMAL).
    public func databaseSettings() throws -> [String: String] {
        try write("read the connection settings") { db in
            var settings: [String: String] = [:]
            for name in ["journal_mode", "foreign_keys", "busy_timeout", "synchronous"] {
                settings[name] = try String.fetchOne(db, sql: "PRAGMA \(name)")
            }
            return settings
        }
    }

    /// The names of the migrations applied so far, oldest first.
    public func appliedMigrations() throws -> [String] {
        try read("read the migrations") { db in
            try Self.migrator.appliedMigrations(db)
        }
    }

    /// Runs `body` holding an exclusive lock on `<directory>/.migration.lock` (released when `body` returns).
    static func withMigrationLock<T>(directory: String, _ body: () throws -> T) throws -> T {
        let descriptor = Glibc.open((directory as NSString).appendingPathComponent(".migration.lock"), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { return try body() }  // a read-only state folder: nothing to migrate into anyway
        defer { Glibc.close(descriptor) }
        // flock, not fcntl locks: those do not exclude two openers within one process.
        while lockFile(descriptor, LOCK_EX) != 0 && errno == EINTR {}
        defer { _ = lockFile(descriptor, LOCK_UN) }
        return try body()
    }

    // MARK: - Transactions

    /// Runs `body` in one immediate write transaction, mapping errors to ``StateStoreError``.
    func write<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                var result: T?
                // IMMEDIATE takes the write lock at once, so a read-then-write never fails half-way when another
                // process (the CLI) writes at the same time; busy_timeout makes it wait instead.
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let error as StateStoreError {
            throw error
        } catch {
            throw StateStoreError.database(operation: operation, path: path, reason: Self.reason(error))
        }
    }

    /// Runs `body` in one immediate write transaction on the database's writer queue, suspending the caller
    /// instead of blocking its thread.
    func writeAsync<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let error as StateStoreError {
            throw error
        } catch {
            throw StateStoreError.database(operation: operation, path: path, reason: Self.reason(error))
        }
    }

    /// Runs `body` on a reader connection, mapping errors to ``StateStoreError``.
    func read<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch let error as StateStoreError {
            throw error
        } catch {
            throw StateStoreError.database(operation: operation, path: path, reason: Self.reason(error))
        }
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            // GRDB keeps statement arguments out of this description.
            return "\(error.message ?? "SQLite error") (\(error.extendedResultCode))"
        }
        return "\(error)"
    }
}

/// `flock(2)` (Swift sees the name as the C struct of the same name).
@_silgen_name("flock") private func lockFile(_ descriptor: Int32, _ operation: Int32) -> Int32
