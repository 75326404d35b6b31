// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

/// What a connected dashboard costs the store's writer: the same jobs inserted with and without a live-feed client
/// (issue 11's burst figure). Opt-in (`HOTFOLDER_BENCH=1`): it prints timings and asserts nothing about them; run it
/// under `valgrind --tool=callgrind` for counts that do not depend on the machine's load.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["HOTFOLDER_BENCH"] == "1"))
struct LiveFeedCostTests {
    static func jobs(_ count: Int, from start: Int) -> [NewJob] {
        let spec = Data(#"{"request":{"prompt":"a red fox running through snow","model":"fast"}}"#.utf8)
        return (start..<start + count).map { index in
            NewJob(
                name: "job-\(index)", lane: "", state: .ready, priority: 0, specJSON: spec,
                inputs: [StoredInput(path: "p\(index).txt", identity: InputIdentity(device: 1, inode: UInt64(index + 1), size: 40, mtimeNs: 1), sha256: "aa")])
        }
    }

    @Test func insertingWithAndWithoutAClient() throws {
        let rounds = Int(ProcessInfo.processInfo.environment["HOTFOLDER_BENCH_ROUNDS"] ?? "3") ?? 3
        var lines: [String] = []
        for round in 0..<rounds {
            for subscribed in [false, true] {
                let directory = try TemporaryDirectory("feed-cost")
                let store = try SQLiteStateStore(directory: directory.path)
                let subscription = subscribed ? store.liveFeed.subscribe() : nil
                let started = ProcessInfo.processInfo.systemUptime
                for batch in 0..<100 { _ = try store.insertJobs(Self.jobs(50, from: batch * 50)) }
                let elapsed = ProcessInfo.processInfo.systemUptime - started
                #expect(try store.countsByState() == [.ready: 5_000])
                lines.append("round \(round + 1) \(subscribed ? "with a client   " : "without a client"): 5,000 jobs in \(String(format: "%.3f", elapsed)) s")
                _ = subscription
                try store.close()
            }
        }
        print(lines.joined(separator: "\n"))
    }

    /// The runner's writes for each job of a burst (ready -> submitting with a reservation, then its task id), one
    /// transaction each, with and without a live-feed client: what the burst-with-a-dashboard figure pays per job.
    @Test func committingWithAndWithoutAClient() async throws {
        let rounds = Int(ProcessInfo.processInfo.environment["HOTFOLDER_BENCH_ROUNDS"] ?? "3") ?? 3
        var lines: [String] = []
        for round in 0..<rounds {
            let only = ProcessInfo.processInfo.environment["HOTFOLDER_BENCH_ONLY"]
            for subscribed in [false, true] where only == nil || only == (subscribed ? "with" : "without") {
                let directory = try TemporaryDirectory("feed-commit-cost")
                let store = try SQLiteStateStore(directory: directory.path)
                var ids: [UUID] = []
                for batch in 0..<40 { ids += try store.insertJobs(Self.jobs(50, from: batch * 50)).map(\.id) }
                let subscription = subscribed ? store.liveFeed.subscribe() : nil
                let started = ProcessInfo.processInfo.systemUptime
                for (index, id) in ids.enumerated() {
                    _ = try await store.commit(
                        id, JobLifecycle.Commit(from: .ready, to: .submitting, message: "create call", counters: JobCounters(), spend: .reserve),
                        budget: BudgetRequest(cost: 0.1, tokens: 1000, caps: BudgetCaps(), laneCaps: [], calendar: Calendar(identifier: .gregorian)))
                    _ = try await store.recordTask(
                        id, provider: "gateway", taskID: "t-\(index)", status: "queued", nextPollAt: nil, from: .submitting)
                }
                let elapsed = ProcessInfo.processInfo.systemUptime - started
                #expect(try store.countsByState() == [.submitted: 2_000])
                lines.append("round \(round + 1) \(subscribed ? "with a client   " : "without a client"): 2,000 jobs' commits in \(String(format: "%.3f", elapsed)) s")
                _ = subscription
                try store.close()
            }
        }
        print(lines.joined(separator: "\n"))
    }
}
