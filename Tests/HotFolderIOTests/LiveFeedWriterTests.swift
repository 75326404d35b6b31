// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore
@testable import HotFolderIO
import Testing

/// A connected dashboard must not change how the store's writer works (issue 11: the burst with a client ran at
/// 0.79-0.92x of the burst without one), and it sees exactly the committed changes.
@Suite struct LiveFeedWriterTests {
    let directory: TemporaryDirectory
    let store: SQLiteStateStore
    let jobs: [StoredJob]
    static let submitting = JobLifecycle.Commit(from: .ready, to: .submitting, message: "create call", counters: JobCounters())

    init() throws {
        directory = try TemporaryDirectory("feed-writer")
        store = try SQLiteStateStore(directory: directory.file("state"), clock: TestClock().closure)
        jobs = try store.insertJobs(LiveFeedCostTests.jobs(3, from: 0))
    }

    /// GRDB drops every cached statement that may delete rows each time a transaction observer is added or removed,
    /// and `UPDATE job` may (the search index's triggers delete). One observer per published transaction thus made the
    /// writer compile its statements again on every commit while a client was connected.
    @Test func aConnectedClientDoesNotMakeTheWriterCompileItsStatementsAgain() async throws {
        var iterator = store.liveFeed.subscribe().makeAsyncIterator()
        func cached() throws -> Statement {
            try store.pool.write { db in try db.cachedStatement(sql: SQLiteStateStore.saveJobSQL(setting: ["state = ?"])) }
        }
        try await store.commit(jobs[0].id, Self.submitting)
        var before: Statement? = try cached()
        try await store.commit(jobs[1].id, Self.submitting)
        try await store.commit(jobs[2].id, Self.submitting)
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

    /// Events of a transaction that rolls back are never published, not even with the next commit's.
    @Test func aRolledBackTransactionPublishesNothing() async throws {
        struct Refused: Error {}
        var iterator = store.liveFeed.subscribe().makeAsyncIterator()
        #expect(throws: (any Error).self) {
            try store.write("change a job, then refuse") { db in
                try db.execute(sql: "UPDATE job SET name = 'renamed' WHERE id = ?", arguments: [jobs[0].id.lowercasedString])
                store.publishAfterCommit(db) { $0.publish(name: "rolled.back", json: "{}") }
                throw Refused()
            }
        }
        try await store.commit(jobs[1].id, Self.submitting)
        let batch = await iterator.next() ?? []
        #expect(batch.map(\.name) == ["job.state"])
        #expect(batch.first?.json.contains(jobs[1].id.lowercasedString) == true)
        try store.close()
    }
}
