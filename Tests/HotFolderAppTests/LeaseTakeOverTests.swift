// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import Testing

extension ServiceEvent {
    var isLeaseLost: Bool { if case .leaseLost = self { true } else { false } }
    var takenOverFrom: String? { if case .takenOver(_, _, let from) = self { from } else { nil } }
}

/// The runner works under leases (issue 12): the real service with a scripted API, and the test acting as the other
/// node through the same store. A node paused past its lease drops the job before it spends anything; a dead node's
/// task is polled by another node and never created again.
extension ServiceSuites {
@Suite struct LeaseTakeOverTests {
    static let lease = 30.0

    static func leased(_ configuration: inout ServiceConfiguration, node: String) {
        configuration.nodeName = node
        configuration.lease = .seconds(lease)
    }

    static var image: Data { Data(PNGWriter.gradient(width: 400, height: 300, from: (0, 0, 0), to: (255, 255, 255))) }

    /// Node a uploads (and is frozen there); node b takes the job over once a's lease has ended by b's clock. When a
    /// wakes up, its first write (the move to `submitting`) is refused: no create call, nothing written.
    @Test func aNodePausedPastItsLeaseDropsTheJobBeforeTheCreateCall() async throws {
        let folders = try ServiceFolders("lease-paused")
        let api = FakeVideoAPI(FakeVideoAPI.Script())
        api.uploadGate.withLock { $0 = false }
        try await withScriptedService(folders, api: api, configure: { Self.leased(&$0, node: "a") }) { events, store in
            try folders.drop("frozen.png", Self.image)
            try folders.drop("frozen.txt", "A lighthouse in a storm")
            await api.waitForStart(of: "upload")
            let job = try #require(try store.jobs(inStates: [.uploading]).first)
            #expect(try await store.lease(ofJob: job.id)?.owner == "a")

            // By b's clock, a's lease has ended (a's own clock never moved: it was frozen).
            let taken = try await store.claimTakeOvers(node: "b", limit: 10, leaseFor: Self.lease, now: Date().addingTimeInterval(Self.lease + 1))
            #expect(taken.map(\.job.id) == [job.id] && taken.first?.previousOwner == "a")
            let history = try store.events(job.id)
            api.uploadGate.withLock { $0 = true }

            await events.wait(for: "node a to drop the job") { $0.contains(where: \.isLeaseLost) }
            #expect(try store.job(job.id)?.state == .uploading, "a wrote nothing")
            #expect(try store.events(job.id) == history, "not even a line of history")
            let now = try await store.lease(ofJob: job.id)
            #expect(now?.owner == "b" && now?.generation == taken.first?.lease.generation, "b holds it")
        }
        #expect(api.calls.createCalls == 0, "no money spent by the node that lost the job")
    }

    /// Node a is frozen inside the create call; b takes the job over (for b it is uncertain). The call returns a
    /// task after all: a cannot record it (fenced), so it writes the task id into the job's history and stops.
    @Test func aTaskCreatedAfterTheJobWasTakenOverIsNamedInItsHistory() async throws {
        let folders = try ServiceFolders("lease-create")
        let api = FakeVideoAPI(FakeVideoAPI.Script())
        api.gate.withLock { $0 = false }
        try await withScriptedService(folders, api: api, configure: { Self.leased(&$0, node: "a") }) { events, store in
            try folders.drop("late.txt", "A train crossing a bridge at dusk")
            await api.waitForStart(of: "create")
            let job = try #require(try store.jobs(inStates: [.submitting]).first)
            let taken = try await store.claimTakeOvers(node: "b", limit: 10, leaseFor: Self.lease, now: Date().addingTimeInterval(Self.lease + 1))
            #expect(taken.map(\.job.id) == [job.id])
            api.gate.withLock { $0 = true }

            await events.wait(for: "node a to drop the job") { $0.contains(where: \.isLeaseLost) }
            #expect(try store.job(job.id)?.state == .submitting, "b resolves it (uncertain), not a")
            #expect(try store.task(forJob: job.id) == nil, "a could not record the task")
            let notes = try store.events(job.id).map(\.message)
            #expect(notes.contains { $0?.contains("created task task-1 after another node had taken the job over") == true }, "\(notes)")
        }
        #expect(api.calls.createCalls == 1)
        #expect(api.calls.statusCalls == 0, "a never polls a task it does not own")
    }

    /// Node b submitted a job and died (its lease is left, never renewed). Node a, already running, takes the job
    /// over once the lease ends, polls the same task and delivers its video: one create call in all.
    @Test func aDeadNodesTaskIsPolledByAnotherNodeAndNeverCreatedAgain() async throws {
        let folders = try ServiceFolders("lease-dead")
        var running = FakeVideoAPI.Script()
        running.statuses = [.status(.running(progress: 10))]
        let first = FakeVideoAPI(running)
        var jobID: UUID?
        try await withScriptedService(folders, api: first, configure: { Self.leased(&$0, node: "b") }) { events, store in
            try folders.drop("orphan.txt", "Snow falling on a quiet street")
            await events.wait(for: "the task") { $0.contains { if case .submitted = $0 { true } else { false } } }
            jobID = try store.jobs(inStates: [.submitted, .running]).first?.id
        }
        let id = try #require(jobID)
        let store = try SQLiteStateStore(directory: folders.state)
        // b's process died with its lease current (the clean stop above gave it back: take it again, as b).
        let clock = ShiftedClock()
        let dead = try await store.claimTakeOvers(node: "b", limit: 10, leaseFor: Self.lease, now: clock.now)
        #expect(dead.map(\.job.id) == [id])
        try store.close()

        let second = FakeVideoAPI(FakeVideoAPI.Script())
        try await withScriptedService(folders, api: second, configure: { Self.leased(&$0, node: "a") }, clock: clock) { events, store in
            await events.wait(for: "node a to start") { $0.contains { if case .watching = $0 { true } else { false } } }
            #expect(try await store.lease(ofJob: id)?.owner == "b", "a live lease is not taken")
            clock.advance(Self.lease + 1)
            await events.wait(for: "the video") { $0.contains(where: \.isDone) }
            #expect(await events.count { $0.takenOverFrom == "b" } == 1)
            #expect(try store.job(id)?.state == .done)
            #expect(try await store.lease(ofJob: id) == nil, "a finished job holds no lease")
            let notes = try store.events(id).compactMap(\.message)
            #expect(notes.contains("taken over by node a from node b, whose lease ended"), "\(notes)")
        }
        #expect(first.calls.createCalls == 1)
        #expect(second.calls.createCalls == 0, "the task was polled, never created again")
        #expect(second.calls.statusCalls >= 1)
        #expect(folders.files(in: "outbox").contains("orphan.mp4"))

        // `hotfolder status` lists both nodes; neither holds a job now.
        let status = try await StatusReport.read(store: SQLiteStateStore(directory: folders.state), stateDirectory: folders.state)
        #expect(status.nodes.map(\.name) == ["a", "b"] && status.nodes.allSatisfy { $0.jobsHeld == 0 })
        #expect(status.text.contains("node a: last heartbeat") && status.text.contains("node b: last heartbeat"), "\(status.text)")
    }

    /// Node b failed a job and died before it had moved the job's files to `failed/` (its lease is left). Node a
    /// takes the half-done move over once the lease ends and completes it: the files and the error file are there.
    @Test func aDeadNodesHalfDoneMoveIsCompletedByAnotherNode() async throws {
        let folders = try ServiceFolders("lease-move")
        var running = FakeVideoAPI.Script()
        running.statuses = [.status(.running(progress: 10))]
        var jobID: UUID?
        try await withScriptedService(folders, api: FakeVideoAPI(running), configure: { Self.leased(&$0, node: "b") }) { events, store in
            try folders.drop("stranded.txt", "Waves on a rocky shore")
            await events.wait(for: "the task") { $0.contains { if case .submitted = $0 { true } else { false } } }
            jobID = try store.jobs(inStates: [.submitted, .running]).first?.id
        }
        let id = try #require(jobID)
        let clock = ShiftedClock()
        let store = try SQLiteStateStore(directory: folders.state)
        let dead = try #require(try await store.claimTakeOvers(node: "b", limit: 10, leaseFor: Self.lease, now: clock.now).first)
        let state = try #require(try store.job(id)?.state)
        let failed = JobLifecycle.Commit(
            from: state, to: .failed, message: "the provider failed the task", counters: JobCounters(),
            failure: JobLifecycle.Failure(category: "provider", message: "the provider failed the task"), disposal: .failed)
        try await store.commit(id, failed, lease: dead.lease)
        try store.close()
        #expect(folders.files(in: "inbox") == ["stranded.txt"], "b died before moving anything")

        try await withScriptedService(folders, api: FakeVideoAPI(FakeVideoAPI.Script()), configure: { Self.leased(&$0, node: "a") }, clock: clock) { events, store in
            await events.wait(for: "node a to start") { $0.contains { if case .watching = $0 { true } else { false } } }
            #expect(try store.job(id)?.pendingDisposal == .failed, "b's lease is current: a leaves the move to b")
            clock.advance(Self.lease + 1)
            await events.wait(for: "the take-over") { $0.contains { $0.takenOverFrom == "b" } }
            try await waitUntil("the files moved") { try store.job(id)?.pendingDisposal == nil }
            #expect(try await store.lease(ofJob: id) == nil)
        }
        #expect(folders.files(in: "inbox").isEmpty)
        #expect(folders.files(in: "failed").contains("stranded/stranded.txt"), "\(folders.files(in: "failed"))")
        #expect(folders.files(in: "failed").contains("stranded/stranded.error.txt"))
    }

    /// Node b's key was refused: the queue's pause in the shared store stops node a's create calls too (a says
    /// nothing: b announced it), and when b's probe gets through and b resumes the queue, a goes on.
    @Test func aPauseSetByAnotherNodeHoldsThisNodesJobsUntilItEnds() async throws {
        let folders = try ServiceFolders("lease-pause")
        let api = FakeVideoAPI(FakeVideoAPI.Script())
        try await withScriptedService(folders, api: api, configure: { Self.leased(&$0, node: "a") }) { events, store in
            await events.wait(for: "node a to start") { $0.contains { if case .watching = $0 { true } else { false } } }
            try await store.pauseQueue(QueuePauseRecord(
                category: "auth", reason: "the API refused the key (HTTP 401)", since: Date(), nextProbe: Date().addingTimeInterval(3600)))
            // a reads the shared pause twice a second and mirrors it for `hotfolder status`.
            try await waitUntil("node a to see the pause") {
                try await StatusReport.read(store: store, stateDirectory: folders.state).paused?.contains("HTTP 401") == true
            }
            try folders.drop("waits.txt", "A kettle on a stove")
            await events.wait(for: "the job") { $0.contains(where: \.isQueued) }
            // Nothing is to happen: three of a's turns are given to get it wrong.
            try await Task.sleep(for: .seconds(1.5))
            #expect(api.calls.createCalls == 0, "paused by b: a sends nothing")

            #expect(try await store.resumeQueue() != nil)
            await events.wait(for: "the video") { $0.contains(where: \.isDone) }
            #expect(try await StatusReport.read(store: store, stateDirectory: folders.state).paused == nil)
            #expect(await events.count { if case .queuePaused = $0 { true } else { false } } == 0, "b announced it, not a")
            #expect(await events.count { if case .queueResumed = $0 { true } else { false } } == 0, "b resumed it")
        }
        #expect(api.calls.createCalls == 1)
    }

    /// Two nodes watch one inbox through one database: each drop becomes one job, made by whichever node recorded it
    /// first, and one create call in all.
    @Test func twoNodesWatchingOneInboxMakeOneJobOfEachDrop() async throws {
        let folders = try ServiceFolders("lease-one-drop")
        let (apiA, apiB) = (FakeVideoAPI(FakeVideoAPI.Script()), FakeVideoAPI(FakeVideoAPI.Script()))
        let watching: @Sendable ([ServiceEvent]) -> Bool = { $0.contains { if case .watching = $0 { true } else { false } } }
        try await withScriptedService(folders, api: apiA, configure: { Self.leased(&$0, node: "a") }) { eventsA, store in
            // b polls the inbox as a node on a network share does (libinotifytools is one per process, too).
            try await withScriptedService(folders, api: apiB, configure: {
                Self.leased(&$0, node: "b")
                $0.watchMode = .poll
                $0.pollInterval = .milliseconds(200)
            }) { eventsB, _ in
                await eventsA.wait(for: "node a to start", watching)
                await eventsB.wait(for: "node b to start", watching)
                for i in 0..<12 { try folders.drop("boats/boat-\(i).txt", "A paper boat on a puddle, take \(i)") }
                try await waitUntil("every drop done", timeout: 60) { try store.countsByState()[.done] == 12 }
                let queued = { (events: [ServiceEvent]) in events.filter(\.isQueued).count }
                #expect(queued(await eventsA.events) + queued(await eventsB.events) == 12, "each drop queued by one node")
            }
        }
        #expect(apiA.calls.createCalls + apiB.calls.createCalls == 12, "one create call per drop")
        #expect(folders.files(in: "outbox").filter { $0.hasSuffix(".mp4") }.count == 12)
        let store = try SQLiteStateStore(directory: folders.state)
        #expect(try store.countsByState() == [.done: 12])
    }
}
}
