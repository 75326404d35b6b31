// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

extension StoreConformance {
    /// Two nodes race every job through its life under short leases, taking jobs over from each other all the time.
    /// Every claim and write names its lease generation in the job's history; the generations never go down (no write
    /// by a node that had lost the job landed after the new owner's claim), each step happened once, and every job
    /// ends `done` with one task.
    static func checkNodesRacingThroughTheLifecycleNeverWriteWithALostLease(
        _ a: some StateStore, _ b: some StateStore
    ) async throws {
        let jobs = try await insert(a, (1...12).map { "race-\($0)" })
        async let workedByA = work(a, node: "a", jobs: jobs.map(\.id))
        async let workedByB = work(b, node: "b", jobs: jobs.map(\.id))
        let (stepsA, stepsB) = try await (workedByA, workedByB)
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

    /// One node's loop: claim with a one-second lease at its own clock, then take each held job one step further
    /// per round, dropping a job as soon as a write says the lease or the state moved on. Returns the steps it made.
    private static func work(_ store: some StateStore, node: String, jobs: [UUID]) async throws -> Int {
        var held: [UUID: JobLease] = [:]
        var steps = 0
        for round in 0..<400 {
            let now = at(Double(round) / 2)
            for leased in try await store.claimQueued(node: node, limit: 3, leaseFor: 1, now: now) {
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
            if held.isEmpty, round % 10 == 0 {
                var done = 0
                for id in jobs where try await store.job(id: id)?.state == .done { done += 1 }
                if done == jobs.count { return steps }
            }
            await Task.yield()
        }
        return steps
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
