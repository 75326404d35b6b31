// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore
@testable import HotFolderIO
import Testing

/// A connected dashboard must not change how the store's writer works (issue 11: the burst with a client ran at
/// 0.79-0.92x of the burst without one).
@Suite struct LiveFeedWriterTests {
    /// GRDB drops every cached statement that may delete rows each time a transaction observer is added or removed,
    /// and `UPDATE job` may (the search index's triggers delete). One observer per published transaction thus made the
    /// writer compile its statements again on every commit while a client was connected.
    @Test func aConnectedClientDoesNotMakeTheWriterCompileItsStatementsAgain() async throws {
        let directory = try TemporaryDirectory("feed-writer")
        let store = try SQLiteStateStore(directory: directory.file("state"), clock: TestClock().closure)
        let jobs = try store.insertJobs(LiveFeedCostTests.jobs(3, from: 0))
        let subscription = store.liveFeed.subscribe()
        var iterator = subscription.makeAsyncIterator()
        func cached() throws -> Statement {
            try store.pool.write { db in try db.cachedStatement(sql: SQLiteStateStore.saveJobSQL) }
        }
        let submitting = JobLifecycle.Commit(from: .ready, to: .submitting, message: "create call", counters: JobCounters())
        try await store.commit(jobs[0].id, submitting)
        var before: Statement? = try cached()
        try await store.commit(jobs[1].id, submitting)
        try await store.commit(jobs[2].id, submitting)
        #expect(try cached() === before)
        before = nil  // a statement held outside the store keeps the database from closing
        // The events were still published, after each commit, in order.
        var states: [String] = []
        while states.count < 3, let batch = await iterator.next() {
            states += batch.filter { $0.name == "job.state" }.map(\.json)
        }
        #expect(states.count == 3)
        #expect(states.allSatisfy { $0.contains(#""state":"submitting""#) })
        try store.close()
    }

    /// Events of a transaction that rolls back are never published; those of the next commit are.
    @Test func aRolledBackTransactionPublishesNothing() async throws {
        let directory = try TemporaryDirectory("feed-writer-rollback")
        let store = try SQLiteStateStore(directory: directory.file("state"), clock: TestClock().closure)
        let jobs = try store.insertJobs(LiveFeedCostTests.jobs(2, from: 0))
        let subscription = store.liveFeed.subscribe()
        var iterator = subscription.makeAsyncIterator()
        // A commit from the wrong state fails inside its transaction after the job was read: nothing is published.
        await #expect(throws: (any Error).self) {
            try await store.commit(jobs[0].id, JobLifecycle.Commit(from: .submitting, to: .submitted, message: "x", counters: JobCounters()))
        }
        try await store.commit(jobs[1].id, JobLifecycle.Commit(from: .ready, to: .submitting, message: "create call", counters: JobCounters()))
        let batch = await iterator.next() ?? []
        #expect(batch.map(\.name) == ["job.state"])
        #expect(batch.first?.json.contains(jobs[1].id.lowercasedString) == true)
        try store.close()
    }
}
