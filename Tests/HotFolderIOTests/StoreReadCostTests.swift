// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

/// The per-job reads the runner makes on every job (its inputs before the create call; its events for the log).
/// Opt-in (`HOTFOLDER_BENCH=1`): prints timings, asserts only the answers.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["HOTFOLDER_BENCH"] == "1"))
struct StoreReadCostTests {
    @Test func readingAJobsInputsAndEvents() throws {
        let directory = try TemporaryDirectory("read-cost")
        let store = try SQLiteStateStore(directory: directory.path)
        let jobs = try store.insertJobs(LiveFeedCostTests.jobs(1_000, from: 0))
        var lines: [String] = []
        for round in 1...3 {
            let started = ProcessInfo.processInfo.systemUptime
            var inputs = 0
            for _ in 0..<10 {
                for job in jobs {
                    inputs += try store.inputs(ofJob: job.id).count
                    _ = try store.events(job.id)
                }
            }
            let elapsed = ProcessInfo.processInfo.systemUptime - started
            #expect(inputs == 10_000)
            lines.append("round \(round): 10,000 inputs(ofJob:) + 10,000 events(_:) in \(String(format: "%.3f", elapsed)) s")
        }
        print(lines.joined(separator: "\n"))
    }
}
