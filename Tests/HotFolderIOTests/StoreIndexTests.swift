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
}
