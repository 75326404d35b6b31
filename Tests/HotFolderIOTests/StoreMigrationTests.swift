// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import PostgresNIO
import Testing

/// `hotfolder migrate --to` (StoreMigration): a real SQLite store with jobs in every state that matters for money,
/// copied into a database of its own in the suite's private PostgreSQL cluster, and read back through
/// ``PostgresStateStore``.
@Suite(
    .enabled(if: PostgresCluster.findBinaries() != nil, Comment(rawValue: PostgresCluster.missingMessage)),
    SharedPostgresCluster())
struct StoreMigrationTests {
    static let t0 = StoreConformance.t0
    static let password = "Sekr1t-pg-Passw0rd-7f3a"
    let clock = TestClock(StoreConformance.t0)

    static var utc: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }

    /// A new empty database in the suite's cluster; returns its name.
    static func makeDatabase() async throws -> String {
        let cluster = try #require(SharedPostgresCluster.current, "the suite's cluster is running")
        let database = "migrate_\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await cluster.withClient(maximumConnections: 1) { admin in
            try await admin.query("CREATE DATABASE \(unescaped: database)")
        }
        return database
    }

    /// The endpoint of `database` as a user writes it (`?host=` names the cluster's socket folder).
    static func endpoint(_ database: String, port: Int = PostgresCluster.port, password: String? = nil) throws -> PostgresEndpoint {
        try PostgresEndpoint(url: try url(database, port: port), password: password)
    }

    static func url(_ database: String, port: Int = PostgresCluster.port) throws -> String {
        let cluster = try #require(SharedPostgresCluster.current)
        return "postgres://\(PostgresCluster.user)@localhost:\(port)/\(database)?host=\(cluster.socketDirectory)"
    }

    /// Runs `body` with a client on `database` (for the checks the store's API has no read for).
    static func withClient<T: Sendable>(_ database: String, _ body: (PostgresClient) async throws -> T) async throws -> T {
        let cluster = try #require(SharedPostgresCluster.current)
        var configuration = cluster.clientConfiguration
        configuration.database = database
        let client = PostgresClient(configuration: configuration)
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    static func scalar<T: PostgresDecodable & Sendable>(_ client: PostgresClient, _ sql: String, as type: T.Type) async throws -> T {
        for try await row in try await client.query(PostgresQuery(unsafeSQL: sql)) {
            return try row.decode(T.self)
        }
        throw StateStoreError.database(operation: sql, path: "test", reason: "no row")
    }

    /// The jobs the fixture makes, by what they show.
    struct Fixture {
        var queued: UUID
        var leased: UUID
        var held: UUID
        var uncertain: UUID
        var submitted: UUID
        var done: UUID
        var failed: UUID
        var all: [UUID] { [queued, leased, held, uncertain, submitted, done, failed] }
    }

    /// Fills a SQLite store in `directory`: jobs queued, leased and working, held, uncertain (its create call
    /// reserved money), submitted with a task id, done with settled spend and a task, failed; deliveries for
    /// their events (one already delivered); a daily budget override.
    func fill(_ directory: String) async throws -> Fixture {
        let store = try SQLiteStateStore(directory: directory, clock: clock.closure)
        defer { try? store.close() }
        store.configureNotifications(
            [NotificationRoute(key: "hook", label: "hooks.example")], instance: "old-node", onEnqueue: nil)
        let budget = BudgetRequest(cost: 0.4, tokens: 1000, caps: BudgetCaps(daily: 100), laneCaps: [], calendar: Self.utc)
        func move(_ id: UUID, _ from: JobState, _ to: JobState, spend: JobLifecycle.SpendChange? = nil,
                  failure: String? = nil, notBefore: Date? = nil) async throws {
            var commit = StoreConformance.move(from, to)
            commit.spend = spend
            commit.notBefore = notBefore
            if let failure { commit.failure = JobLifecycle.Failure(category: failure, message: "\(failure) on purpose") }
            try await store.commit(id, commit, lease: nil, outputPath: to == .done ? "/outbox/done.mp4" : nil, task: nil,
                                   budget: spend == .reserve ? budget : nil)
        }
        let leased = try await StoreConformance.insert(store, ["leased"], priority: 9)[0].id
        let others = try await StoreConformance.insert(store, ["queued", "held", "uncertain", "submitted", "done", "failed"])
        let ids = Dictionary(uniqueKeysWithValues: others.map { ($0.name, $0.id) })
        let fixture = Fixture(
            queued: ids["queued"]!, leased: leased, held: ids["held"]!, uncertain: ids["uncertain"]!,
            submitted: ids["submitted"]!, done: ids["done"]!, failed: ids["failed"]!)

        // The old node holds a lease on one job and is uploading it when it stops.
        let lease = try #require(try await store.claimQueued(node: "old-node", limit: 1, leaseFor: 30, now: Self.t0).first?.lease)
        #expect(lease.jobID == leased)
        try await store.commit(leased, StoreConformance.move(.ready, .uploading), lease: lease)

        try await move(fixture.held, .ready, .held, failure: "held", notBefore: Self.t0.addingTimeInterval(3600))

        try await move(fixture.uncertain, .ready, .submitting, spend: .reserve)
        try await move(fixture.uncertain, .submitting, .uncertain, failure: "uncertain", notBefore: Self.t0.addingTimeInterval(60))

        try await move(fixture.submitted, .ready, .submitting, spend: .reserve)
        try await store.recordTask(
            fixture.submitted, lease: nil, provider: "gateway", taskID: "cgt-submitted-1", status: "queued",
            nextPollAt: Self.t0.addingTimeInterval(30))

        try await move(fixture.done, .ready, .submitting, spend: .reserve)
        try await store.recordTask(
            fixture.done, lease: nil, provider: "gateway", taskID: "cgt-done-1", status: "queued", nextPollAt: nil)
        try await move(fixture.done, .submitted, .running)
        try await move(fixture.done, .running, .downloading)
        try await move(fixture.done, .downloading, .done, spend: .settle(tokens: 2000))

        try await move(fixture.failed, .ready, .failed, failure: "bad_request")
        try await store.appendNote(fixture.failed, "an operator looked at it", lease: nil)

        let deliveries = try await store.deliveries(eventID: nil)
        #expect(deliveries.count >= 3, "held, uncertain, done and failed are told")
        let first = try #require(deliveries.first)
        try await store.recordDelivered(first.rowID, attempts: 1, at: Self.t0.addingTimeInterval(5))
        try store.setBudgetOverride(.daily, value: 5)
        return fixture
    }

    @Test func everyJobTaskEventSpendAndDeliverySurvivesTheMove() async throws {
        let folder = try TemporaryDirectory("migrate")
        let fixture = try await fill(folder.path)
        let database = try await Self.makeDatabase()

        // What SQLite holds, read through the same protocol before the move.
        let source = try SQLiteStateStore(directory: folder.path, clock: clock.closure)
        var jobs: [UUID: StoredJob] = [:]
        var tasks: [UUID: StoredTask] = [:]
        var events: [UUID: [StoredEvent]] = [:]
        var inputs: [UUID: [StoredInput]] = [:]
        var spend = 0.0
        for id in fixture.all {
            jobs[id] = try await source.job(id: id)
            tasks[id] = try await source.activeTask(ofJob: id)
            events[id] = try await source.events(ofJob: id)
            inputs[id] = try await source.inputFiles(ofJob: id)
            spend += try source.spend(ofJob: id).used
        }
        let allTasks = try fixture.all.flatMap { try source.tasks(forJob: $0) }
        let deliveries = try await source.deliveries(eventID: nil)
        try source.close()
        #expect(allTasks.map(\.taskID).sorted() == ["cgt-done-1", "cgt-submitted-1"])
        #expect(spend > 0.8, "two reservations and a settled job")

        let report = try await StoreMigration(stateDirectory: folder.path, to: try Self.endpoint(database)).run(dryRun: false)
        let copied = Dictionary(uniqueKeysWithValues: report.copied.map { ($0.table, $0.rows) })
        #expect(copied["job"] == 7 && copied["task"] == 2 && copied["input_file"] == 7)
        #expect(copied["notification"] == deliveries.count && copied["budget_override"] == 1 && copied["drop_key"] == 7)
        #expect(copied["spend"] == 3 && abs(report.spendTotal - spend) < 1e-9)
        #expect(!report.dryRun && report.target.hasSuffix("/\(database)?host=\(SharedPostgresCluster.current!.socketDirectory)"))
        #expect(FileManager.default.fileExists(atPath: folder.file(StoreMigration.markerFileName)))

        let pgClock = TestClock(Self.t0)
        try await PostgresStateStore.withStore(try Self.endpoint(database), clock: pgClock.closure) { pg in
            for id in fixture.all {
                #expect(try await pg.job(id: id) == jobs[id], "job \(jobs[id]?.name ?? "?") is the same")
                #expect(try await pg.activeTask(ofJob: id) == tasks[id], "its task, with its id")
                #expect(try await pg.events(ofJob: id) == events[id], "its history")
                #expect(try await pg.inputFiles(ofJob: id) == inputs[id], "its inputs")
                #expect(try await pg.lease(ofJob: id) == nil, "no lease: any node can claim it")
            }
            #expect(try await pg.activeTask(ofJob: fixture.submitted)?.taskID == "cgt-submitted-1")
            #expect(try await pg.job(id: fixture.uncertain)?.state == .uncertain)
            #expect(try await pg.job(id: fixture.held)?.state == .held)
            #expect(try await pg.deliveries(eventID: nil) == deliveries, "every delivery, delivered or still to make")

            // The override and the spend both moved: 5 dollars a day, of which more than 0.8 are used, holds a
            // reservation of 4.5 that the configuration's cap of 100 alone would admit.
            var reserve = StoreConformance.move(.ready, .submitting)
            reserve.spend = .reserve
            let budget = BudgetRequest(cost: 4.5, tokens: 1000, caps: BudgetCaps(daily: 100), laneCaps: [], calendar: Self.utc)
            await #expect(throws: StateStoreError.self) {
                try await pg.commit(fixture.queued, reserve, lease: nil, outputPath: nil, task: nil, budget: budget)
            }

            // The sequences go on after the copied ids: a new drop's rows do not collide with the old ones.
            let fresh = try await StoreConformance.insert(pg, ["after-the-move"])[0]
            let freshEvent = try #require(try await pg.events(ofJob: fresh.id).first)
            let oldEvents = events.values.flatMap { $0 }
            #expect(oldEvents.allSatisfy { $0.id < freshEvent.id })

            // The jobs the old node was working on (uploading; submitted: polled with its recorded task, never
            // created again) are taken over at once, with the queued ones.
            let claimed = try await pg.claimQueued(node: "new-node", limit: 10, leaseFor: 30, now: Self.t0)
            #expect(Set(claimed.map(\.job.id)) == [fixture.leased, fixture.submitted, fixture.queued, fresh.id])
        }
        try await Self.withClient(database) { client in
            let daily = try await Self.scalar(client, "SELECT value FROM budget_override WHERE cap = 'daily'", as: Double.self)
            #expect(daily == 5)
            let total = try await Self.scalar(client, "SELECT sum(amount) FROM spend", as: Double.self)
            #expect(abs(total - spend) < 1e-9, "the spend total is the same")
        }
    }

    /// Storyboards move with their films, finished or still being made (their clips name them, and a clip made
    /// before is found by its shot), the stalls already told are not told again, and the dashboard finds a job by
    /// the prompt its description holds.
    @Test func filmsClipsStallsAndPromptsSurviveTheMove() async throws {
        let folder = try TemporaryDirectory("migrate-films")
        let stalls = NotificationRoute(key: "pager", label: "pager", filter: try NotificationFilter(patterns: ["job.stalled"]))
        let open = NewFilm(name: "coast", lane: "boards", folder: "boards/coast", clips: 2)
        let joined = NewFilm(name: "harbour", lane: "boards", folder: "boards/harbour", clips: 1)
        var clips = [
            StoreConformance.serviceJob("coast-1", lane: "boards", inode: 1, prompt: "A lighthouse at night"),
            StoreConformance.serviceJob("coast-2", lane: "boards", inode: 2),
            StoreConformance.serviceJob("harbour-1", lane: "boards", inode: 3),
        ]
        clips[0].filmID = open.id
        clips[1].filmID = open.id
        clips[2].filmID = joined.id
        clips[0].reuseKey = "shot-1"
        clips[2].reuseKey = "shot-1"
        var films: [UUID: StoredFilm] = [:]
        do {
            let store = try SQLiteStateStore(directory: folder.path, clock: clock.closure)
            defer { try? store.close() }
            store.configureNotifications([stalls], instance: "old-node", onEnqueue: nil)
            _ = try store.insertJobs(clips, films: [open, joined])
            try await StoreConformance.finish(store, clips[2].id, output: "/outbox/boards/harbour-1")
            #expect(try store.updateFilm(joined.id, from: [.open], to: .joined, outputPath: "/outbox/boards/harbour", message: "1 clip"))
            try await store.commit(clips[0].id, StoreConformance.move(.ready, .uploading), lease: nil)
            #expect(try store.checkStalledJobs(stallAfter: 60, now: Self.t0.addingTimeInterval(120)) == 1)
            for film in [open, joined] { films[film.id] = try store.film(film.id) }
        }

        let database = try await Self.makeDatabase()
        let report = try await StoreMigration(stateDirectory: folder.path, to: try Self.endpoint(database)).run(dryRun: false)
        let copied = Dictionary(uniqueKeysWithValues: report.copied.map { ($0.table, $0.rows) })
        #expect(copied["film"] == 2 && copied["notification_stall"] == 1 && copied["job"] == 3)
        #expect(!report.leftBehind.contains { $0.table == "film" || $0.table == "notificationStall" })

        try await PostgresStateStore.withStore(try Self.endpoint(database), clock: clock.closure) { pg in
            for id in [open.id, joined.id] {
                #expect(try await pg.film(id: id) == films[id], "the film is the same")
            }
            #expect(try await pg.clips(ofFilm: open.id).map(\.id) == [clips[0].id, clips[1].id])
            #expect(try await pg.clipsMade(reuseKey: "shot-1").map(\.outputPath) == ["/outbox/boards/harbour-1"])
            #expect(try await pg.filmsToSettle().isEmpty, "the open film's clips still run")
            pg.configureNotifications([stalls], instance: "new-node", onEnqueue: nil)
            #expect(try await pg.checkStalled(after: 60, now: Self.t0.addingTimeInterval(180), limit: 10) == 0, "told already")
            try await pg.commit(clips[1].id, StoreConformance.move(.ready, .cancelled), lease: nil)
            try await pg.commit(clips[0].id, StoreConformance.move(.uploading, .cancelled), lease: nil)
            #expect(try await pg.filmsToSettle().map(\.id) == [open.id], "joined on PostgreSQL now")

            let found = try await pg.jobListPage(JobListFilter(query: "LIGHTHOUSE"), cursor: nil, limit: 10)
            #expect(found.rows.map(\.job.id) == [clips[0].id] && found.rows.first?.prompt == "A lighthouse at night")
        }
    }

    @Test func aTargetThatHoldsJobsIsRefusedAndKeptAsItWas() async throws {
        let database = try await Self.makeDatabase()
        let first = try TemporaryDirectory("migrate-first")
        _ = try await fill(first.path)
        _ = try await StoreMigration(stateDirectory: first.path, to: try Self.endpoint(database)).run(dryRun: false)

        let second = try TemporaryDirectory("migrate-second")
        let other = try SQLiteStateStore(directory: second.path, clock: clock.closure)
        let stray = try await StoreConformance.insert(other, ["stray"])[0]
        try other.close()
        for dryRun in [true, false] {
            let error = await #expect(throws: StoreMigration.Failure.self) {
                _ = try await StoreMigration(stateDirectory: second.path, to: try Self.endpoint(database)).run(dryRun: dryRun)
            }
            guard case .targetNotEmpty(_, let tables) = error else {
                Issue.record("refused for another reason: \(String(describing: error))")
                continue
            }
            #expect(tables.contains(StoreMigration.TableCount(table: "job", rows: 7)))
            #expect("\(error!)".contains("migrate only into an empty database"))
        }
        try await Self.withClient(database) { client in
            let jobs = try await Self.scalar(client, "SELECT count(*) FROM job", as: Int.self)
            let strays = try await Self.scalar(
                client, "SELECT count(*) FROM job WHERE id = '\(stray.id.lowercasedString)'", as: Int.self)
            #expect(jobs == 7 && strays == 0, "the first node's jobs, and none of the second's")
        }
        #expect(!FileManager.default.fileExists(atPath: second.file(StoreMigration.markerFileName)))
    }

    @Test func aDryRunWritesNothing() async throws {
        let folder = try TemporaryDirectory("migrate-dry")
        _ = try await fill(folder.path)
        let database = try await Self.makeDatabase()
        let report = try await StoreMigration(stateDirectory: folder.path, to: try Self.endpoint(database)).run(dryRun: true)
        #expect(report.dryRun)
        #expect(report.copied.first { $0.table == "job" }?.rows == 7)
        #expect(report.copied.first { $0.table == "task" }?.rows == 2)
        try await Self.withClient(database) { client in
            let tables = try await Self.scalar(
                client, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", as: Int.self)
            #expect(tables == 0, "not even the schema is made")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.file(StoreMigration.markerFileName)))
    }

    @Test func aRunningServiceIsRefused() async throws {
        let folder = try TemporaryDirectory("migrate-busy")
        _ = try await fill(folder.path)
        let database = try await Self.makeDatabase()
        do {
            let service = try StateDirectoryLock(directory: folder.path, mode: .shared)
            await #expect(throws: StateDirectoryLock.Failure.busy(directory: folder.path, mode: .exclusive)) {
                _ = try await StoreMigration(stateDirectory: folder.path, to: try Self.endpoint(database)).run(dryRun: false)
            }
            withExtendedLifetime(service) {}
        }
        // Once the service has stopped, the copy goes through, and a service cannot start during one.
        let report = try await StoreMigration(stateDirectory: folder.path, to: try Self.endpoint(database)).run(dryRun: false)
        #expect(report.copied.first?.rows == 7)
        let migrating = try StateDirectoryLock(directory: folder.path, mode: .exclusive)
        #expect(throws: StateDirectoryLock.Failure.busy(directory: folder.path, mode: .shared)) {
            _ = try StateDirectoryLock(directory: folder.path, mode: .shared)
        }
        withExtendedLifetime(migrating) {}
    }

    @Test func anUnreachableServerIsNamedWithoutThePassword() async throws {
        let folder = try TemporaryDirectory("migrate-away")
        _ = try await fill(folder.path)
        // Nothing listens on this port's socket in the cluster's folder.
        var migration = StoreMigration(
            stateDirectory: folder.path, to: try Self.endpoint("nowhere", port: 5499, password: Self.password))
        migration.callTimeout = .seconds(5)
        do {
            _ = try await migration.run(dryRun: false)
            Issue.record("the migration should have failed")
        } catch {
            let text = "\(error) \(String(reflecting: error))"
            #expect(error is StoreMigration.Failure)
            #expect(text.contains("5499") && text.contains("database nowhere") && text.contains("Could not connect"))
            #expect(!text.contains(Self.password), "the password is never shown: \(text)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.file(StoreMigration.markerFileName)))
    }

    @Test func aCopyThatFailsHalfWayLeavesNothing() async throws {
        let folder = try TemporaryDirectory("migrate-fail")
        _ = try await fill(folder.path)
        let database = try await Self.makeDatabase()
        // The schema exists already (a node started on it), and the last table copied refuses its rows.
        try await PostgresStateStore.withStore(try Self.endpoint(database)) { _ in }
        try await Self.withClient(database) { client in
            try await client.query(
                """
                CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'refused by the test'; END $$
                """)
            try await client.query(
                "CREATE TRIGGER refuse BEFORE INSERT ON notification FOR EACH ROW EXECUTE FUNCTION refuse()")
        }
        await #expect(throws: StateStoreError.self) {
            _ = try await StoreMigration(stateDirectory: folder.path, to: try Self.endpoint(database)).run(dryRun: false)
        }
        try await Self.withClient(database) { client in
            for table in ["job", "task", "event", "spend", "budget_override", "drop_key"] {
                let rows = try await Self.scalar(client, "SELECT count(*) FROM \(table)", as: Int.self)
                #expect(rows == 0, "\(table) is empty")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: folder.file(StoreMigration.markerFileName)))
    }

    @Test func tenThousandJobsAreCopiedInBatches() async throws {
        let folder = try TemporaryDirectory("migrate-many")
        let store = try SQLiteStateStore(directory: folder.path, clock: clock.closure)
        for chunk in stride(from: 0, to: 10_000, by: 500) {
            _ = try store.insertJobs((chunk..<chunk + 500).map { StoreConformance.newJob("clip-\($0)") })
        }
        try store.close()
        let database = try await Self.makeDatabase()
        let started = ContinuousClock.now
        var migration = StoreMigration(stateDirectory: folder.path, to: try Self.endpoint(database))
        migration.batchRows = 700  // pages that do not divide the rows evenly
        let report = try await migration.run(dryRun: false)
        let took = ContinuousClock.now - started
        #expect(report.copied.first { $0.table == "job" }?.rows == 10_000)
        #expect(report.copied.first { $0.table == "event" }?.rows == 10_000)
        #expect(took < .seconds(60), "took \(took)")
        print("StoreMigrationTests: 10,000 jobs (with inputs and events) copied in \(took)")
    }

    /// The built `hotfolder` next to this test binary (either scratch path), else `.build/debug`.
    static func hotfolder() throws -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var folder = (me as NSString).deletingLastPathComponent
        // Swift Testing on Linux may run inside the .xctest bundle's folder.
        if folder.hasSuffix(".xctest") { folder = (folder as NSString).deletingLastPathComponent }
        for candidate in [(folder as NSString).appendingPathComponent("hotfolder"),
                          PlanCommandEndToEndTests.packageRoot.appendingPathComponent(".build/debug/hotfolder").path]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw StateStoreError.database(operation: "find hotfolder", path: folder, reason: "build first: swift build --build-tests")
    }

    static func runCLI(_ arguments: [String], environment extra: [String: String]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try hotfolder())
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // A command that should have refused but runs (a service) is stopped instead of hanging the test.
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test func theCommandCopiesPrintsTheTableAndRefusesASecondTime() async throws {
        let folder = try TemporaryDirectory("migrate-cli")
        let state = folder.file("state")
        _ = try await fill(state)
        try FileManager.default.createDirectory(atPath: folder.file("inbox"), withIntermediateDirectories: true)
        let config = try folder.write("hotfolder.yaml", "inbox: \(folder.file("inbox"))\nstate_dir: \(state)\n")
        let database = try await Self.makeDatabase()
        let url = try Self.url(database)
        let environment = ["PGPASSWORD": Self.password, "HOTFOLDER_CONFIG": ""]

        let (dryStatus, dryOut, dryErr) = try Self.runCLI(["migrate", "--config", config, "--to", url, "--dry-run"], environment: environment)
        #expect(dryStatus == 0, "stderr: \(dryErr)")
        #expect(dryOut.contains("Dry run: nothing was written"))

        let (status, stdout, stderr) = try Self.runCLI(["migrate", "--config", config, "--to", url], environment: environment)
        #expect(status == 0, "stderr: \(stderr)")
        let lines = stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines.contains("job 7") && lines.contains("task 2") && lines.contains("budget_override 1"), "stdout: \(stdout)")
        #expect(stdout.contains("Next: add `store: \(try Self.endpoint(database).description)`"))

        let (again, _, refusal) = try Self.runCLI(["migrate", "--config", config, "--to", url], environment: environment)
        #expect(again == 1)
        #expect(refusal.contains("already holds hotfolder state"), "stderr: \(refusal)")

        // The service no longer starts on the SQLite copy: its jobs would be submitted twice.
        let (service, _, serviceErr) = try Self.runCLI(
            ["run", "--config", config], environment: environment.merging(["SEEDANCE_API_KEY": "sk-test"]) { $1 })
        #expect(service == 1 && serviceErr.contains("moved to PostgreSQL"), "stderr: \(serviceErr)")

        let (badScheme, _, badErr) = try Self.runCLI(["migrate", "--config", config, "--to", "mysql://u@h/db"], environment: environment)
        #expect(badScheme != 0 && badErr.contains("postgres://"))

        let (away, _, awayErr) = try Self.runCLI(
            ["migrate", "--config", config, "--to", try Self.url(database, port: 5499)], environment: environment)
        #expect(away == 1 && awayErr.contains("Could not connect"), "stderr: \(awayErr)")
        for text in [dryOut, dryErr, stdout, stderr, refusal, badErr, awayErr] {
            #expect(!text.contains(Self.password), "the password is never printed")
        }
    }
}
