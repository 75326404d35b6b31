// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

/// The checks every ``StateStore`` must pass, run against SQLite (StoreConformanceTests) and PostgreSQL
/// (PostgresStoreConformanceTests). Each check gets two stores on one database, `a` and `b`: two nodes. Times are
/// passed in (`t0` and offsets from it), so nothing sleeps.
enum StoreConformance {
    /// The start of every check's time line (whole seconds: times survive the round trip through a double exactly).
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    /// The lease every claim asks for.
    static let leaseFor: TimeInterval = 30

    static func at(_ seconds: TimeInterval) -> Date { t0.addingTimeInterval(seconds) }

    static func newJob(_ name: String, priority: Int = 0) -> NewJob {
        NewJob(
            name: name, priority: priority, specJSON: Data(#"{"prompt":"\#(name)"}"#.utf8),
            inputs: [
                StoredInput(
                    path: "lane/\(name).txt", identity: InputIdentity(device: 1, inode: 2, size: 3, mtimeNs: 4),
                    sha256: "ab")
            ])
    }

    static func dropKey(_ name: String) -> DropKey {
        DropKey(files: [DropKey.File(relativePath: "lane/\(name).txt", size: 3, mtimeNs: 4, sha256: "ab")])
    }

    /// Inserts one single-job drop per name through `store`.
    static func insert(_ store: some StateStore, _ names: [String], priority: Int = 0) async throws -> [StoredJob] {
        var jobs: [StoredJob] = []
        for name in names {
            jobs += try await store.insertDrop(dropKey(name), jobs: [newJob(name, priority: priority)])
        }
        return jobs
    }

    static func move(_ from: JobState, _ to: JobState) -> JobLifecycle.Commit {
        JobLifecycle.Commit(from: from, to: to, message: "\(from) to \(to)", counters: JobCounters())
    }

    // MARK: - Checks

    /// The same drop seen by two nodes at once makes one job; the other node gets `duplicateDrop` and writes nothing.
    static func checkADropInsertedTwiceMakesOneJob(_ a: some StateStore, _ b: some StateStore) async throws {
        let key = dropKey("sunset")
        let first = newJob("sunset")
        let second = newJob("sunset")
        async let viaA = outcome { try await a.insertDrop(key, jobs: [first]) }
        async let viaB = outcome { try await b.insertDrop(key, jobs: [second]) }
        let outcomes = await [viaA, viaB]
        let made = outcomes.compactMap { try? $0.get() }
        #expect(made.count == 1 && made.first?.count == 1, "exactly one insert makes the job")
        let refusals = outcomes.compactMap { result -> StateStoreError? in
            guard case .failure(let error) = result else { return nil }
            return error as? StateStoreError
        }
        #expect(refusals == [.duplicateDrop(key: key.value)], "the other is told the drop is known")
        let existing = [try await a.job(id: first.id), try await a.job(id: second.id)].compactMap { $0 }
        #expect(existing.count == 1, "one job in the database, seen by either node")
        #expect(try await b.job(id: existing[0].id)?.name == "sunset")

        // Once the drop's files are gone (forgotten), the same files dropped again make a new drop.
        try await b.forgetDrop(key)
        let again = newJob("sunset")
        #expect(try await a.insertDrop(key, jobs: [again]).map(\.id) == [again.id])
        await #expect(throws: StateStoreError.duplicateDrop(key: key.value)) {
            try await b.insertDrop(key, jobs: [newJob("sunset")])
        }
    }

    /// Two nodes claiming at the same time get disjoint jobs, and together every job.
    static func checkConcurrentClaimsAreDisjointAndComplete(_ a: some StateStore, _ b: some StateStore) async throws {
        let jobs = try await insert(a, (1...24).map { "clip-\($0)" })
        async let claimedByA = claimAll(a, node: "a")
        async let claimedByB = claimAll(b, node: "b")
        let (fromA, fromB) = try await (claimedByA, claimedByB)
        #expect(Set(fromA).isDisjoint(with: fromB), "no job is claimed by both nodes")
        #expect(Set(fromA).union(fromB) == Set(jobs.map(\.id)), "every job is claimed")
        #expect(fromA.count + fromB.count == jobs.count)
        for id in fromA { #expect(try await b.lease(ofJob: id)?.owner == "a") }
        for id in fromB { #expect(try await a.lease(ofJob: id)?.owner == "b") }
    }

    private static func claimAll(_ store: some StateStore, node: String) async throws -> [UUID] {
        var claimed: [UUID] = []
        while true {
            let batch = try await store.claimQueued(node: node, limit: 3, leaseFor: leaseFor, now: t0)
            if batch.isEmpty { return claimed }
            claimed += batch.map(\.job.id)
            await Task.yield()
        }
    }

    /// A job whose lease ended in a working state is taken over by another node, with a higher generation; a ready
    /// job under a current lease, or one waiting for its backoff, is not claimed.
    static func checkAnExpiredLeaseIsTakenOver(_ a: some StateStore, _ b: some StateStore) async throws {
        let job = try await insert(a, ["door"])[0]
        let claimed = try await a.claimQueued(node: "a", limit: 10, leaseFor: leaseFor, now: t0)
        let lease = try #require(claimed.first?.lease)
        #expect(claimed.map(\.job.id) == [job.id] && claimed[0].previousOwner == nil && !claimed[0].isTakeOver)
        #expect(lease.owner == "a" && lease.until == at(leaseFor))
        try await a.commit(job.id, move(.ready, .uploading), lease: lease)

        #expect(try await b.claimQueued(node: "b", limit: 10, leaseFor: leaseFor, now: at(10)).isEmpty, "the lease is current")
        #expect(try await b.claimQueued(node: "b", limit: 10, leaseFor: leaseFor, now: at(leaseFor)).isEmpty, "until its very end")
        let takeOver = try await b.claimQueued(node: "b", limit: 10, leaseFor: leaseFor, now: at(leaseFor + 1))
        #expect(takeOver.map(\.job.id) == [job.id])
        let taken = try #require(takeOver.first)
        #expect(taken.previousOwner == "a" && taken.isTakeOver && taken.job.state == .uploading)
        #expect(taken.lease.owner == "b" && taken.lease.generation == lease.generation + 1)
        #expect(taken.lease.until == at(2 * leaseFor + 1))
        #expect(try await a.lease(ofJob: job.id) == taken.lease, "both nodes see the new lease")

        // A released lease can be claimed at once; a ready job waiting for its backoff cannot.
        #expect(try await b.releaseLease(taken.lease))
        #expect(try await !b.releaseLease(taken.lease), "a lease is released once")
        #expect(try await a.lease(ofJob: job.id) == nil)
        let reclaimed = try await a.claimQueued(node: "a", limit: 10, leaseFor: leaseFor, now: at(leaseFor + 2))
        #expect(reclaimed.map(\.lease.generation) == [taken.lease.generation + 1])
        let waiting = try await insert(a, ["later"])[0]
        var backoff = move(.ready, .ready)
        backoff.notBefore = at(100)
        try await a.commit(waiting.id, backoff, lease: nil)
        // (At 99 the door's lease from 32 has ended too: it is taken over again, the waiting job is not.)
        #expect(try await b.claimQueued(node: "b", limit: 10, leaseFor: leaseFor, now: at(99)).map(\.job.id) == [job.id])
        #expect(try await b.claimQueued(node: "b", limit: 10, leaseFor: leaseFor, now: at(100)).map(\.job.id) == [waiting.id])
    }

    /// A node that lost its lease fails its next write with `leaseLost`, and nothing about the job changes.
    static func checkACommitWithAnOldGenerationFailsAndChangesNothing(_ a: some StateStore, _ b: some StateStore) async throws {
        let job = try await insert(a, ["cat"])[0]
        let old = try #require(try await a.claimQueued(node: "a", limit: 1, leaseFor: leaseFor, now: t0).first?.lease)
        try await a.commit(job.id, move(.ready, .uploading), lease: old)
        let current = try #require(try await b.claimQueued(node: "b", limit: 1, leaseFor: leaseFor, now: at(60)).first?.lease)
        let before = try #require(try await a.job(id: job.id))
        let history = try await a.events(ofJob: job.id)

        let lost = StateStoreError.leaseLost(job: job.id, owner: "a", generation: old.generation)
        await #expect(throws: lost) { try await a.commit(job.id, move(.uploading, .submitting), lease: old) }
        // Even a commit that would fail the compare-and-set reports the lost lease first: stop, do not re-read.
        await #expect(throws: lost) { try await a.commit(job.id, move(.ready, .uploading), lease: old) }
        // The same owner name with an old generation is no lease either (a node restarted and claimed again).
        let stale = JobLease(jobID: job.id, owner: "b", generation: old.generation, until: at(1000))
        await #expect(throws: StateStoreError.leaseLost(job: job.id, owner: "b", generation: old.generation)) {
            try await b.commit(job.id, move(.uploading, .submitting), lease: stale)
        }
        await #expect(throws: lost) { try await a.appendNote(job.id, "still here", lease: old) }
        // Nor is a lease on another job, even with this job's owner and generation (a runner mixing up its jobs).
        let other = try await insert(b, ["other-cat"])[0]
        let otherLease = JobLease(jobID: other.id, owner: "b", generation: current.generation, until: current.until)
        await #expect(throws: StateStoreError.leaseLost(job: job.id, owner: "b", generation: current.generation)) {
            try await b.commit(job.id, move(.uploading, .submitting), lease: otherLease)
        }
        #expect(try await b.job(id: job.id) == before, "nothing was written")
        #expect(try await b.events(ofJob: job.id) == history, "not even a line of history")
        #expect(try await b.lease(ofJob: job.id) == current)

        let moved = try await b.commit(job.id, move(.uploading, .submitting), lease: current)
        #expect(moved.state == .submitting)
        #expect(try await a.job(id: job.id)?.state == .submitting)
    }

    /// The task writes are fenced too; the new owner's writes go through.
    static func checkTaskWritesAreFenced(_ a: some StateStore, _ b: some StateStore) async throws {
        let job = try await insert(a, ["shoe"])[0]
        let old = try #require(try await a.claimQueued(node: "a", limit: 1, leaseFor: leaseFor, now: t0).first?.lease)
        try await a.commit(job.id, move(.ready, .submitting), lease: old)
        let task = try await a.recordTask(job.id, lease: old, provider: "gateway", taskID: "task-1", status: "queued", nextPollAt: at(5))
        #expect(task.taskID == "task-1" && task.isActive)
        try await a.updateTask(forJob: job.id, lease: old) { $0.progress = 10 }
        #expect(try await b.activeTask(ofJob: job.id)?.progress == 10)

        let current = try #require(try await b.claimQueued(node: "b", limit: 1, leaseFor: leaseFor, now: at(60)).first)
        #expect(current.job.state == .submitted && current.isTakeOver, "a submitted task is resumed, never created again")
        await #expect(throws: StateStoreError.leaseLost(job: job.id, owner: "a", generation: old.generation)) {
            try await a.updateTask(forJob: job.id, lease: old) { $0.progress = 99 }
        }
        try await b.updateTask(forJob: job.id, lease: current.lease) { $0.progress = 50 }
        #expect(try await a.activeTask(ofJob: job.id)?.progress == 50)
        await #expect(throws: StateStoreError.duplicateTask(provider: "gateway", taskID: "task-1")) {
            let other = try await insert(b, ["other"])[0]
            try await b.commit(other.id, move(.ready, .submitting), lease: nil)
            try await b.recordTask(other.id, lease: nil, provider: "gateway", taskID: "task-1", status: "queued", nextPollAt: nil)
        }
    }

    /// The heartbeat renews the leases still held and leaves out the one another node took over.
    static func checkAHeartbeatRenewsOnlyHeldJobs(_ a: some StateStore, _ b: some StateStore) async throws {
        let first = try await insert(a, ["first"], priority: 1)[0]
        let second = try await insert(a, ["second"], priority: 0)[0]
        let leases = try await a.claimQueued(node: "a", limit: 10, leaseFor: leaseFor, now: t0).map(\.lease)
        #expect(leases.map(\.jobID) == [first.id, second.id], "highest priority first")
        let renewed = try await a.renewLeases(node: "a", leases, leaseFor: leaseFor, now: at(10))
        #expect(renewed.map(\.until) == [at(40), at(40)])

        // `a` misses its heartbeats; `b` takes one job over (the higher priority one) once the lease ends.
        let taken = try await b.claimQueued(node: "b", limit: 1, leaseFor: leaseFor, now: at(41))
        #expect(taken.map(\.job.id) == [first.id])
        let after = try await a.renewLeases(node: "a", renewed, leaseFor: leaseFor, now: at(42))
        #expect(after.map(\.jobID) == [second.id], "the lost job is reported by its absence")
        #expect(after.first?.until == at(72) && after.first?.generation == leases[1].generation)
        #expect(try await b.lease(ofJob: second.id)?.until == at(72))
        #expect(try await b.lease(ofJob: first.id)?.owner == "b", "the lost job's lease is untouched")
        #expect(try await a.renewLeases(node: "b", after, leaseFor: leaseFor, now: at(43)).isEmpty, "only one's own leases")
    }

    /// The compare-and-set on the state still holds with a current lease and without one.
    static func checkTheCommitStillRejectsAWrongFromState(_ a: some StateStore, _ b: some StateStore) async throws {
        let job = try await insert(a, ["wrong"])[0]
        let lease = try #require(try await a.claimQueued(node: "a", limit: 1, leaseFor: leaseFor, now: t0).first?.lease)
        await #expect(throws: StateStoreError.unexpectedState(job: job.id, expected: .uploading, actual: .ready, requested: .submitting)) {
            try await a.commit(job.id, move(.uploading, .submitting), lease: lease)
        }
        await #expect(throws: StateStoreError.unexpectedState(job: job.id, expected: .uploading, actual: .ready, requested: .submitting)) {
            try await b.commit(job.id, move(.uploading, .submitting), lease: nil)
        }
        await #expect(throws: StateStoreError.illegalTransition(job: job.id, from: .ready, to: .done)) {
            try await a.commit(job.id, move(.ready, .done), lease: lease)
        }
        #expect(try await b.job(id: job.id)?.state == .ready)
        var held = move(.ready, .held)
        held.failure = .init(category: "held", message: "daily budget reached")
        held.notBefore = at(300)
        let after = try await a.commit(job.id, held, lease: lease)
        #expect(after.state == .held && after.failureMessage == "daily budget reached" && after.nextAttemptAt == at(300))
        #expect(try await b.job(id: job.id) == after)
        await #expect(throws: StateStoreError.unexpectedState(job: job.id, expected: .ready, actual: .held, requested: .held)) {
            try await b.commit(job.id, held, lease: nil)
        }
    }

    /// The nodes list shows every node with its last heartbeat and the jobs it holds a current lease on.
    static func checkTheNodesListShowsBothNodesWithJobsHeld(_ a: some StateStore, _ b: some StateStore) async throws {
        try await a.registerNode(name: "a", now: t0)
        try await b.registerNode(name: "b", now: t0)
        _ = try await insert(a, ["n1", "n2", "n3"])
        #expect(try await a.claimQueued(node: "a", limit: 2, leaseFor: leaseFor, now: t0).count == 2)
        #expect(try await b.claimQueued(node: "b", limit: 2, leaseFor: leaseFor, now: at(1)).count == 1)
        try await b.heartbeat(node: "b", now: at(5))
        let nodes = try await a.nodes(now: at(6))
        #expect(
            nodes == [
                NodeStatus(name: "a", registeredAt: t0, lastHeartbeat: t0, jobsHeld: 2),
                NodeStatus(name: "b", registeredAt: t0, lastHeartbeat: at(5), jobsHeld: 1),
            ])
        // Once a's leases end, it holds nothing (its jobs are free to take over).
        #expect(try await b.nodes(now: at(leaseFor + 1)).map(\.jobsHeld) == [0, 1])
        try await a.heartbeat(node: "c", now: at(7))
        #expect(try await b.nodes(now: at(8)).map(\.name) == ["a", "b", "c"], "a heartbeat registers a new node")
    }

    /// A drop's key is kept while any of its jobs holds inputs, and forgotten once all gave them back (fenced writes).
    static func checkReleasingEveryJobOfADropForgetsItsKey(_ a: some StateStore, _ b: some StateStore) async throws {
        let key = dropKey("manifest")
        let jobs = try await a.insertDrop(key, jobs: [newJob("m1", priority: 1), newJob("m2")])
        #expect(try await b.inputFiles(ofJob: jobs[0].id).map(\.path) == ["lane/m1.txt"])
        let leases = try await a.claimQueued(node: "a", limit: 2, leaseFor: leaseFor, now: t0).map(\.lease)
        #expect(leases.map(\.jobID) == jobs.map(\.id))
        var failed = move(.ready, .failed)
        failed.failure = .init(category: "moderation", message: "refused")
        failed.disposal = .failed
        #expect(try await a.commit(jobs[0].id, failed, lease: leases[0]).pendingDisposal == .failed)
        try await a.finishDisposal(
            jobs[0].id, folder: "/failed/m1", release: true, movedInputs: ["lane/m1.txt": "/failed/m1/m1.txt"],
            lease: leases[0])
        let first = try #require(try await b.job(id: jobs[0].id))
        #expect(first.pendingDisposal == nil && first.outputPath == "/failed/m1")
        #expect(try await b.inputFiles(ofJob: jobs[0].id).map(\.identity.inode) == [UInt64(bitPattern: -1)])
        #expect(try await b.events(ofJob: jobs[0].id).last?.message == "inputs moved to /failed/m1")
        await #expect(throws: StateStoreError.duplicateDrop(key: key.value), "m2 still holds its inputs") {
            try await b.insertDrop(key, jobs: [newJob("manifest-again")])
        }

        // b takes m2 over once a's lease ends; a's late writes are refused, b's go through.
        let taken = try #require(try await b.claimQueued(node: "b", limit: 1, leaseFor: leaseFor, now: at(60)).first)
        #expect(taken.job.id == jobs[1].id)
        await #expect(throws: StateStoreError.leaseLost(job: jobs[1].id, owner: "a", generation: leases[1].generation)) {
            try await a.finishDisposal(jobs[1].id, folder: "/archive/m2", release: true, movedInputs: [:], lease: leases[1])
        }
        try await b.appendNote(jobs[1].id, "taken over from a", lease: taken.lease)
        #expect(try await a.events(ofJob: jobs[1].id).last?.kind == .note)
        try await b.commit(jobs[1].id, failed, lease: taken.lease)
        try await b.finishDisposal(jobs[1].id, folder: "/failed/m2", release: true, movedInputs: [:], lease: taken.lease)
        let again = newJob("manifest-again")
        #expect(try await a.insertDrop(key, jobs: [again]).map(\.id) == [again.id], "the files moved back are a new drop")
    }

    private static func outcome<T: Sendable>(_ body: () async throws -> T) async -> Result<T, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }
}
