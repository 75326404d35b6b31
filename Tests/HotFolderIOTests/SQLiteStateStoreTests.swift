// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

@Suite struct SQLiteStateStoreTests {
    let directory: TemporaryDirectory
    let clock = TestClock()
    let store: SQLiteStateStore

    init() throws {
        directory = try TemporaryDirectory("store")
        store = try SQLiteStateStore(directory: directory.file("state"), clock: clock.closure)
    }

    func input(_ name: String, inode: UInt64 = 1, sha: String = "aa") -> StoredInput {
        StoredInput(
            path: "/inbox/\(name)", identity: InputIdentity(device: 42, inode: inode, size: 100, mtimeNs: 1_000_000_007),
            sha256: sha)
    }

    func newJob(_ name: String, priority: Int = 0, state: JobState = .ready, inputs: [StoredInput] = []) -> NewJob {
        NewJob(name: name, lane: "lane", state: state, priority: priority, specJSON: Data("{\"n\":\"\(name)\"}".utf8), inputs: inputs)
    }

    @Test func opensWithWALForeignKeysAndTheV1Migration() throws {
        let settings = try store.databaseSettings()
        #expect(settings["journal_mode"] == "wal")
        #expect(settings["foreign_keys"] == "1")
        #expect(settings["busy_timeout"] == "5000")
        #expect(try store.appliedMigrations() == ["v1", "v2-lifecycle", "v3-budget", "v3-notifications", "v4-films", "v4-scale", "v4-dashboard", "v5-search", "v5-moved-inputs", "v5-spend-by-job", "v5-lease", "v5-queue-pause", "v6-input-path"])
        #expect(FileManager.default.fileExists(atPath: directory.file("state/hotfolder.sqlite")))
        #expect(FileManager.default.fileExists(atPath: directory.file("state/hotfolder.sqlite-wal")))
    }

    /// The intake's path to the drop keys: a job whose key is registered already is skipped (another node made it),
    /// the rest of the batch is written, and the key is forgotten once the job gives its inputs back.
    @Test func aJobWhoseDropKeyIsTakenIsSkippedUntilItsInputsAreGivenBack() throws {
        let input = StoredInput(path: "lane/a.txt", identity: InputIdentity(device: 1, inode: 2, size: 3, mtimeNs: 4), sha256: "ab")
        let key = DropKey(job: "lane/a", files: [DropKey.File(relativePath: "lane/a.txt", size: 3, mtimeNs: 4, sha256: "ab")])
        var first = newJob("a", inputs: [input])
        first.dropKey = key
        #expect(try store.insertJobs([first]).map(\.id) == [first.id])
        var again = newJob("a", inputs: [input])
        again.dropKey = key
        let other = newJob("b")
        #expect(try store.insertJobs([again, other]).map(\.id) == [other.id], "the same drop again: skipped")
        #expect(try store.job(again.id) == nil)
        #expect(throws: StateStoreError.duplicateDrop(key: key.value)) { try store.insertJob(again) }
        #expect(key != DropKey(job: "lane/b", files: [DropKey.File(relativePath: "lane/a.txt", size: 3, mtimeNs: 4, sha256: "ab")]),
            "another job of the same files (a manifest's row) has its own key")

        try store.transition(first.id, from: .ready, to: .cancelled, message: "cancelled")
        try store.finishDisposal(first.id, folder: "/failed/a", release: true)
        #expect(try store.insertJobs([again]).map(\.id) == [again.id], "the files came back: a new drop")

        // Files gone by the time of the insert (the node that made the job moved them and forgot the key): no job,
        // and the key is not kept either.
        var late = newJob("c", inputs: [input])
        late.dropKey = DropKey(job: "lane/c", files: [])
        #expect(try store.insertJobs([late], stillThere: { _ in false }).isEmpty)
        #expect(try store.insertJobs([late], stillThere: { _ in true }).map(\.id) == [late.id])
    }

    @Test func insertedJobReadsBackWithInputsAndACreatedEvent() throws {
        let inputs = [input("cat.png", inode: 7, sha: "11"), input("cat.txt", inode: 8, sha: "22")]
        let job = try store.insertJob(newJob("cat", priority: 3, inputs: inputs))
        let read = try #require(try store.job(job.id))
        #expect(read == job)
        #expect(read.state == .ready && read.priority == 3 && read.lane == "lane" && read.attempts == 0)
        #expect(read.createdAt == clock.now && read.specJSON == Data("{\"n\":\"cat\"}".utf8))
        #expect(try store.inputs(ofJob: job.id) == inputs)
        let events = try store.events(job.id)
        #expect(events.map(\.kind) == [.created])
        #expect(events.first?.toState == .ready && events.first?.fromState == nil)
        #expect(try store.job(UUID()) == nil)
    }

    @Test func duplicateIDsAreRefusedAndTheBatchIsAllOrNothing() throws {
        let first = newJob("a")
        try store.insertJob(first)
        var second = newJob("b")
        second.id = first.id
        #expect(throws: StateStoreError.duplicateJob(first.id)) { try store.insertJobs([newJob("c"), second]) }
        #expect(try store.countsByState() == [.ready: 1], "the batch rolled back, job c is not there")
    }

    @Test func transitionIsACompareAndSetWithItsEvent() throws {
        let job = try store.insertJob(newJob("dog"))
        clock.advance(10)
        let moved = try store.transition(job.id, from: .ready, to: .submitting, message: "create call") { job in
            job.attempts += 1
            job.state = .done  // ignored: the state is the transition's
            job.createdAt = .distantPast  // ignored
        }
        #expect(moved.state == .submitting && moved.attempts == 1 && moved.updatedAt == clock.now)
        #expect(moved.createdAt == job.createdAt)
        #expect(try store.job(job.id) == moved)

        #expect(throws: StateStoreError.unexpectedState(job: job.id, expected: .ready, actual: .submitting, requested: .submitting)) {
            try store.transition(job.id, from: .ready, to: .submitting)
        }
        #expect(throws: StateStoreError.illegalTransition(job: job.id, from: .submitting, to: .done)) {
            try store.transition(job.id, from: .submitting, to: .done)
        }
        #expect(throws: StateStoreError.jobNotFound(UUIDs.missing)) {
            try store.transition(UUIDs.missing, from: .ready, to: .held)
        }
        try store.transition(job.id, from: .submitting, to: .failed) { job in
            job.failureCategory = "transient"
            job.failureMessage = "timed out"
        }
        let history = try store.events(job.id)
        #expect(history.map(\.kind) == [.created, .transition, .transition])
        #expect(history.map(\.toState) == [.ready, .submitting, .failed])
        #expect(history[1].fromState == .ready && history[1].message == "create call" && history[1].at == clock.now)
        #expect(history.map(\.id) == history.map(\.id).sorted())
        let failed = try #require(try store.job(job.id))
        #expect(failed.failureCategory == "transient" && failed.failureMessage == "timed out")
    }

    @Test func updateJobKeepsTheStateAndChecksIt() throws {
        let job = try store.insertJob(newJob("x"))
        let later = clock.now.addingTimeInterval(30)
        let updated = try store.updateJob(job.id, in: .ready, message: "retry in 30 s") {
            $0.nextAttemptAt = later
            $0.outputPath = "/out/x"
        }
        #expect(updated.state == .ready && updated.nextAttemptAt == later && updated.outputPath == "/out/x")
        #expect(try store.events(job.id).last?.kind == .update)
        #expect(throws: StateStoreError.self) { try store.updateJob(job.id, in: .held) { $0.priority = 9 } }
        try store.appendNote(job.id, "looked at it")
        #expect(try store.events(job.id).last?.message == "looked at it")
    }

    @Test func recordTaskCommitsTheTaskAndSubmittedTogether() throws {
        let job = try store.insertJob(newJob("t"))
        #expect(throws: StateStoreError.unexpectedState(job: job.id, expected: .submitting, actual: .ready, requested: .submitted)) {
            try store.recordTask(job.id, provider: "gateway", taskID: "task-1", status: "queued", nextPollAt: nil)
        }
        #expect(try store.task(forJob: job.id) == nil, "nothing recorded when the job was not submitting")
        try store.transition(job.id, from: .ready, to: .submitting)
        let poll = clock.now.addingTimeInterval(5)
        let task = try store.recordTask(job.id, provider: "gateway", taskID: "task-1", status: "queued", nextPollAt: poll)
        #expect(task.taskID == "task-1" && task.isActive && task.pollCount == 0)
        #expect(try store.task(forJob: job.id) == task)
        #expect(try store.job(job.id)?.state == .submitted)
        #expect(try store.events(job.id).last?.kind == .task)

        let other = try store.insertJob(newJob("u", state: .submitting))
        #expect(throws: StateStoreError.duplicateTask(provider: "gateway", taskID: "task-1")) {
            try store.recordTask(other.id, provider: "gateway", taskID: "task-1", status: "queued", nextPollAt: nil)
        }
        #expect(try store.job(other.id)?.state == .submitting, "rolled back")

        clock.advance(5)
        let updated = try store.updateTask(forJob: job.id) {
            $0.status = "running"
            $0.progress = 40
            $0.pollCount += 1
            $0.taskID = "forged"  // ignored
        }
        #expect(updated.taskID == "task-1" && updated.progress == 40 && updated.updatedAt == clock.now)
        try store.transition(job.id, from: .submitted, to: .running)
        let expiry = clock.now.addingTimeInterval(86_400)
        try store.transition(job.id, from: .running, to: .downloading) { _ in } task: {
            $0.status = "succeeded"
            $0.videoURL = "https://cdn.example/v.mp4"
            $0.expiresAt = expiry
            $0.resultJSON = Data("{\"seed\":7}".utf8)
        }
        let downloading = try #require(try store.task(forJob: job.id))
        #expect(downloading.videoURL == "https://cdn.example/v.mp4" && downloading.expiresAt == expiry)
        #expect(try store.inFlightTasks().map(\.task.taskID) == ["task-1"])
        try store.transition(job.id, from: .downloading, to: .done)
        #expect(try store.inFlightTasks().isEmpty)
        #expect(try store.task(forJob: job.id) == nil, "a finished job's task is history")
        #expect(try store.tasks(forJob: job.id).map(\.isActive) == [false])
        #expect(throws: StateStoreError.noActiveTask(job: job.id)) { try store.updateTask(forJob: job.id) { _ in } }
    }

    @Test func uncertainJobsKeepTheirOldTaskAsHistory() throws {
        let job = try store.insertJob(newJob("u", state: .submitting))
        try store.recordTask(job.id, provider: "ark", taskID: "a1", status: "queued", nextPollAt: nil)
        try store.transition(job.id, from: .submitted, to: .failed)
        try store.transition(job.id, from: .failed, to: .ready, message: "hotfolder retry")
        try store.transition(job.id, from: .ready, to: .submitting)
        try store.transition(job.id, from: .submitting, to: .uncertain, message: "crashed during the create call")
        try store.recordTask(job.id, provider: "ark", taskID: "a2", status: "queued", nextPollAt: nil, from: .uncertain)
        #expect(try store.tasks(forJob: job.id).map(\.taskID) == ["a1", "a2"])
        #expect(try store.task(forJob: job.id)?.taskID == "a2")
        #expect(try store.events(job.id).contains { $0.toState == .uncertain })
    }

    @Test func inFlightTasksComeSoonestPollFirstAndDueOnesAreFiltered() throws {
        var ids: [UUID] = []
        for (index, offset) in [30.0, 10.0, 20.0].enumerated() {
            let job = try store.insertJob(newJob("j\(index)", state: .submitting))
            try store.recordTask(job.id, provider: "gateway", taskID: "t\(index)", status: "queued", nextPollAt: clock.now.addingTimeInterval(offset))
            ids.append(job.id)
        }
        try store.transition(ids[2], from: .submitted, to: .running)
        let listed = try store.inFlightTasks()
        #expect(listed.map(\.task.taskID) == ["t1", "t2", "t0"])
        #expect(listed.map(\.jobState) == [.submitted, .running, .submitted])
        #expect(listed.first?.name == "j1" && listed.first?.lane == "lane")
        #expect(try store.tasksDue(now: clock.now.addingTimeInterval(25)).map(\.task.taskID) == ["t1", "t2"])
        #expect(try store.tasksDue(now: clock.now.addingTimeInterval(25), limit: 1).map(\.task.taskID) == ["t1"])
    }

    @Test func nextPollTimeIsTheSoonestDueTaskInFlight() throws {
        #expect(try store.nextPollTime() == nil)
        var ids: [UUID] = []
        for (index, offset) in [30.0, 10.0].enumerated() {
            let job = try store.insertJob(newJob("p\(index)", state: .submitting))
            try store.recordTask(job.id, provider: "gateway", taskID: "p\(index)", status: "queued", nextPollAt: clock.now.addingTimeInterval(offset))
            ids.append(job.id)
        }
        #expect(try store.nextPollTime() == clock.now.addingTimeInterval(10))
        // A task that was never given a poll time is due at once.
        let fresh = try store.insertJob(newJob("fresh", state: .submitting))
        try store.recordTask(fresh.id, provider: "gateway", taskID: "p2", status: "queued", nextPollAt: nil)
        #expect(try #require(try store.nextPollTime()) <= clock.now)
    }

    @Test func queueOrderIsPriorityThenAgeAndSkipsBackoff() throws {
        let old = try store.insertJob(newJob("old"))
        clock.advance(1)
        let urgent = try store.insertJob(newJob("urgent", priority: 5))
        clock.advance(1)
        let young = try store.insertJob(newJob("young"))
        clock.advance(1)
        let waiting = try store.insertJob(newJob("waiting", priority: 9))
        try store.insertJob(newJob("held", priority: 99, state: .held))
        try store.updateJob(waiting.id, in: .ready) { $0.nextAttemptAt = self.clock.now.addingTimeInterval(60) }
        #expect(try store.nextQueued(limit: 10).map(\.id) == [urgent.id, old.id, young.id])
        #expect(try store.nextQueued(limit: 2).map(\.id) == [urgent.id, old.id])
        #expect(try store.nextQueued(limit: 10, now: clock.now.addingTimeInterval(61)).first?.id == waiting.id)
        #expect(try store.jobsDue(now: clock.now).isEmpty)
        #expect(try store.jobsDue(now: clock.now.addingTimeInterval(60)).map(\.id) == [waiting.id])
    }

    @Test func nextRetryTimeIsTheSoonestBackoffEnd() throws {
        #expect(try store.nextRetryTime() == nil)
        let later = try store.insertJob(newJob("later"))
        let sooner = try store.insertJob(newJob("sooner"))
        try store.insertJob(newJob("now"))
        try store.updateJob(later.id, in: .ready) { $0.nextAttemptAt = self.clock.now.addingTimeInterval(90) }
        try store.updateJob(sooner.id, in: .ready) { $0.nextAttemptAt = self.clock.now.addingTimeInterval(30) }
        #expect(try store.nextRetryTime() == clock.now.addingTimeInterval(30))
        #expect(try store.nextRetryTime(after: clock.now.addingTimeInterval(30)) == clock.now.addingTimeInterval(90))
        #expect(try store.nextRetryTime(after: clock.now.addingTimeInterval(90)) == nil)
    }

    @Test func listingCountingAndFinding() throws {
        let a = try store.insertJob(newJob("alpha"))
        clock.advance(1)
        let b = try store.insertJob(newJob("beta", state: .invalid))
        clock.advance(1)
        let c = try store.insertJob(newJob("gamma"))
        try store.transition(c.id, from: .ready, to: .failed) { $0.failureCategory = "moderation" }
        #expect(try store.countsByState() == [.ready: 1, .invalid: 1, .failed: 1])
        #expect(try store.recentFailures(limit: 5).map(\.id) == [c.id, b.id])
        #expect(try store.recentFailures(limit: 1).map(\.id) == [c.id])
        #expect(try store.jobs(inStates: [.ready, .failed]).map(\.id) == [a.id, c.id])
        #expect(try store.jobs(inStates: []).isEmpty)
        #expect(try store.findJobs("beta").map(\.id) == [b.id])
        #expect(try store.findJobs(a.id.uuidString).map(\.id) == [a.id], "full id, any case")
        #expect(try store.findJobs(String(a.id.lowercasedString.prefix(8))).map(\.id) == [a.id])
        #expect(try store.findJobs("nothing").isEmpty)
    }

    @Test func knownInputsMatchIdentityAndContent() throws {
        let file = input("cat.png", inode: 77, sha: "feed")
        let job = try store.insertJob(newJob("cat", inputs: [file]))
        let known = try store.knownInputs(file.identity, sha256: "feed")
        #expect(known.map(\.jobID) == [job.id] && known.first?.jobState == .ready && known.first?.input == file)
        #expect(try store.knownInputs(file.identity).count == 1)
        #expect(try store.knownInputs(file.identity, sha256: "beef").isEmpty)
        var touched = file.identity
        touched.mtimeNs += 1
        #expect(try store.knownInputs(touched).isEmpty)
        #expect(try store.knownInputs(sha256: "feed").map(\.jobID) == [job.id])
        var huge = file.identity
        huge.device = .max
        huge.inode = .max - 1
        let big = try store.insertJob(newJob("big", inputs: [StoredInput(path: "/x", identity: huge, sha256: "ff")]))
        #expect(try store.knownInputs(huge).map(\.jobID) == [big.id], "64-bit device and inode survive")
        #expect(try store.inputs(ofJob: big.id).first?.identity == huge)
    }

    @Test func uploadCacheHonoursExpiry() throws {
        let expiry = clock.now.addingTimeInterval(3600)
        try store.cacheUpload(CachedUpload(sha256: "abc", url: "https://u/1", expiresAt: expiry))
        #expect(try store.cachedUpload(sha256: "abc")?.url == "https://u/1")
        #expect(try store.cachedUpload(sha256: "abc", now: clock.now.addingTimeInterval(3000)) == nil, "within the margin")
        #expect(try store.cachedUpload(sha256: "abc", now: clock.now.addingTimeInterval(3000), margin: 0) != nil)
        #expect(try store.cachedUpload(sha256: "other") == nil)
        try store.cacheUpload(CachedUpload(sha256: "abc", url: "https://u/2", expiresAt: expiry.addingTimeInterval(3600)))
        #expect(try store.cachedUpload(sha256: "abc", now: clock.now.addingTimeInterval(3000))?.url == "https://u/2")
        try store.cacheUpload(CachedUpload(sha256: "old", url: "https://u/3", expiresAt: clock.now.addingTimeInterval(-1)))
        #expect(try store.purgeExpiredUploads() == 1)
        #expect(try store.cachedUpload(sha256: "abc") != nil)
    }

    @Test func reopeningKeepsEverything() throws {
        let job = try store.insertJob(newJob("keep", state: .submitting, inputs: [input("keep.txt")]))
        try store.recordTask(job.id, provider: "gateway", taskID: "k1", status: "queued", nextPollAt: clock.now)
        try store.cacheUpload(CachedUpload(sha256: "k", url: "https://u/k", expiresAt: clock.now.addingTimeInterval(86_400)))
        let before = (try store.job(job.id), try store.events(job.id), try store.inFlightTasks())
        try store.close()
        #expect(throws: StateStoreError.self) { try store.job(job.id) }

        let reopened = try SQLiteStateStore(directory: directory.file("state"), clock: clock.closure)
        #expect(try reopened.appliedMigrations() == ["v1", "v2-lifecycle", "v3-budget", "v3-notifications", "v4-films", "v4-scale", "v4-dashboard", "v5-search", "v5-moved-inputs", "v5-spend-by-job", "v5-lease", "v5-queue-pause", "v6-input-path"])
        #expect(try reopened.job(job.id) == before.0)
        #expect(try reopened.events(job.id) == before.1)
        #expect(try reopened.inFlightTasks() == before.2)
        #expect(try reopened.inputs(ofJob: job.id) == [input("keep.txt")])
        #expect(try reopened.cachedUpload(sha256: "k")?.url == "https://u/k")
    }

    @Test func openingAnUnusableDirectoryFailsClearly() throws {
        let blocker = try directory.write("file-not-dir")
        #expect {
            _ = try SQLiteStateStore(directory: blocker)
        } throws: { error in
            guard case .openFailed(let path, _) = error as? StateStoreError else { return false }
            return path.hasPrefix(blocker) && "\(error)".contains("Could not open the state database")
        }
    }
}

enum UUIDs {
    static let missing = UUID(uuidString: "00000000-0000-0000-0000-000000000001")!
}
