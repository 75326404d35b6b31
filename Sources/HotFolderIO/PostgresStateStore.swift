// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Logging
import PostgresNIO

/// The state shared by several nodes on one inbox, in PostgreSQL (issue 12): the same ``StateStore`` as the embedded
/// ``SQLiteStateStore``, checked by the same conformance suite.
///
/// Work is claimed with `SELECT … FOR UPDATE SKIP LOCKED` under leases, and every write of a leased job is fenced by
/// the lease's owner and generation; no session advisory lock is taken (they break behind PgBouncer). Times are
/// stored as `double precision` seconds since 1970 (UTC), as in SQLite, so both stores compare times the same way
/// and a value read back is the `Date` written; the times come from the caller (`now`) or the store's clock, never
/// from the server's, which keeps the tests free of sleeps and needs the nodes' clocks in step (NTP).
///
/// The store owns a `PostgresClient` (its connection pool), which must run for calls to go through: call ``run()``
/// in a long-running task (the service's task group), or use ``withStore(_:target:callTimeout:clock:logger:_:)``.
/// Every call has its own deadline (``callTimeout``): with the server gone, postgres-nio waits ~40 s for a connection,
/// and a node must instead learn at once that the database is ``StateStoreError/unavailable(operation:reason:)``.
///
/// It is a ``ServiceStore`` (PostgresStateStore+ServiceStore.swift, +Films.swift, +Dashboard.swift): the notification
/// outbox, history pruning, films, stalled-job events, the dashboard's and reports' reads, and this node's own
/// commits on its live feed. Not yet: the upload cache, nor other nodes' changes on the live feed.
public final class PostgresStateStore: Sendable {
    /// The connection pool.
    let client: PostgresClient
    /// The database as errors name it: `postgresql://user@host:port/database`, never with a password.
    public let target: String
    /// How long one call may take, connection included, before it fails as unavailable.
    public let callTimeout: Duration
    let clock: @Sendable () -> Date
    let logger: Logger
    /// The targets a commit writes deliveries for (``configureNotifications(_:instance:onEnqueue:)``).
    let notificationRouting = NotificationRouting()
    /// This node's job changes and events, published after each transaction that made them commits. Other nodes'
    /// changes do not reach it (that needs LISTEN/NOTIFY carrying them).
    public let liveFeed = LiveFeed()

    /// Creates a store for the database `configuration` names; nothing connects until ``run()`` runs.
    ///
    /// - Parameters:
    ///   - target: how errors name the database (without the password).
    ///   - callTimeout: the deadline of each call.
    ///   - clock: the time stamped on rows and events.
    public init(
        configuration: PostgresClient.Configuration, target: String, callTimeout: Duration = .seconds(10),
        clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger = Logger(label: "hotfolder.store.postgres")
    ) {
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.target = target
        self.callTimeout = callTimeout
        self.clock = clock
        self.logger = logger
    }

    /// Runs the connection pool until the calling task is cancelled (then every connection is closed).
    public func run() async {
        await client.run()
    }

    /// Runs `body` with a migrated store whose pool runs in a child task, cancelled when `body` returns or throws.
    public static func withStore<Result: Sendable>(
        _ configuration: PostgresClient.Configuration, target: String, callTimeout: Duration = .seconds(10),
        clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger = Logger(label: "hotfolder.store.postgres"),
        _ body: (PostgresStateStore) async throws -> Result
    ) async throws -> Result {
        let store = PostgresStateStore(
            configuration: configuration, target: target, callTimeout: callTimeout, clock: clock, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            try await store.migrate()
            return try await body(store)
        }
    }

    // MARK: - Calls

    /// Runs `body` with a connection under the call's deadline, mapping errors to ``StateStoreError``.
    @discardableResult
    func call<T: Sendable>(
        _ operation: String, timeout: Duration? = nil, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        do {
            return try await CallDeadline.run(timeout ?? callTimeout, operation: operation) {
                try await self.client.withConnection { connection in try await body(connection) }
            }
        } catch let error as StoreMigration.Failure {
            throw error  // a migration's refusal, thrown inside its transaction: already one sentence
        } catch {
            throw mapped(error, operation: operation)
        }
    }

    /// Runs `body` in one transaction (`BEGIN` … `COMMIT`, rolled back when it throws) under the call's deadline.
    @discardableResult
    func transaction<T: Sendable>(
        _ operation: String, timeout: Duration? = nil, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await call(operation, timeout: timeout) { connection in
            try await connection.query("BEGIN", logger: self.logger)
            do {
                let result = try await body(connection)
                try await connection.query("COMMIT", logger: self.logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: self.logger)
                throw error
            }
        }
    }

    /// The rows of `query`, read to the end.
    func rows(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        var rows: [PostgresRandomAccessRow] = []
        for try await row in try await connection.query(query, logger: logger) {
            rows.append(row.makeRandomAccess())
        }
        return rows
    }

    /// Runs a statement and returns how many rows it answered (an `UPDATE … RETURNING id` counts what it changed).
    @discardableResult
    func execute(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> Int {
        try await rows(connection, query).count
    }

    /// The server's SQLSTATE when `error` is a server error, else nil.
    static func sqlState(_ error: any Error) -> String? {
        guard let error = error as? PSQLError, error.code == .server else { return nil }
        return error.serverInfo?[.sqlState]
    }

    /// `error` as a ``StateStoreError``: connection trouble is `unavailable`, the rest a database error. Only the
    /// error's code and the server's message are kept: postgres-nio's own description hides the query's values,
    /// and neither holds a password.
    func mapped(_ error: any Error, operation: String) -> StateStoreError {
        if let error = error as? StateStoreError { return error }
        if let error = error as? PSQLError {
            if error.code == .server {
                let state = error.serverInfo?[.sqlState] ?? "?"
                let message = error.serverInfo?[.message] ?? "server error"
                // 08: connection exceptions; 57P01-57P03: the server shuts down or starts; 53300: too many connections.
                if state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300" {
                    return .unavailable(operation: operation, reason: "\(message) (SQLSTATE \(state))")
                }
                return .database(operation: operation, path: target, reason: "\(message) (SQLSTATE \(state))")
            }
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown,
                .sslUnsupported, .failedToAddSSLHandler, .queryCancelled:
                return .unavailable(operation: operation, reason: "\(error.code) (\(target))")
            default:
                return .database(operation: operation, path: target, reason: "\(error.code)")
            }
        }
        if error is CancellationError {
            return .unavailable(operation: operation, reason: "the call was cancelled")
        }
        // NIO's connect and channel errors name an address or a system call, never a credential.
        return .unavailable(operation: operation, reason: "\(error) (\(target))")
    }
}
