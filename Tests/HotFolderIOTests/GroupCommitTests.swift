// SPDX-License-Identifier: GPL-2.0-or-later
import Dispatch
import Foundation
import GRDB
import HotFolderCore
@testable import HotFolderIO
import Testing

/// The runner's writes that arrive together share one transaction (issue 14: a burst wrote two transactions per job),
/// each in its own savepoint: one refused write is rolled back alone, a failed transaction writes nothing, and no
/// caller hears "written" before the commit.
@Suite struct GroupCommitTests {
    let directory: TemporaryDirectory
    let store: SQLiteStateStore
    static let submitting = JobLifecycle.Commit(from: .ready, to: .submitting, message: "create call", counters: JobCounters())

    init() throws {
        directory = try TemporaryDirectory("group-commit")
        store = try SQLiteStateStore(directory: directory.file("state"), busyTimeout: 0.2, clock: TestClock().closure)
    }

    /// Holds the writer queue until `release` is signalled (a long write of another part of the service).
    private func holdWriter() -> DispatchSemaphore {
        let release = DispatchSemaphore(value: 0)
        let held = DispatchSemaphore(value: 0)
        let pool = store.pool
        Thread {
            pool.writeWithoutTransaction { _ in
                held.signal()
                release.wait()
            }
        }.start()
        held.wait()
        return release
    }

    /// Waits until `count` writes wait for the next group commit.
    private func waitForPending(_ count: Int) async throws {
        let deadline = Date().addingTimeInterval(10)
        while store.groupCommit.pending.withLock({ $0.entries.count }) < count {
            try #require(Date() < deadline, "the writes never queued")
            await Task.yield()
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    @Test func writesThatArriveTogetherShareOneTransactionAndARefusedOneFailsAlone() async throws {
        let jobs = try store.insertJobs(LiveFeedCostTests.jobs(6, from: 0))
        let leased = try await store.claimQueued(node: "n1", limit: 6, leaseFor: 60, now: Date(), maxInFlight: nil)
        #expect(leased.count == 6)
        let before = store.groupCommitCounts
        let release = holdWriter()
        // Four commits under their leases, one under a lease of another generation (lost), one from the wrong state.
        var stale = leased[4].lease
        stale.generation += 1
        let store = self.store
        let results = Task {
            await withTaskGroup(of: (Int, Result<StoredJob, any Error>).self) { group in
                for index in 0..<6 {
                    let lease = index == 4 ? stale : leased[index].lease
                    let commit = index == 5
                        ? JobLifecycle.Commit(from: .submitted, to: .running, message: "wrong", counters: JobCounters())
                        : Self.submitting
                    group.addTask {
                        do {
                            return (index, .success(try await store.commit(
                                leased[index].job.id, commit, lease: lease, outputPath: nil, task: nil, budget: nil)))
                        } catch {
                            return (index, .failure(error))
                        }
                    }
                }
                var all: [Int: Result<StoredJob, any Error>] = [:]
                for await (index, result) in group { all[index] = result }
                return all
            }
        }
        try await waitForPending(6)
        release.signal()
        let answers = await results.value
        let after = store.groupCommitCounts
        #expect(after.commits - before.commits == 1)
        #expect(after.writes - before.writes == 6)
        for index in 0..<4 {
            #expect((try? answers[index]?.get())?.state == .submitting)
        }
        #expect(throws: StateStoreError.self) { try answers[4]?.get() }
        if case .failure(StateStoreError.leaseLost) = answers[4] {} else { Issue.record("expected leaseLost, got \(String(describing: answers[4]))") }
        if case .failure(StateStoreError.unexpectedState) = answers[5] {} else { Issue.record("expected unexpectedState, got \(String(describing: answers[5]))") }
        let stored = try jobs.map { try #require(try store.job($0.id)) }
        #expect(stored.map(\.state) == [.submitting, .submitting, .submitting, .submitting, .ready, .ready])
        // Each written job has its event; the refused ones none.
        #expect(try store.events(jobs[0].id).contains { $0.toState == .submitting })
        #expect(try !store.events(jobs[4].id).contains { $0.toState == .submitting })
        try store.close()
    }

    @Test func aTransactionThatCannotBeginWritesNothingAndEveryWriteHearsWhy() async throws {
        let jobs = try store.insertJobs(LiveFeedCostTests.jobs(3, from: 0))
        let leased = try await store.claimQueued(node: "n1", limit: 3, leaseFor: 60, now: Date(), maxInFlight: nil)
        // Another process holds SQLite's write lock past the busy timeout (0.2 s here).
        let other = try DatabaseQueue(path: store.path)
        let (held, release, ended) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        Thread {
            try? other.inDatabase { db in
                try db.inTransaction(.immediate) {
                    held.signal()
                    release.wait()
                    return .rollback
                }
            }
            ended.signal()
        }.start()
        held.wait()
        let store = self.store
        let errors = await withTaskGroup(of: (any Error)?.self) { group in
            for item in leased {
                group.addTask {
                    do {
                        _ = try await store.commit(item.job.id, Self.submitting, lease: item.lease, outputPath: nil, task: nil, budget: nil)
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            var all: [(any Error)?] = []
            for await error in group { all.append(error) }
            return all
        }
        #expect(errors.count == 3)
        for error in errors {
            let storeError = try #require(error as? StateStoreError)
            #expect(storeError.isTransient, "a locked database is worth waiting for: \(storeError)")
        }
        release.signal()
        ended.wait()
        #expect(try jobs.map { try #require(try store.job($0.id)).state } == [.ready, .ready, .ready])
        try store.close()
    }

    /// A write that fails inside a group takes its live events with it; the others' are published.
    @Test func aWriteRolledBackInsideAGroupPublishesNothing() async throws {
        struct Refused: Error {}
        let jobs = try store.insertJobs(LiveFeedCostTests.jobs(2, from: 0))
        var iterator = store.liveFeed.subscribe().makeAsyncIterator()
        let release = holdWriter()
        let store = self.store
        let refused = Task {
            try await store.writeGrouped("refuse") { db in
                try db.execute(sql: "UPDATE job SET name = 'renamed' WHERE id = ?", arguments: [jobs[0].id.lowercasedString])
                store.publishAfterCommit(db) { $0.publish(name: "rolled.back", json: "{}") }
                throw Refused()
            }
        }
        try await waitForPending(1)
        let kept = Task {
            try await store.writeGrouped("keep") { db in
                store.publishAfterCommit(db) { $0.publish(name: "kept", json: "{}") }
            }
        }
        try await waitForPending(2)
        release.signal()
        await #expect(throws: StateStoreError.self) { try await refused.value }  // wrapped as any write's error is
        try await kept.value
        let batch = await iterator.next() ?? []
        #expect(batch.map(\.name) == ["kept"])
        #expect(try store.job(jobs[0].id)?.name == "job-0")
        try store.close()
    }

    /// A step names only the columns it changes: SQLite rewrites every index over a named column, changed or not, and
    /// the description (with the search index's trigger over it) never changes after planning.
    @Test func aStepRewritesOnlyTheColumnsItChanges() async throws {
        let jobs = try store.insertJobs(LiveFeedCostTests.jobs(1, from: 0))
        try await store.pool.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE rewritten (what TEXT);
                    CREATE TRIGGER spec_rewritten AFTER UPDATE OF specJSON ON job BEGIN INSERT INTO rewritten VALUES ('spec'); END;
                    CREATE TRIGGER name_rewritten AFTER UPDATE OF name, lane, priority ON job BEGIN INSERT INTO rewritten VALUES ('name'); END;
                    CREATE TRIGGER state_rewritten AFTER UPDATE OF state ON job BEGIN INSERT INTO rewritten VALUES ('state'); END;
                    """)
        }
        let leased = try await store.claimQueued(node: "n1", limit: 1, leaseFor: 60, now: Date(), maxInFlight: nil)
        _ = try await store.commit(jobs[0].id, Self.submitting, lease: leased[0].lease, outputPath: "/out/job-0", task: nil, budget: nil)
        let rewritten = try await store.pool.read { db in try String.fetchAll(db, sql: "SELECT what FROM rewritten") }
        #expect(rewritten == ["state"])
        let stored = try #require(try store.job(jobs[0].id))
        #expect(stored.state == .submitting)
        #expect(stored.outputPath == "/out/job-0")
        #expect(stored.specJSON == jobs[0].specJSON)
        try store.close()
    }

    @Test func statementJournalsStayInMemory() throws {
        #expect(try store.read("temp_store") { db in try Int.fetchOne(db, sql: "PRAGMA temp_store") } == 2)
        try store.close()
    }
}
