// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

/// Bulk behaviour with realistic volumes: 10,000 jobs, 5,000 tasks in flight (timings are printed, not asserted).
@Suite struct StateStorePerformanceTests {
    @Test func tenThousandJobsInBatchesAndFiveThousandTasksInFlight() throws {
        let directory = try TemporaryDirectory("perf")
        let store = try SQLiteStateStore(directory: directory.path)
        let spec = Data(#"{"prompt":"a red fox running through snow","model":"fast","duration":5}"#.utf8)
        let jobs = (0..<10_000).map { index in
            NewJob(
                name: "job-\(index)", lane: "lane-\(index % 4)", state: index < 5_000 ? .submitting : .ready,
                priority: index % 3, specJSON: spec,
                inputs: [
                    StoredInput(
                        path: "/inbox/job-\(index).txt",
                        identity: InputIdentity(device: 1, inode: UInt64(index), size: 40, mtimeNs: Int64(index)),
                        sha256: String(repeating: "0", count: 56) + String(format: "%08x", index))
                ])
        }
        let clock = ContinuousClock()
        let insert = try clock.measure {
            for start in stride(from: 0, to: jobs.count, by: 1_000) {
                try store.insertJobs(Array(jobs[start..<start + 1_000]))
            }
        }
        #expect(try store.countsByState() == [.submitting: 5_000, .ready: 5_000])

        for job in jobs.prefix(5_000) {
            try store.recordTask(
                job.id, provider: "gateway", taskID: "task-\(job.name)", status: "queued", nextPollAt: nil)
        }
        var loaded: [InFlightTask] = []
        let load = try clock.measure { loaded = try store.inFlightTasks() }
        #expect(loaded.count == 5_000)
        let queue = try clock.measure { _ = try store.nextQueued(limit: 100) }

        // Timing targets belong to scripts/bench.sh; here the figures are only printed.
        print("state store: inserted 10,000 jobs (10 batches) in \(insert), loaded 5,000 in-flight tasks in \(load), read the queue head in \(queue)")
        #expect(try store.nextQueued(limit: 100).count == 100)
    }
}
