// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderIO
import Logging
import PostgresNIO
import Testing

/// The conformance checks (StoreConformance.swift) against PostgreSQL: one private cluster for the whole suite
/// (initdb costs ~0.7 s), a database of its own per test, and two `PostgresStateStore`s, each with its own pool, as
/// the two nodes. Skipped, with the reason, only where PostgreSQL's server programs are not installed.
@Suite(
    .enabled(if: PostgresCluster.findBinaries() != nil, Comment(rawValue: PostgresCluster.missingMessage)),
    SharedPostgresCluster())
struct PostgresStoreConformanceTests {
    let clock = TestClock(StoreConformance.t0)

    /// Runs `body` with two stores (nodes `a` and `b`) on a new database in the suite's cluster.
    func withTwoNodes(_ body: (PostgresStateStore, PostgresStateStore) async throws -> Void) async throws {
        let cluster = try #require(SharedPostgresCluster.current, "the suite's cluster is running")
        let database = "conformance_\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await cluster.withClient(maximumConnections: 1) { admin in
            try await admin.query("CREATE DATABASE \(unescaped: database)")
        }
        var configuration = cluster.clientConfiguration
        configuration.database = database
        let target = "postgresql://\(PostgresCluster.user)@\(cluster.socketDirectory)/\(database)"
        try await PostgresStateStore.withStore(configuration, target: target, callTimeout: .seconds(20), clock: clock.closure) { a in
            try await PostgresStateStore.withStore(configuration, target: target, callTimeout: .seconds(20), clock: clock.closure) { b in
                try await body(a, b)
            }
        }
    }

    @Test func nodesRacingThroughTheLifecycleNeverWriteWithALostLease() async throws {
        try await withTwoNodes { try await StoreConformance.checkNodesRacingThroughTheLifecycleNeverWriteWithALostLease($0, $1) }
    }

    @Test func jobsDueAreClaimedByOneNode() async throws {
        try await withTwoNodes { try await StoreConformance.checkJobsDueAreClaimedByOneNode($0, $1) }
    }

    @Test func tasksDueAreThoseOfTheNodesJobs() async throws {
        try await withTwoNodes { try await StoreConformance.checkTasksDueAreThoseOfTheNodesJobs($0, $1) }
    }

    @Test func aDailyCapHoldsAcrossNodes() async throws {
        try await withTwoNodes { try await StoreConformance.checkADailyCapHoldsAcrossNodes($0, $1) }
    }

    @Test func takeOversAreClaimedWithoutTheQueue() async throws {
        try await withTwoNodes { try await StoreConformance.checkTakeOversAreClaimedWithoutTheQueue($0, $1) }
    }

    @Test func leavingTheWorkingStatesGivesTheLeaseBack() async throws {
        try await withTwoNodes { try await StoreConformance.checkLeavingTheWorkingStatesGivesTheLeaseBack($0, $1) }
    }

    @Test func aHalfDoneMoveIsTakenOverAfterTheLease() async throws {
        try await withTwoNodes { try await StoreConformance.checkAHalfDoneMoveIsTakenOverAfterTheLease($0, $1) }
    }

    @Test func maxInFlightHoldsAcrossNodes() async throws {
        try await withTwoNodes { try await StoreConformance.checkMaxInFlightHoldsAcrossNodes($0, $1) }
    }

    @Test func theQueuePauseIsSharedAndProbedByOneNode() async throws {
        try await withTwoNodes { try await StoreConformance.checkTheQueuePauseIsSharedAndProbedByOneNode($0, $1) }
    }

    @Test func aCleanStopGivesEveryLeaseBack() async throws {
        try await withTwoNodes { try await StoreConformance.checkACleanStopGivesEveryLeaseBack($0, $1) }
    }

    @Test func aCommitToDoneWritesOneDeliveryAndAFencedOneNone() async throws {
        try await withTwoNodes { try await StoreConformance.checkACommitToDoneWritesOneDeliveryAndAFencedOneNone($0, $1) }
    }

    @Test func twoNodesNeverTakeTheSameDelivery() async throws {
        try await withTwoNodes { try await StoreConformance.checkTwoNodesNeverTakeTheSameDelivery($0, $1) }
    }

    @Test func aFailedDeliveryComesBackAfterItsRetryTime() async throws {
        try await withTwoNodes { try await StoreConformance.checkAFailedDeliveryComesBackAfterItsRetryTime($0, $1) }
    }

    @Test func pruningRemovesOnlyOldFinishedJobsThatHoldNoInput() async throws {
        try await withTwoNodes {
            try await StoreConformance.checkPruningRemovesOnlyOldFinishedJobsThatHoldNoInput($0, $1, clock: clock)
        }
    }

    @Test func recordJobsSkipsTakenKeysAndVanishedFiles() async throws {
        try await withTwoNodes { try await StoreConformance.checkRecordJobsSkipsTakenKeysAndVanishedFiles($0, $1) }
    }

    @Test func filmsSettleByCompareAndSet() async throws {
        try await withTwoNodes { try await StoreConformance.checkFilmsSettleByCompareAndSet($0, $1, clock: clock) }
    }

    @Test func clipsMadeAreTheDoneOnesOfTheSameShot() async throws {
        try await withTwoNodes { try await StoreConformance.checkClipsMadeAreTheDoneOnesOfTheSameShot($0, $1, clock: clock) }
    }

    @Test func jobQueriesReadWhatCommitsWrote() async throws {
        try await withTwoNodes { try await StoreConformance.checkJobQueriesReadWhatCommitsWrote($0, $1, clock: clock) }
    }

    @Test func retriesAndDisposals() async throws {
        try await withTwoNodes { try await StoreConformance.checkRetriesAndDisposals($0, $1) }
    }

    @Test func heldAndSharedInputs() async throws {
        try await withTwoNodes { try await StoreConformance.checkHeldAndSharedInputs($0, $1) }
    }

    @Test func dropKeysOfJobsSharingAFileLastUntilTheLastLetsGo() async throws {
        try await withTwoNodes { try await StoreConformance.checkDropKeysOfJobsSharingAFileLastUntilTheLastLetsGo($0, $1) }
    }

    @Test func filesAreHeldByPathSizeAndTimeWhateverTheirInode() async throws {
        try await withTwoNodes { try await StoreConformance.checkFilesAreHeldByPathSizeAndTimeWhateverTheirInode($0, $1) }
    }

    @Test func aStoryboardRecordedByTwoNodesMakesOneFilm() async throws {
        try await withTwoNodes { try await StoreConformance.checkAStoryboardRecordedByTwoNodesMakesOneFilm($0, $1) }
    }

    @Test func budgetRecords() async throws {
        try await withTwoNodes { try await StoreConformance.checkBudgetRecords($0, $1) }
    }

    @Test func dashboardReads() async throws {
        try await withTwoNodes { try await StoreConformance.checkDashboardReads($0, $1, clock: clock) }
    }

    @Test func stallsAreToldOncePerStall() async throws {
        try await withTwoNodes { try await StoreConformance.checkStallsAreToldOncePerStall($0, $1, clock: clock) }
    }

    /// A database that takes no writes (a standby, or one set read-only) is not ready (`/readyz`), nor is a server
    /// gone; reads still go through.
    @Test func aReadOnlyDatabaseCannotWrite() async throws {
        let cluster = try #require(SharedPostgresCluster.current, "the suite's cluster is running")
        let database = "readonly_\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await cluster.withClient(maximumConnections: 1) { admin in
            try await admin.query("CREATE DATABASE \(unescaped: database)")
        }
        var configuration = cluster.clientConfiguration
        configuration.database = database
        try await PostgresStateStore.withStore(configuration, target: database, callTimeout: .seconds(20), clock: clock.closure) { store in
            #expect(await store.canWrite())
            _ = try await StoreConformance.insert(store, ["before"])
        }
        _ = try await cluster.withClient(maximumConnections: 1) { admin in
            try await admin.query("ALTER DATABASE \(unescaped: database) SET default_transaction_read_only = on")
        }
        // Not migrated again: the schema is there, and a read-only database refuses even CREATE TABLE IF NOT EXISTS.
        let store = PostgresStateStore(configuration: configuration, target: database, callTimeout: .seconds(20), clock: clock.closure)
        try await withThrowingTaskGroup(of: Void.self) { group throws in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            #expect(await !store.canWrite())
            #expect(try await store.jobCounts() == [.ready: 1], "reads still go through")
            await #expect(throws: StateStoreError.self) { _ = try await StoreConformance.insert(store, ["after"]) }
        }
    }

    @Test func migrationsAreRecordedAndASecondStartAppliesNothing() async throws {
        try await withTwoNodes { a, b in
            #expect(try await a.appliedMigrations() == ["pg-v1", "pg-v2-queue-pause", "pg-v3-films-stalls", "pg-v4-input-path"])
            try await b.migrate()
            #expect(try await b.appliedMigrations() == ["pg-v1", "pg-v2-queue-pause", "pg-v3-films-stalls", "pg-v4-input-path"])
        }
    }

    @Test func twoNodesStartingAtOnceMigrateOnce() async throws {
        let cluster = try #require(SharedPostgresCluster.current, "the suite's cluster is running")
        let database = "conformance_\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await cluster.withClient(maximumConnections: 1) { admin in
            try await admin.query("CREATE DATABASE \(unescaped: database)")
        }
        var configuration = cluster.clientConfiguration
        configuration.database = database
        let start = { @Sendable [configuration] () async throws -> [String] in
            try await PostgresStateStore.withStore(configuration, target: database, callTimeout: .seconds(20)) { store in
                try await store.appliedMigrations()
            }
        }
        async let first = start()
        async let second = start()
        let (one, two) = try await (first, second)
        #expect(one == ["pg-v1", "pg-v2-queue-pause", "pg-v3-films-stalls", "pg-v4-input-path"] && two == ["pg-v1", "pg-v2-queue-pause", "pg-v3-films-stalls", "pg-v4-input-path"], "both see the schema, made once")
    }

    @Test func aDropInsertedTwiceMakesOneJob() async throws {
        try await withTwoNodes { try await StoreConformance.checkADropInsertedTwiceMakesOneJob($0, $1) }
    }

    @Test func concurrentClaimsAreDisjointAndComplete() async throws {
        try await withTwoNodes { try await StoreConformance.checkConcurrentClaimsAreDisjointAndComplete($0, $1) }
    }

    @Test func anExpiredLeaseIsTakenOver() async throws {
        try await withTwoNodes { try await StoreConformance.checkAnExpiredLeaseIsTakenOver($0, $1) }
    }

    @Test func aCommitWithAnOldGenerationFailsAndChangesNothing() async throws {
        try await withTwoNodes { try await StoreConformance.checkACommitWithAnOldGenerationFailsAndChangesNothing($0, $1) }
    }

    @Test func taskWritesAreFenced() async throws {
        try await withTwoNodes { try await StoreConformance.checkTaskWritesAreFenced($0, $1) }
    }

    @Test func aHeartbeatRenewsOnlyHeldJobs() async throws {
        try await withTwoNodes { try await StoreConformance.checkAHeartbeatRenewsOnlyHeldJobs($0, $1) }
    }

    @Test func theCommitStillRejectsAWrongFromState() async throws {
        try await withTwoNodes { try await StoreConformance.checkTheCommitStillRejectsAWrongFromState($0, $1) }
    }

    @Test func theNodesListShowsBothNodesWithJobsHeld() async throws {
        try await withTwoNodes { try await StoreConformance.checkTheNodesListShowsBothNodesWithJobsHeld($0, $1) }
    }

    @Test func releasingEveryJobOfADropForgetsItsKey() async throws {
        try await withTwoNodes { try await StoreConformance.checkReleasingEveryJobOfADropForgetsItsKey($0, $1) }
    }

    @Test func aStoreURLWithASocketFolderReachesTheServer() async throws {
        let cluster = try #require(SharedPostgresCluster.current, "the suite's cluster is running")
        let database = "endpoint_\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await cluster.withClient(maximumConnections: 1) { admin in
            try await admin.query("CREATE DATABASE \(unescaped: database)")
        }
        let endpoint = try PostgresEndpoint(url: "postgres://\(PostgresCluster.user)@/\(database)?host=\(cluster.socketDirectory)")
        let applied = try await PostgresStateStore.withStore(endpoint, callTimeout: .seconds(20)) { store in
            #expect(store.target == endpoint.description)
            return try await store.appliedMigrations()
        }
        #expect(applied == ["pg-v1", "pg-v2-queue-pause", "pg-v3-films-stalls", "pg-v4-input-path"])
    }

    @Test func anInsertedDropWakesAWaitingNodeAndARefusedOneDoesNot() async throws {
        let cluster = try #require(SharedPostgresCluster.current, "the suite's cluster is running")
        try await withTwoNodes { a, b in
            let started = ContinuousClock.now
            #expect(try await b.waitForWork(timeout: .milliseconds(300)) == false, "nothing announced: a timeout")
            #expect(ContinuousClock.now - started < .seconds(15))
            _ = try await StoreConformance.insert(a, ["first"])

            // A drop refused as a duplicate rolls back, and its announcement with it.
            var since = Date()
            async let quiet = b.waitForWork(timeout: .seconds(2))
            try await waitUntilSomeoneListens(cluster, since: since)
            await #expect(throws: StateStoreError.self) { _ = try await StoreConformance.insert(a, ["first"]) }
            #expect(try await quiet == false, "a rolled-back insert announces nothing")

            since = Date()
            async let woken = b.waitForWork(timeout: .seconds(30))
            try await waitUntilSomeoneListens(cluster, since: since)
            let announced = ContinuousClock.now
            _ = try await StoreConformance.insert(a, ["second"])
            #expect(try await woken == true)
            #expect(ContinuousClock.now - announced < .seconds(15), "woken by the announcement, not by the timeout")

            // A lease given back makes its job claimable at once: that is announced too.
            let lease = try #require(try await a.claimQueued(node: "a", limit: 1, leaseFor: 30, now: StoreConformance.t0).first?.lease)
            since = Date()
            async let released = b.waitForWork(timeout: .seconds(30))
            try await waitUntilSomeoneListens(cluster, since: since)
            let releasedAt = ContinuousClock.now
            #expect(try await a.releaseLease(lease))
            #expect(try await released == true)
            #expect(ContinuousClock.now - releasedAt < .seconds(15))
        }
    }

    /// Returns once some session of the cluster sent `LISTEN` at or after `since`, so an announcement reaches it.
    ///
    /// Only a `LISTEN` sent since then counts: the pooled connection of an earlier, finished wait still shows
    /// `LISTEN` as its last statement, and announcing on the strength of that one lost the announcement under load
    /// (the next wait had not started listening yet, and ran into its 30 s timeout).
    private func waitUntilSomeoneListens(_ cluster: PostgresCluster, since: Date) async throws {
        let after = since.timeIntervalSince1970 - 0.001
        try await cluster.withClient(maximumConnections: 1) { admin in
            try await poll(until: .seconds(10), "a node listens") {
                var count = 0
                for try await (listeners) in try await admin.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND query_start >= to_timestamp(\(after))"
                ).decode(Int.self) {
                    count = listeners
                }
                return count > 0
            }
        }
    }

    @Test func aStoppedServerIsUnavailableWithinTheCallDeadline() async throws {
        let cluster = try PostgresCluster()
        defer { cluster.stop() }
        var configuration = cluster.clientConfiguration
        configuration.options.connectTimeout = .seconds(5)
        // Quiet: the pool logs every failed reconnection attempt at info.
        var logger = Logger(label: "hotfolder.tests.postgres-store")
        logger.logLevel = .critical
        try await PostgresStateStore.withStore(
            configuration, target: "postgresql://hotfolder@private-socket/postgres", callTimeout: .seconds(4),
            clock: clock.closure, logger: logger
        ) { store in
            _ = try await StoreConformance.insert(store, ["before"])
            cluster.stop()
            let started = ContinuousClock.now
            do {
                _ = try await store.claimQueued(node: "a", limit: 1, leaseFor: 30, now: StoreConformance.t0)
                Issue.record("a claim against a stopped server succeeded")
            } catch let error as StateStoreError {
                guard case .unavailable(let operation, _) = error else {
                    Issue.record("expected unavailable, got \(error)")
                    return
                }
                #expect(operation == "claim jobs")
                #expect(!error.description.localizedCaseInsensitiveContains("password"))
            }
            #expect(ContinuousClock.now - started < .seconds(20), "the call gave up by its deadline, not postgres-nio's ~40 s")
        }
    }

    @Test func theStoreGoesOnWhenARestartedServerReturns() async throws {
        let cluster = try PostgresCluster()
        defer { cluster.stop() }
        var logger = Logger(label: "hotfolder.tests.postgres-store")
        logger.logLevel = .critical
        try await PostgresStateStore.withStore(
            cluster.clientConfiguration, target: "private-socket", callTimeout: .seconds(5), clock: clock.closure,
            logger: logger
        ) { store in
            let before = try await StoreConformance.insert(store, ["before"])
            try cluster.restart()
            // The pool's old connections died with the server: a call may fail as unavailable once, then it goes on.
            var answered = false
            for _ in 0..<20 where !answered {
                do {
                    _ = try await store.job(id: before[0].id)
                    answered = true
                } catch StateStoreError.unavailable {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(answered, "the store answers again after the restart")
            #expect(try await store.job(id: before[0].id)?.name == "before", "nothing committed was lost")
            let after = try await StoreConformance.insert(store, ["after"])
            let claimed = try await store.claimQueued(node: "a", limit: 5, leaseFor: 30, now: StoreConformance.t0)
            #expect(Set(claimed.map(\.job.id)) == Set((before + after).map(\.id)))
        }
    }
}

/// One private cluster for a whole suite: started before its first test, stopped and removed after its last.
struct SharedPostgresCluster: SuiteTrait, TestScoping {
    /// The running cluster, inside the suite's tests.
    @TaskLocal static var current: PostgresCluster?

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        try await withPostgresCluster { cluster in
            try await Self.$current.withValue(cluster) { try await function() }
        }
    }
}
