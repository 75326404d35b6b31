// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

/// What a connected dashboard costs the store's writer: the same writes with and without a live-feed client (issue
/// 11's burst figure). Opt-in (`HOTFOLDER_BENCH=1`): it prints timings and asserts only the writes' results; with
/// `HOTFOLDER_BENCH_ONLY=with|without`, one side runs alone under `perf record`. (valgrind 3.19 cannot read this
/// toolchain's DWARF 5.)
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

    /// Runs `work` on a fresh store without and with a live-feed client, alternated for `HOTFOLDER_BENCH_ROUNDS` rounds
    /// (3 by default; `HOTFOLDER_BENCH_ONLY=with|without` runs one side, e.g. under `perf`), and prints its timings.
    /// `prepare` runs before the client connects and the clock starts; `work` returns what it did, for the line.
    static func measure<Prepared>(
        _ label: String, prepare: (SQLiteStateStore) throws -> Prepared,
        work: (SQLiteStateStore, Prepared) async throws -> String
    ) async throws {
        let environment = ProcessInfo.processInfo.environment
        let rounds = Int(environment["HOTFOLDER_BENCH_ROUNDS"] ?? "3") ?? 3
        let only = environment["HOTFOLDER_BENCH_ONLY"]
        var lines: [String] = []
        for round in 1...max(1, rounds) {
            for subscribed in [false, true] where only == nil || only == (subscribed ? "with" : "without") {
                let directory = try TemporaryDirectory(label)
                let store = try SQLiteStateStore(directory: directory.path)
                let prepared = try prepare(store)
                let subscription = subscribed ? store.liveFeed.subscribe() : nil
                let started = ProcessInfo.processInfo.systemUptime
                let what = try await work(store, prepared)
                let elapsed = ProcessInfo.processInfo.systemUptime - started
                lines.append("round \(round) \(subscribed ? "with a client   " : "without a client"): \(what) in \(String(format: "%.3f", elapsed)) s")
                _ = subscription
                try store.close()
            }
        }
        print(lines.joined(separator: "\n"))
    }

    @Test func insertingWithAndWithoutAClient() async throws {
        try await Self.measure("feed-cost", prepare: { _ in }) { store, _ in
            for batch in 0..<100 { _ = try store.insertJobs(Self.jobs(50, from: batch * 50)) }
            #expect(try store.countsByState() == [.ready: 5_000])
            return "5,000 jobs"
        }
    }

    /// The runner's writes for each job of a burst (ready -> submitting with a reservation, then its task id), one
    /// transaction each, with and without a live-feed client: what the burst-with-a-dashboard figure pays per job.
    @Test func committingWithAndWithoutAClient() async throws {
        let budget = BudgetRequest(cost: 0.1, tokens: 1000, caps: BudgetCaps(), laneCaps: [], calendar: Calendar(identifier: .gregorian))
        let submitting = JobLifecycle.Commit(from: .ready, to: .submitting, message: "create call", counters: JobCounters(), spend: .reserve)
        try await Self.measure("feed-commit-cost", prepare: { store in
            try (0..<40).flatMap { batch in try store.insertJobs(Self.jobs(50, from: batch * 50)).map(\.id) }
        }) { store, ids in
            for (index, id) in ids.enumerated() {
                _ = try await store.commit(id, submitting, budget: budget)
                _ = try await store.recordTask(id, provider: "gateway", taskID: "t-\(index)", status: "queued", nextPollAt: nil, from: .submitting)
            }
            #expect(try store.countsByState() == [.submitted: 2_000])
            return "2,000 jobs' commits"
        }
    }
}
