// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
@testable import HotFolderIO
import Testing

/// The queries of a job's life are indexed: their cost must not grow with the history (issue 14), and the live
/// feed's `job.done` asks for the job's spend on every finished job while a dashboard is connected (issue 11).
@Suite struct StoreIndexTests {
    let directory: TemporaryDirectory
    let store: SQLiteStateStore

    init() throws {
        directory = try TemporaryDirectory("store-index")
        store = try SQLiteStateStore(directory: directory.file("state"), clock: TestClock().closure)
    }

    @Test func everyForeignKeyHasAnIndexSoPruningDoesNotScanChildTables() throws {
        #expect(try store.foreignKeysWithoutIndex() == [])
    }

    @Test func aJobsSpendIsLookedUpThroughAnIndex() throws {
        for sql in [
            "SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM spend WHERE jobId = ?",
            "SELECT state, SUM(amount) FROM spend WHERE jobId = ? GROUP BY state",
            "SELECT EXISTS (SELECT 1 FROM spend WHERE jobId = ? AND state = 'reserved')",
        ] {
            let plan = try store.queryPlan(sql, arguments: ["0b7c"])
            #expect(!plan.contains { $0.hasPrefix("SCAN spend") }, "\(sql): \(plan)")
            #expect(plan.contains { $0.hasPrefix("SEARCH spend USING INDEX") }, "\(sql): \(plan)")
        }
    }

    /// v5-lease's index `job_lease (state, lease_until)` made SQLite read every failed job's row to sort them for the
    /// overview's recent failures (24 ms with 20,000 failed jobs, p99 150 ms for the overview page), and every job
    /// of the listed states for `jobs(inStates:)`: both must read the index that is sorted the way they ask.
    @Test func recentFailuresAndJobsByStateReadTheIndexSortedTheirWay() throws {
        let failures = try store.queryPlan(SQLiteStateStore.recentFailuresSQL, arguments: ["10"])
        #expect(failures.contains { $0.contains("INDEX job_state_updated") }, "\(failures)")
        let byState = try store.queryPlan(SQLiteStateStore.jobsInStatesSQL(["done", "failed"]), arguments: ["10"])
        #expect(byState.contains { $0.contains("INDEX job_state_created") }, "\(byState)")
    }
}
