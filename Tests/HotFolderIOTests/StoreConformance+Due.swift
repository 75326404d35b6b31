// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

extension StoreConformance {
    /// A held or uncertain job whose time has come is leased to one node only; before its time, to none.
    static func checkJobsDueAreClaimedByOneNode(_ a: some StateStore, _ b: some StateStore) async throws {
        let jobs = try await insert(a, ["held", "lost", "queued"])
        var held = move(.ready, .held)
        held.failure = .init(category: "held", message: "window closed")
        held.notBefore = at(100)
        try await a.commit(jobs[0].id, held, lease: nil)
        try await a.commit(jobs[1].id, move(.ready, .submitting), lease: nil)
        var uncertain = move(.submitting, .uncertain)
        uncertain.notBefore = at(50)
        try await a.commit(jobs[1].id, uncertain, lease: nil)

        #expect(try await b.claimDue(node: "b", in: [.held, .uncertain], limit: 10, leaseFor: leaseFor, now: at(49)).isEmpty)
        async let viaA = a.claimDue(node: "a", in: [.held, .uncertain], limit: 10, leaseFor: leaseFor, now: at(100))
        async let viaB = b.claimDue(node: "b", in: [.held, .uncertain], limit: 10, leaseFor: leaseFor, now: at(100))
        let (fromA, fromB) = try await (viaA, viaB)
        let claimed = (fromA + fromB).map(\.job.id)
        #expect(Set(claimed) == [jobs[0].id, jobs[1].id] && claimed.count == 2, "each due job once, the queued one not")
        let soonestFirst = fromA.count == 2 ? fromA : fromB.count == 2 ? fromB : []
        if !soonestFirst.isEmpty { #expect(soonestFirst.map(\.job.id) == [jobs[1].id, jobs[0].id]) }
        #expect(try await a.claimDue(node: "a", in: [.uncertain], limit: 10, leaseFor: leaseFor, now: at(101)).isEmpty)
        #expect(try await a.claimDue(node: "a", in: [], limit: 10, leaseFor: leaseFor, now: at(101)).isEmpty)
    }

    /// A node's poller sees the due tasks of the jobs it holds, and after a take-over only the new owner does.
    static func checkTasksDueAreThoseOfTheNodesJobs(_ a: some StateStore, _ b: some StateStore) async throws {
        let jobs = try await insert(a, ["polled", "fresh"])
        let claimed = try await a.claimQueued(node: "a", limit: 2, leaseFor: leaseFor, now: t0)
        #expect(claimed.map(\.job.id) == jobs.map(\.id), "equal priorities and times: oldest insert first")
        let leases = claimed.map(\.lease)
        for (job, lease) in zip(jobs, leases) { try await a.commit(job.id, move(.ready, .submitting), lease: lease) }
        try await a.recordTask(jobs[0].id, lease: leases[0], provider: "gateway", taskID: "t-polled", status: "queued", nextPollAt: at(10))
        try await a.recordTask(jobs[1].id, lease: leases[1], provider: "gateway", taskID: "t-fresh", status: "queued", nextPollAt: nil)

        #expect(try await a.tasksDue(node: "a", now: at(9), limit: 10).map(\.task.taskID) == ["t-fresh"], "never polled first")
        let due = try await a.tasksDue(node: "a", now: at(10), limit: 10)
        #expect(due.map(\.task.taskID) == ["t-fresh", "t-polled"])
        #expect(due.first?.jobState == .submitted && due.first?.name == "fresh")
        #expect(try await a.tasksDue(node: "a", now: at(10), limit: 1).count == 1)
        #expect(try await b.tasksDue(node: "b", now: at(10), limit: 10).isEmpty, "b holds none of them")

        let taken = try await b.claimQueued(node: "b", limit: 1, leaseFor: leaseFor, now: at(leaseFor + 1))
        #expect(taken.first?.isTakeOver == true)
        let moved = try #require(taken.first?.job.id)
        #expect(try await b.tasksDue(node: "b", now: at(leaseFor + 1), limit: 10).map(\.task.jobID) == [moved])
        #expect(!(try await a.tasksDue(node: "a", now: at(leaseFor + 1), limit: 10).map(\.task.jobID).contains(moved)))
    }

    /// A node stopping cleanly gives its jobs back: the other node takes them over at once, not after the lease.
    static func checkACleanStopGivesEveryLeaseBack(_ a: some StateStore, _ b: some StateStore) async throws {
        let jobs = try await insert(a, ["kept-1", "kept-2", "other"])
        let held = try await a.claimQueued(node: "a", limit: 2, leaseFor: leaseFor, now: t0)
        try await a.commit(held[0].job.id, move(.ready, .uploading), lease: held[0].lease)
        #expect(try await b.claimQueued(node: "b", limit: 1, leaseFor: leaseFor, now: at(1)).map(\.job.id) == [jobs[2].id])
        #expect(try await a.releaseLeases(node: "a") == 2)
        #expect(try await a.releaseLeases(node: "a") == 0)
        #expect(try await b.lease(ofJob: jobs[2].id)?.owner == "b", "another node's lease is not touched")
        let taken = try await b.claimQueued(node: "b", limit: 5, leaseFor: leaseFor, now: at(2))
        #expect(Set(taken.map(\.job.id)) == Set(held.map(\.job.id)), "taken over at once")
        #expect(taken.allSatisfy { $0.previousOwner == nil }, "released, not expired")
        await #expect(throws: StateStoreError.self) {
            try await a.commit(held[0].job.id, move(.uploading, .submitting), lease: held[0].lease)
        }
    }
}

extension StoreConformance {
    /// A restarted node, or one whose neighbour died, claims only the jobs some node was working on (their lease ended
    /// or was given back), the oldest first, and never a queued job: those wait for a free slot and the dispatcher.
    static func checkTakeOversAreClaimedWithoutTheQueue(_ a: some StateStore, _ b: some StateStore) async throws {
        let jobs = try await insert(a, ["working-1", "working-2", "queued"])
        let held = try await a.claimQueued(node: "a", limit: 2, leaseFor: leaseFor, now: t0)
        try await a.commit(held[0].job.id, move(.ready, .uploading), lease: held[0].lease)
        try await a.commit(held[1].job.id, move(.ready, .submitting), lease: held[1].lease)
        try await a.recordTask(held[1].job.id, lease: held[1].lease, provider: "gateway", taskID: "t-2", status: "queued", nextPollAt: nil)

        #expect(try await b.claimTakeOvers(node: "b", limit: 10, leaseFor: leaseFor, now: at(leaseFor)).isEmpty, "leases current")
        let first = try await b.claimTakeOvers(node: "b", limit: 1, leaseFor: leaseFor, now: at(leaseFor + 1))
        #expect(first.map(\.job.id) == [jobs[0].id] && first[0].isTakeOver && first[0].previousOwner == "a")
        #expect(first[0].lease.generation == held[0].lease.generation + 1)
        let rest = try await b.claimTakeOvers(node: "b", limit: 10, leaseFor: leaseFor, now: at(leaseFor + 1))
        #expect(rest.map(\.job.id) == [jobs[1].id] && rest[0].job.state == .submitted)
        #expect(try await b.claimTakeOvers(node: "b", limit: 10, leaseFor: leaseFor, now: at(leaseFor + 2)).isEmpty)
        #expect(try await b.lease(ofJob: jobs[2].id) == nil, "the queued job was not claimed")
        #expect(try await b.tasksDue(node: "b", now: at(leaseFor + 2), limit: 10).map(\.task.taskID) == ["t-2"])

        // A node restarting gives its own leases back first: they are taken over at once.
        #expect(try await b.releaseLeases(node: "b") == 2)
        #expect(try await b.claimTakeOvers(node: "b", limit: 10, leaseFor: leaseFor, now: at(leaseFor + 3)).count == 2)
    }
}

extension StoreConformance {
    /// A commit out of the working states gives the lease back in the same transaction (the job can be claimed
    /// again, a finished job holds none), and the lease still fences its holder until another node claims the job.
    static func checkLeavingTheWorkingStatesGivesTheLeaseBack(_ a: some StateStore, _ b: some StateStore) async throws {
        let job = try await insert(a, ["kite"])[0]
        let held = try #require(try await a.claimQueued(node: "a", limit: 1, leaseFor: leaseFor, now: t0).first?.lease)
        try await a.commit(job.id, move(.ready, .uploading), lease: held)
        #expect(try await b.lease(ofJob: job.id) == held, "a working state keeps the lease")
        var back = move(.uploading, .ready)
        back.notBefore = at(10)
        try await a.commit(job.id, back, lease: held)
        #expect(try await b.lease(ofJob: job.id) == nil, "back in the queue: no node holds it")
        #expect(try await b.nodes(now: at(1)).first { $0.name == "a" }?.jobsHeld ?? 0 == 0)
        // Nobody claimed it since: the holder may still note what it was doing.
        try await a.appendNote(job.id, "the upload failed; retrying in 10 s", lease: held)
        #expect(try await b.claimQueued(node: "b", limit: 1, leaseFor: leaseFor, now: at(5)).isEmpty, "its backoff first")
        let taken = try #require(try await b.claimQueued(node: "b", limit: 1, leaseFor: leaseFor, now: at(10)).first)
        #expect(taken.lease.generation == held.generation + 1 && taken.previousOwner == nil)
        await #expect(throws: StateStoreError.leaseLost(job: job.id, owner: "a", generation: held.generation)) {
            try await a.appendNote(job.id, "too late", lease: held)
        }
        // A finished job holds no lease.
        try await b.commit(job.id, move(.ready, .submitting), lease: taken.lease)
        try await b.commit(job.id, move(.submitting, .cancelled), lease: taken.lease)
        #expect(try await a.lease(ofJob: job.id) == nil)
    }
}

extension StoreConformance {
    /// A node that fails a job keeps its lease until the inputs are moved: if it dies in between, another node takes
    /// the half-done move over once the lease ends, and finishing it gives the lease back.
    static func checkAHalfDoneMoveIsTakenOverAfterTheLease(_ a: some StateStore, _ b: some StateStore) async throws {
        let jobs = try await insert(a, ["moving", "moved"])
        let held = try await a.claimQueued(node: "a", limit: 2, leaseFor: leaseFor, now: t0)
        for leased in held {
            try await a.commit(leased.job.id, move(.ready, .submitting), lease: leased.lease)
            var failed = move(.submitting, .failed)
            failed.disposal = .failed
            try await a.commit(leased.job.id, failed, lease: leased.lease)
            #expect(try await b.lease(ofJob: leased.job.id) == leased.lease, "kept while the inputs are to move")
        }
        try await a.finishDisposal(jobs[1].id, folder: "/failed/moved", release: true, movedInputs: [:], lease: held[1].lease)
        #expect(try await b.lease(ofJob: jobs[1].id) == nil, "moved: the lease is given back")

        #expect(try await b.claimTakeOvers(node: "b", limit: 10, leaseFor: leaseFor, now: at(leaseFor)).isEmpty, "a may still be moving")
        let taken = try await b.claimTakeOvers(node: "b", limit: 10, leaseFor: leaseFor, now: at(leaseFor + 1))
        #expect(taken.map(\.job.id) == [jobs[0].id])
        #expect(taken.first?.isTakeOver == true && taken.first?.previousOwner == "a" && taken.first?.job.pendingDisposal == .failed)
        await #expect(throws: StateStoreError.leaseLost(job: jobs[0].id, owner: "a", generation: held[0].lease.generation)) {
            try await a.finishDisposal(jobs[0].id, folder: "/failed/moving", release: true, movedInputs: [:], lease: held[0].lease)
        }
        let lease = try #require(taken.first?.lease)
        try await b.finishDisposal(jobs[0].id, folder: "/failed/moving", release: true, movedInputs: [:], lease: lease)
        #expect(try await a.lease(ofJob: jobs[0].id) == nil)
        #expect(try await b.claimQueued(node: "b", limit: 10, leaseFor: leaseFor, now: at(3 * leaseFor)).isEmpty, "nothing left to take")
    }
}

extension StoreConformance {
    /// `max_in_flight` across nodes: queued jobs are claimed only while every node's jobs in flight (working, or
    /// claimed and not started) number fewer; a take-over is claimed whatever the count.
    static func checkMaxInFlightHoldsAcrossNodes(_ a: some StateStore, _ b: some StateStore) async throws {
        let jobs = try await insert(a, ["j0", "j1", "j2", "j3"])
        let held = try await a.claimQueued(node: "a", limit: 2, leaseFor: leaseFor, now: t0, maxInFlight: 2)
        #expect(held.map(\.job.id) == [jobs[0].id, jobs[1].id])
        try await a.commit(jobs[0].id, move(.ready, .uploading), lease: held[0].lease)
        try await a.commit(jobs[1].id, move(.ready, .submitting), lease: held[1].lease)
        #expect(try await b.claimQueued(node: "b", limit: 10, leaseFor: leaseFor, now: at(1), maxInFlight: 2).isEmpty, "two in flight on a")
        #expect(try await b.claimQueued(node: "b", limit: 10, leaseFor: leaseFor, now: at(1), maxInFlight: 3).map(\.job.id) == [jobs[2].id])

        try await a.commit(jobs[1].id, move(.submitting, .cancelled), lease: held[1].lease)
        // In flight now: j0 uploading on a, j2 claimed by b.
        #expect(try await b.claimQueued(node: "b", limit: 10, leaseFor: leaseFor, now: at(2), maxInFlight: 2).isEmpty)
        #expect(try await b.claimQueued(node: "b", limit: 10, leaseFor: leaseFor, now: at(2), maxInFlight: 3).map(\.job.id) == [jobs[3].id])

        // a dies: its upload is taken over although the cap is reached.
        let taken = try await b.claimQueued(node: "b", limit: 10, leaseFor: leaseFor, now: at(leaseFor + 1), maxInFlight: 1)
        #expect(taken.map(\.job.id) == [jobs[0].id] && taken.first?.isTakeOver == true)
    }
}
