// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

extension StoreConformance {
    /// Two nodes race every job through its life under short leases. Node a works alone for three rounds, then stops
    /// claiming but keeps writing with the leases it holds (a node frozen and woken up), while node b, whose clock
    /// is ahead, takes everything over and finishes it. Every claim and write names its lease generation in the
    /// job's history; the generations never go down (no write by a node that had lost the job landed after the new
    /// owner's claim), each step happened once, and every job ends `done` with one task.
    static func checkNodesRacingThroughTheLifecycleNeverWriteWithALostLease(
        _ a: some StateStore, _ b: some StateStore
    ) async throws {
        let jobs = try await insert(a, (1...12).map { "race-\($0)" })
        // Alone, a claims three jobs a round and steps every job it holds: 3 + 6 + 9 steps, far from all 72.
        let (stepsAlone, held) = try await work(a, node: "a", jobs: jobs.map(\.id), rounds: 0..<3)
        async let zombie = work(a, node: "a", jobs: jobs.map(\.id), rounds: 3..<400, held: held, claiming: false)
        async let workedByB = work(b, node: "b", jobs: jobs.map(\.id), rounds: 0..<400, clockAhead: 5)
        let (stepsA, stepsB) = try await (zombie.steps + stepsAlone, workedByB.steps)
        #expect(stepsA > 0 && stepsB > 0, "both nodes did some of the work")
        for job in jobs {
            #expect(try await a.job(id: job.id)?.state == .done)
            let written = try await b.events(ofJob: job.id).filter { $0.kind != .created }
            let history = written.filter { $0.kind == .transition || $0.kind == .task }
            let moves = history.map { "\($0.fromState?.rawValue ?? "")>\($0.toState?.rawValue ?? "")" }
            #expect(
                moves == [
                    "ready>uploading", "uploading>submitting", "submitting>submitted", "submitted>running",
                    "running>downloading", "downloading>done",
                ], "each step once: \(moves)")
            let generations = written.compactMap { $0.message?.split(separator: "@").last.flatMap { Int($0) } }
            #expect(generations == generations.sorted(), "a lost lease never wrote after a newer one: \(generations)")
        }
    }

    /// One node's loop: claim (unless `claiming` is false) with a one-second lease at its own clock (`clockAhead`
    /// seconds ahead of the other's), then take each held job one step further per round, dropping a job as soon as a
    /// write says the lease or the state moved on. Returns the steps it made and the leases it still holds.
    private static func work(
        _ store: some StateStore, node: String, jobs: [UUID], rounds: Range<Int>, held start: [UUID: JobLease] = [:],
        claiming: Bool = true, clockAhead: Double = 0
    ) async throws -> (steps: Int, held: [UUID: JobLease]) {
        var held = start
        var steps = 0
        for round in rounds {
            let now = at(Double(round) / 2 + clockAhead)
            for leased in claiming ? try await store.claimQueued(node: node, limit: 3, leaseFor: 1, now: now) : [] {
                // The claim goes into the history (a fenced write itself), so that a write by the node that lost the
                // job, landing after it, shows as a generation going down.
                do {
                    try await store.appendNote(
                        leased.job.id, "claimed by \(leased.lease.owner)@\(leased.lease.generation)", lease: leased.lease)
                    held[leased.job.id] = leased.lease
                } catch StateStoreError.leaseLost {}
            }
            for (id, lease) in held.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
                do {
                    guard let job = try await store.job(id: id), try await step(store, job, lease) else {
                        held[id] = nil
                        continue
                    }
                    steps += 1
                } catch let error as StateStoreError {
                    switch error {
                    case .leaseLost, .unexpectedState: held[id] = nil
                    default: throw error
                    }
                }
            }
            if !claiming, held.isEmpty { return (steps, held) }
            if held.isEmpty, round % 10 == 0 {
                var done = 0
                for id in jobs where try await store.job(id: id)?.state == .done { done += 1 }
                if done == jobs.count { return (steps, held) }
            }
            await Task.yield()
        }
        return (steps, held)
    }

    /// Takes `job` one step; false when there is nothing left to do.
    private static func step(_ store: some StateStore, _ job: StoredJob, _ lease: JobLease) async throws -> Bool {
        let signature = "\(lease.owner)@\(lease.generation)"
        let next: [JobState: JobState] = [
            .ready: .uploading, .uploading: .submitting, .submitted: .running, .running: .downloading,
            .downloading: .done,
        ]
        if job.state == .submitting {
            try await store.recordTask(
                job.id, lease: lease, provider: "gateway", taskID: "task-\(job.id.lowercasedString)", status: "queued",
                nextPollAt: nil, from: .submitting, message: signature)
            return true
        }
        guard let to = next[job.state] else { return false }
        try await store.commit(
            job.id, JobLifecycle.Commit(from: job.state, to: to, message: signature, counters: JobCounters()), lease: lease)
        return true
    }
}
