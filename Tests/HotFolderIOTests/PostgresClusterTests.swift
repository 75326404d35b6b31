// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Logging
import PostgresNIO
import Testing

/// The private PostgreSQL cluster and the three things issue 12 builds on: claiming work with
/// `FOR UPDATE SKIP LOCKED`, waking idle nodes with `LISTEN`/`NOTIFY`, and a client that survives a server restart.
/// Skipped, with the reason, only where PostgreSQL's server programs are not installed.
@Suite(.enabled(if: PostgresCluster.findBinaries() != nil, Comment(rawValue: PostgresCluster.missingMessage)))
struct PostgresClusterTests {
    let logger = Logger(label: "hotfolder.tests.postgres")

    @Test func aPrivateClusterAnswersOverItsSocketAndIsRemoved() async throws {
        var root = ""
        var serverProcess: pid_t?
        try await withPostgresCluster { cluster in
            root = cluster.root
            serverProcess = cluster.serverProcessID
            #expect(serverProcess != nil, "the server runs")
            #expect(FileManager.default.fileExists(atPath: cluster.socketPath))
            if getuid() == 0 {
                let owner = try FileManager.default.attributesOfItem(atPath: cluster.dataDirectory + "/postmaster.pid")[
                    .ownerAccountID] as? NSNumber
                #expect(owner?.intValue != 0, "the server does not run as root")
            }
            print("PostgresCluster: initdb \(cluster.initdbDuration), start \(cluster.startDuration)")
            try await cluster.withClient { client in
                try await client.query("CREATE TABLE drop_probe (id integer PRIMARY KEY, name text NOT NULL)")
                for (id, name) in [(1, "sunset.txt"), (2, "cat.png")] {
                    try await client.query("INSERT INTO drop_probe (id, name) VALUES (\(id), \(name))")
                }
                let names = try await values(client, "SELECT name FROM drop_probe ORDER BY id", as: String.self)
                #expect(names == ["sunset.txt", "cat.png"])
                #expect(try await values(client, "SELECT current_user::text", as: String.self) == [PostgresCluster.user])
                #expect(
                    try await values(client, "SELECT current_setting('listen_addresses')", as: String.self) == [""],
                    "nothing listens on the network")
            }
        }
        #expect(!root.isEmpty && !FileManager.default.fileExists(atPath: root), "the cluster's folder is removed")
        let pid = try #require(serverProcess)
        #expect(try await processEnds(pid), "the server is stopped")
    }

    @Test func aFailingTestStillStopsAndRemovesItsCluster() async throws {
        struct Boom: Error {}
        var root = ""
        var serverProcess: pid_t?
        await #expect(throws: Boom.self) {
            try await withPostgresCluster { cluster in
                root = cluster.root
                serverProcess = cluster.serverProcessID
                throw Boom()
            }
        }
        #expect(!root.isEmpty && !FileManager.default.fileExists(atPath: root))
        let pid = try #require(serverProcess)
        #expect(try await processEnds(pid), "the server is stopped")
    }

    @Test func aClusterLeftByADeadTestProcessIsRemovedByTheNextOne() async throws {
        let abandoned = try PostgresCluster()
        defer { abandoned.stop() }
        let server = try #require(abandoned.serverProcessID)
        // Pretend its test process was killed: name a process that has ended as its owner.
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
        defer { free(argv[0]) }
        #expect(posix_spawn(&pid, "/bin/true", nil, nil, argv, environ) == 0)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        try Data("\(pid)\n".utf8).write(to: URL(fileURLWithPath: abandoned.root + "/owner.pid"))

        let next = try PostgresCluster()
        defer { next.stop() }
        // The sweep in `next`'s start removes it (or one started by a test running beside this one is doing so).
        try await poll(until: .seconds(10), "the abandoned cluster's folder is removed") {
            !FileManager.default.fileExists(atPath: abandoned.root)
        }
        #expect(try await processEnds(server), "the abandoned cluster's server is stopped")
        #expect(next.serverProcessID != nil)
    }

    @Test func skipLockedHandsEveryRowToExactlyOneOfTwoClaimers() async throws {
        try await withPostgresCluster { cluster in
            try await cluster.withClient { client in
                try await client.query(
                    "CREATE TABLE jobs (id bigint PRIMARY KEY, claimed_by text, lease_generation bigint NOT NULL DEFAULT 0)")
                try await client.query("INSERT INTO jobs (id) SELECT generate_series(1, 200)")

                // One claimer holds rows 1-10 in an open transaction: the other is not blocked and gets 11-20.
                let skipped = try await client.withTransaction(logger: logger) { holder in
                    let held = try await values(
                        holder, "SELECT id FROM jobs ORDER BY id LIMIT 10 FOR UPDATE SKIP LOCKED", as: Int.self)
                    #expect(held == Array(1...10))
                    // Proof that the rows really are locked: a claim that may not wait fails at once.
                    let refused = await #expect(throws: PSQLError.self) {
                        _ = try await values(client, "SELECT id FROM jobs WHERE id = 1 FOR UPDATE NOWAIT", as: Int.self)
                    }
                    #expect(refused?.serverInfo?[.sqlState] == "55P03", "lock_not_available")
                    return try await client.withTransaction(logger: logger) { other in
                        // Were SKIP LOCKED lost, this would wait for the holder: fail instead of hanging.
                        try await other.query("SET LOCAL lock_timeout = '5s'", logger: logger)
                        return try await values(
                            other, "SELECT id FROM jobs ORDER BY id LIMIT 10 FOR UPDATE SKIP LOCKED", as: Int.self)
                    }
                }
                #expect(skipped == Array(11...20))

                // Two claimers race over the 200 rows, a few at a time, until none is left.
                let claims = try await withThrowingTaskGroup(of: (String, [Int]).self) { group in
                    for claimer in ["node-a", "node-b"] {
                        group.addTask {
                            var mine: [Int] = []
                            while true {
                                let batch = try await claim(client, by: claimer, limit: 3)
                                if batch.isEmpty { return (claimer, mine) }
                                mine += batch
                            }
                        }
                    }
                    var claims: [String: [Int]] = [:]
                    for try await (claimer, ids) in group { claims[claimer] = ids }
                    return claims
                }
                let a = claims["node-a"] ?? []
                let b = claims["node-b"] ?? []
                #expect(Set(a).isDisjoint(with: b), "no row is handed out twice")
                #expect(a.count + b.count == 200 && Set(a + b) == Set(1...200), "every row is handed out")
                #expect(Set(a).count == a.count && Set(b).count == b.count, "no claimer gets a row twice")
                // The database agrees with what each claimer was told.
                let fromDatabase = try await values(
                    client, "SELECT id FROM jobs WHERE claimed_by = 'node-a' ORDER BY id", as: Int.self)
                #expect(fromDatabase == a.sorted())
                #expect(
                    try await values(client, "SELECT count(*)::bigint FROM jobs WHERE lease_generation <> 1", as: Int.self) == [0],
                    "each row was claimed exactly once")
                print("PostgresCluster: node-a claimed \(a.count) rows, node-b \(b.count)")
            }
        }
    }

    @Test func notifyWakesAListenerOnlyForCommittedWork() async throws {
        struct RollBack: Error {}
        try await withPostgresCluster { cluster in
            try await cluster.withClient { client in
                let payload = try await withDeadline(.seconds(20)) {
                    try await client.withConnection { connection in
                        // listen(on:) calls the closure once the server has acknowledged LISTEN.
                        try await connection.listen(on: "jobs_ready") { notifications in
                            // A notification in a transaction that rolls back is never delivered ...
                            do {
                                try await client.withTransaction(logger: logger) { other in
                                    try await other.query("SELECT pg_notify('jobs_ready', 'rolled-back')", logger: logger)
                                    throw RollBack()
                                }
                            } catch let error as PostgresTransactionError where error.closureError is RollBack {}
                            // ... one sent by another connection after a commit is.
                            try await client.query("SELECT pg_notify('jobs_ready', \("job-42"))")
                            var iterator = notifications.makeAsyncIterator()
                            return try await iterator.next()?.payload
                        }
                    }
                }
                #expect(payload == "job-42")
            }
        }
    }

    @Test func theClientReconnectsAfterTheServerRestartsMidQuery() async throws {
        try await withPostgresCluster { cluster in
            try await cluster.withClient { client in
                try await client.query("CREATE TABLE drops (name text PRIMARY KEY)")
                try await client.query("INSERT INTO drops VALUES ('before.txt')")
                let firstStart = try await values(client, "SELECT pg_postmaster_start_time()::text", as: String.self)

                try await withThrowingTaskGroup(of: Void.self) { group in
                    // A query in flight when the server goes away fails; it does not hang.
                    group.addTask {
                        await #expect(throws: (any Error).self) {
                            _ = try await values(client, "SELECT pg_sleep(60)::text", as: String.self)
                        }
                    }
                    try await poll(until: .seconds(20), "the long query is running") {
                        try await values(
                            client, "SELECT count(*)::bigint FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'",
                            as: Int.self) == [1]
                    }
                    let previous = cluster.serverProcessID
                    try cluster.restart()
                    #expect(cluster.serverProcessID != nil && cluster.serverProcessID != previous, "a new server runs")
                    try await group.waitForAll()
                }

                // The pool drops the dead connections and opens new ones; allow a bounded number of failures.
                var failures = 0
                try await poll(until: .seconds(30), "a query succeeds after the restart, failures: \(failures)") {
                    do {
                        try await client.query("INSERT INTO drops VALUES ('after.txt') ON CONFLICT DO NOTHING")
                        return true
                    } catch {
                        failures += 1
                        return false
                    }
                }
                let names = try await values(client, "SELECT name FROM drops ORDER BY name", as: String.self)
                #expect(names == ["after.txt", "before.txt"], "committed rows survive the crash-like stop")
                let secondStart = try await values(client, "SELECT pg_postmaster_start_time()::text", as: String.self)
                #expect(secondStart != firstStart, "the server really restarted")
                print("PostgresCluster: \(failures) failed queries before the client was back")
            }
        }
    }

    // MARK: - Helpers

    /// Claims up to `limit` unclaimed rows the way a node would: lock with SKIP LOCKED, mark, commit.
    private func claim(_ client: PostgresClient, by claimer: String, limit: Int) async throws -> [Int] {
        try await client.withTransaction(logger: logger) { connection in
            let ids = try await values(
                connection, "SELECT id FROM jobs WHERE claimed_by IS NULL ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED",
                as: Int.self)
            guard !ids.isEmpty else { return [] }
            let updated = try await values(
                connection,
                """
                UPDATE jobs SET claimed_by = \(claimer), lease_generation = lease_generation + 1
                WHERE id = ANY(\(ids)) RETURNING id
                """,
                as: Int.self)
            #expect(updated.sorted() == ids.sorted())
            return ids
        }
    }
}

/// The first column of every row `query` returns, through the client's pool.
func values<Value: PostgresDecodable & Sendable>(
    _ client: PostgresClient, _ query: PostgresQuery, as type: Value.Type
) async throws -> [Value] {
    var result: [Value] = []
    for try await value in try await client.query(query).decode(Value.self) { result.append(value) }
    return result
}

/// The first column of every row `query` returns, on one connection (inside its transaction, say).
func values<Value: PostgresDecodable & Sendable>(
    _ connection: PostgresConnection, _ query: PostgresQuery, as type: Value.Type
) async throws -> [Value] {
    var result: [Value] = []
    let rows = try await connection.query(query, logger: Logger(label: "hotfolder.tests.postgres"))
    for try await value in rows.decode(Value.self) { result.append(value) }
    return result
}

/// Whether process `pid` is gone (or a zombie nobody reaped yet) within a few seconds: `pg_ctl stop -w` returns
/// once the postmaster removed its pid file, a moment before the process itself ends.
func processEnds(_ pid: pid_t, within limit: Duration = .seconds(10)) async throws -> Bool {
    func ended() -> Bool {
        guard kill(pid, 0) == 0 else { return true }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // The state follows the command name in parentheses: "1234 (postgres) Z ...".
        return stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? true
    }
    do {
        try await poll(until: limit, "process \(pid) ends") { ended() }
        return true
    } catch is DeadlineExceeded {
        return false
    }
}

/// A wait that ran out.
struct DeadlineExceeded: Error, CustomStringConvertible {
    var description: String
}

/// Runs `body`, and throws `DeadlineExceeded` (cancelling it) when it takes longer than `limit`.
func withDeadline<Result: Sendable>(
    _ limit: Duration, _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let result = first else {
            throw DeadlineExceeded(description: "no answer within \(limit)")
        }
        return result
    }
}

/// Asks `condition` every 50 ms until it holds; throws when it still does not after `limit`.
func poll(
    until limit: Duration, _ what: @autoclosure () -> String, _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + limit
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            throw DeadlineExceeded(description: "\(what()) did not happen within \(limit)")
        }
        try await Task.sleep(for: .milliseconds(50))
    }
}
