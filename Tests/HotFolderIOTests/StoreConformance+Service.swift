// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Synchronization
import Testing

/// The ``ServiceStore`` requirements beyond the lifecycle, on both stores: what the running service, the dashboard
/// and the reports read, the intake's inserts with films, the budget's records and the stall watch. Times come from
/// the suite's ``TestClock`` (rows are stamped with it) and from dates passed in.
extension StoreConformance {
    /// A job with one input of its own identity (`inode`), in `lane`, whose description asks for `prompt`.
    static func serviceJob(
        _ name: String, lane: String = "", inode: UInt64, path: String? = nil, prompt: String? = nil, model: String = "fast",
        priority: Int = 0
    ) -> NewJob {
        let spec: Data
        if let prompt {
            spec = (try? JSONSerialization.data(withJSONObject: ["request": ["model": model, "prompt": prompt]])) ?? Data()
        } else {
            spec = Data(#"{"prompt":"\#(name)"}"#.utf8)
        }
        return NewJob(
            name: name, lane: lane, priority: priority, specJSON: spec,
            inputs: [
                StoredInput(
                    path: path ?? "\(lane)/\(name).png", identity: InputIdentity(device: 7, inode: inode, size: 10, mtimeNs: 20),
                    sha256: "cd")
            ])
    }

    /// Moves a job from `ready` through every working state to `done` (the output path reserved on the way).
    static func finish(_ store: some StateStore, _ id: UUID, output: String, settle: Bool = false) async throws {
        var commit = move(.ready, .uploading)
        try await store.commit(id, commit, lease: nil)
        commit = move(.uploading, .submitting)
        try await store.commit(id, commit, lease: nil, outputPath: output, task: nil, budget: nil)
        for (from, to) in [(JobState.submitting, JobState.submitted), (.submitted, .running), (.running, .downloading)] {
            try await store.commit(id, move(from, to), lease: nil)
        }
        commit = move(.downloading, .done)
        if settle { commit.spend = .settle(tokens: 2000) }
        try await store.commit(id, commit, lease: nil)
    }

    static func failed(_ category: String = "bad_request") -> JobLifecycle.Commit {
        var commit = move(.ready, .failed)
        commit.failure = .init(category: category, message: "\(category) on purpose")
        return commit
    }

    // MARK: - InputHolding.recordJobs and films

    /// One transaction inserts the films and every job whose drop key is free and whose files are still there; a
    /// taken key and a vanished file skip their job (the vanished one's key is given back), a job without a key is
    /// inserted as it is; the clips name their film.
    static func checkRecordJobsSkipsTakenKeysAndVanishedFiles(_ a: some ServiceStore, _ b: some ServiceStore) async throws {
        let film = NewFilm(name: "story", lane: "boards", folder: "boards/story", clips: 2)
        func keyed(_ name: String) -> NewJob {
            var job = newJob(name)
            job.dropKey = dropKey(name)
            return job
        }
        var clip1 = keyed("clip-1")
        clip1.filmID = film.id
        clip1.reuseKey = "shot-1"
        var clip2 = keyed("clip-2")
        clip2.filmID = film.id
        let taken = keyed("taken")
        let gone = keyed("gone")
        let unkeyed = newJob("unkeyed")
        _ = try await b.insertDrop(dropKey("taken"), jobs: [newJob("taken-by-b")])

        let asked = Mutex<[String]>([])
        let inserted = try await a.recordJobs([clip1, clip2, taken, gone, unkeyed], films: [film]) { job in
            asked.withLock { $0.append(job.name) }
            return job.name != "gone"
        }
        #expect(inserted.map(\.id) == [clip1.id, clip2.id, unkeyed.id], "the taken key and the vanished files are skipped")
        #expect(inserted.allSatisfy { $0.state == .ready && $0.createdAt == t0 })
        #expect(asked.withLock { $0 } == ["clip-1", "clip-2", "gone"], "asked only for keys it registered")
        #expect(try await b.job(id: taken.id) == nil)
        #expect(try await b.job(id: gone.id) == nil)
        #expect(try await b.job(id: unkeyed.id)?.name == "unkeyed")
        #expect(try await b.events(ofJob: clip1.id).map(\.kind) == [.created])
        #expect(try await b.inputFiles(ofJob: clip2.id).map(\.path) == ["lane/clip-2.txt"])

        // Keys: the clips' are registered, the vanished one's given back, the taken one still b's.
        await #expect(throws: StateStoreError.duplicateDrop(key: dropKey("clip-1").value)) {
            try await b.insertDrop(dropKey("clip-1"), jobs: [newJob("clip-1-again")])
        }
        await #expect(throws: StateStoreError.duplicateDrop(key: dropKey("taken").value)) {
            try await b.insertDrop(dropKey("taken"), jobs: [newJob("taken-again")])
        }
        #expect(try await b.insertDrop(dropKey("gone"), jobs: [newJob("gone-again")]).count == 1)
        // The same drop recorded again by the other node makes nothing.
        #expect(try await b.recordJobs([keyed("clip-1")], films: [], stillThere: nil).isEmpty)

        let stored = try #require(try await b.film(id: film.id))
        #expect(stored.name == "story" && stored.lane == "boards" && stored.folder == "boards/story")
        #expect(stored.clips == 2 && stored.state == .open && stored.outputPath == nil && stored.updatedAt == t0)
        #expect(try await b.film(id: UUID()) == nil)
        #expect(try await b.clips(ofFilm: film.id).map(\.id) == [clip1.id, clip2.id], "in storyboard order")
        #expect(try await b.clips(ofFilm: UUID()).isEmpty)

        // An invalid job is recorded with its files due for failed/, and told (job.failed) by the same transaction.
        a.configureNotifications(try routes(), instance: "a", onEnqueue: nil)
        var invalid = newJob("broken")
        invalid.state = .invalid
        invalid.message = "no prompt"
        let recorded = try await a.recordJobs([invalid], films: [], stillThere: nil)
        #expect(recorded.first?.pendingDisposal == .failed && recorded.first?.failureMessage == "no prompt")
        #expect(try await b.deliveries(eventID: nil).map(\.type) == [.jobFailed])
    }

    /// Films move on by compare-and-set; a film is to settle once every clip finished; failed films are found by
    /// their storyboard; settled films are pruned by age, open ones never.
    static func checkFilmsSettleByCompareAndSet(_ a: some ServiceStore, _ b: some ServiceStore, clock: TestClock) async throws {
        let film = NewFilm(name: "story", lane: "boards", folder: "boards/story", clips: 2)
        let stale = NewFilm(name: "story", lane: "boards", folder: "boards/story", clips: 2)
        let open = NewFilm(name: "other", lane: "boards", folder: "boards/other", clips: 1)
        var clips = [newJob("c1"), newJob("c2")]
        for index in clips.indices { clips[index].filmID = film.id }
        var lone = newJob("lone")
        lone.filmID = open.id
        // A film comes with its clips; the stale one's only clip is finished already (invalid).
        var staleClip = newJob("stale-clip")
        (staleClip.state, staleClip.filmID) = (.invalid, stale.id)
        _ = try await a.recordJobs(clips + [lone, staleClip], films: [film, stale, open], stillThere: nil)
        #expect(try await b.filmsToSettle().map(\.id) == [stale.id], "a film whose clips all finished, not those waiting")

        try await finish(a, clips[0].id, output: "/outbox/boards/c1")
        #expect(try await b.filmsToSettle().map(\.id) == [stale.id], "one clip still runs")
        clock.advance(60)
        try await b.commit(clips[1].id, failed(), lease: nil)
        #expect(try await a.filmsToSettle().map(\.id).sorted { $0.uuidString < $1.uuidString }
            == [film.id, stale.id].sorted { $0.uuidString < $1.uuidString })

        #expect(try await a.setFilmState(film.id, from: [.open], to: .joining, outputPath: "/outbox/boards/story", message: nil))
        #expect(try await !b.setFilmState(film.id, from: [.open], to: .joining, outputPath: "/elsewhere", message: nil),
                "the other node lost the race")
        var joining = try #require(try await b.film(id: film.id))
        #expect(joining.state == .joining && joining.outputPath == "/outbox/boards/story" && joining.updatedAt == at(60))
        clock.advance(60)
        #expect(try await b.setFilmState(film.id, from: [.open, .joining], to: .joined, outputPath: nil, message: "2 clips"))
        joining = try #require(try await a.film(id: film.id))
        #expect(joining.state == .joined && joining.outputPath == "/outbox/boards/story" && joining.message == "2 clips")
        #expect(joining.updatedAt == at(120))
        #expect(try await a.filmsToSettle().map(\.id) == [stale.id])

        #expect(try await b.setFilmState(stale.id, from: [.open], to: .failed, outputPath: "/outbox/boards/story.error.txt",
                                         message: "c2 failed"))
        #expect(try await a.failedFilms(lane: "boards", folder: "boards/story").map(\.id) == [stale.id])
        #expect(try await a.failedFilms(lane: "boards", folder: "boards/other").isEmpty)
        #expect(try await a.failedFilms(lane: "other", folder: "boards/story").isEmpty)

        #expect(try await a.pruneFilms(finishedBefore: at(120)) == 0, "settled at 120, not before it")
        #expect(try await b.pruneFilms(finishedBefore: at(121)) == 2)
        #expect(try await a.film(id: film.id) == nil)
        #expect(try await a.film(id: stale.id) == nil)
        #expect(try await a.film(id: open.id)?.state == .open, "an open film is never pruned")
        #expect(try await a.clips(ofFilm: film.id).count == 2, "the clips stay for the history pruning")
    }

    /// Clips made before from the same shot are found newest first with their outputs; only done ones with an output.
    static func checkClipsMadeAreTheDoneOnesOfTheSameShot(_ a: some ServiceStore, _ b: some ServiceStore, clock: TestClock) async throws {
        var jobs = [newJob("first"), newJob("second"), newJob("failed"), newJob("other-shot"), newJob("running")]
        for index in jobs.indices { jobs[index].reuseKey = index == 3 ? "shot-2" : "shot-1" }
        _ = try await a.recordJobs(jobs, films: [], stillThere: nil)
        try await finish(a, jobs[0].id, output: "/outbox/first")
        clock.advance(10)
        try await finish(b, jobs[1].id, output: "/outbox/second")
        try await a.commit(jobs[2].id, failed(), lease: nil)
        try await finish(a, jobs[3].id, output: "/outbox/other")
        try await a.commit(jobs[4].id, move(.ready, .uploading), lease: nil)
        let made = try await b.clipsMade(reuseKey: "shot-1")
        #expect(made.map(\.id) == [jobs[1].id, jobs[0].id], "newest first, done ones only")
        #expect(made.map(\.outputPath) == ["/outbox/second", "/outbox/first"])
        #expect(try await a.clipsMade(reuseKey: "shot-2").map(\.outputPath) == ["/outbox/other"])
        #expect(try await a.clipsMade(reuseKey: "shot-3").isEmpty)
    }

    // MARK: - JobQueries

    /// Lists, counts, failures, search, the report's window, tasks, the create call's time, known tasks and outputs.
    static func checkJobQueriesReadWhatCommitsWrote(_ a: some ServiceStore, _ b: some ServiceStore, clock: TestClock) async throws {
        let names = ["alpha", "beta", "gamma", "delta", "epsilon"]
        var jobs: [StoredJob] = []
        for name in names {
            jobs += try await insert(a, [name])
            clock.advance(10)
        }
        #expect(try await b.jobCounts() == [.ready: 5])
        try await b.commit(jobs[1].id, failed(), lease: nil)  // at 50
        clock.advance(10)
        try await a.commit(jobs[3].id, failed("moderation"), lease: nil)  // at 60
        clock.advance(10)
        try await a.commit(jobs[4].id, move(.ready, .submitting), lease: nil)  // at 70
        #expect(try await b.jobCounts() == [.ready: 2, .failed: 2, .submitting: 1])

        #expect(try await b.listJobs(in: [.ready], limit: nil).map(\.name) == ["alpha", "gamma"], "oldest first")
        #expect(try await b.listJobs(in: [.ready, .failed], limit: 3).map(\.name) == ["alpha", "beta", "gamma"])
        #expect(try await b.listJobs(in: [], limit: nil).isEmpty)
        #expect(try await a.latestFailures(limit: 5).map(\.name) == ["delta", "beta"], "newest first")
        #expect(try await a.latestFailures(limit: 1).map(\.failureCategory) == ["moderation"])

        #expect(try await b.searchJobs("gamma").map(\.id) == [jobs[2].id], "by its name")
        #expect(try await b.searchJobs(" \(jobs[3].id.uuidString) ").map(\.id) == [jobs[3].id], "by its id, any case")
        #expect(try await b.searchJobs(String(jobs[4].id.uuidString.lowercased().prefix(8))).map(\.id) == [jobs[4].id])
        #expect(try await b.searchJobs("nothing").isEmpty)
        #expect(try await b.searchJobs("  ").isEmpty)

        #expect(try await a.finishedJobs(from: at(50), to: at(60), limit: 10).map(\.name) == ["beta"], "start in, end out")
        #expect(try await a.finishedJobs(from: t0, to: at(61), limit: 10).map(\.name) == ["beta", "delta"])
        #expect(try await a.finishedJobs(from: t0, to: at(61), limit: 1).map(\.name) == ["beta"])
        #expect(try await a.finishedJobs(from: at(61), to: at(1000), limit: 10).isEmpty, "submitting is not final")

        // Two tasks for one job: the first given up (back to the queue), the second active.
        let job = jobs[4]
        #expect(try await b.submittingTime(ofJob: job.id) == at(70))
        #expect(try await b.tasks(ofJob: job.id).isEmpty)
        #expect(try await b.tasksInFlight() == 0)
        #expect(try await b.nextPoll() == nil)
        try await a.recordTask(job.id, lease: nil, provider: "gateway", taskID: "cgt-1", status: "queued", nextPollAt: at(100))
        #expect(try await b.nextPoll() == at(100))
        #expect(try await b.tasksInFlight() == 1)
        clock.advance(10)
        try await a.commit(job.id, move(.submitted, .ready), lease: nil)
        clock.advance(10)
        try await a.commit(job.id, move(.ready, .submitting), lease: nil)  // at 90
        try await a.recordTask(job.id, lease: nil, provider: "gateway", taskID: "cgt-2", status: "queued", nextPollAt: at(200))
        let tasks = try await b.tasks(ofJob: job.id)
        #expect(tasks.map(\.taskID) == ["cgt-1", "cgt-2"] && tasks.map(\.isActive) == [false, true])
        #expect(try await b.submittingTime(ofJob: job.id) == at(90), "the latest create call")
        #expect(try await b.submittingTime(ofJob: jobs[0].id) == nil)
        #expect(try await b.tasksInFlight() == 1)
        #expect(try await b.nextPoll() == at(200))
        #expect(try await b.knowsTask(provider: "gateway", taskID: "cgt-1"))
        #expect(try await !b.knowsTask(provider: "ark", taskID: "cgt-1"))
        #expect(try await !b.knowsTask(provider: "gateway", taskID: "cgt-3"))

        // A task never polled yet is due at once.
        try await a.commit(jobs[0].id, move(.ready, .submitting), lease: nil)
        try await a.recordTask(jobs[0].id, lease: nil, provider: "ark", taskID: "ark-1", status: "queued", nextPollAt: nil)
        #expect(try await b.nextPoll() == Date(timeIntervalSince1970: 0))
        #expect(try await b.tasksInFlight() == 2)

        // Output names: the one a commit reserved is known, another is not.
        try await a.commit(jobs[2].id, move(.ready, .uploading), lease: nil, outputPath: "/outbox/gamma", task: nil, budget: nil)
        #expect(try await b.knowsOutput(stem: "/outbox/gamma"))
        #expect(try await !b.knowsOutput(stem: "/outbox/gamma-2"))
    }

    /// Retries, inputs still to move (only of jobs no node holds) and where they went.
    static func checkRetriesAndDisposals(_ a: some ServiceStore, _ b: some ServiceStore) async throws {
        let jobs = try await insert(a, ["wait", "now", "moved", "leased"])
        #expect(try await b.nextRetry(after: t0) == nil)
        var backoff = move(.ready, .ready)
        backoff.notBefore = at(500)
        try await a.commit(jobs[0].id, backoff, lease: nil)
        backoff.notBefore = at(300)
        try await a.commit(jobs[1].id, backoff, lease: nil)
        #expect(try await b.nextRetry(after: t0) == at(300))
        #expect(try await b.nextRetry(after: at(300)) == at(500), "after, not at")
        #expect(try await b.nextRetry(after: at(500)) == nil)

        var failedMove = failed()
        failedMove.disposal = .failed
        try await a.commit(jobs[2].id, failedMove, lease: nil)
        let lease = try #require(try await a.claimQueued(node: "a", limit: 10, leaseFor: leaseFor, now: at(600)).first { $0.job.id == jobs[3].id }?.lease)
        try await a.commit(jobs[3].id, failedMove, lease: lease)
        #expect(try await b.jobsAwaitingDisposal().map(\.id) == [jobs[2].id], "the leased one is its node's to move")
        #expect(try await b.inputMoves(ofJob: jobs[2].id) == [nil])
        try await b.finishDisposal(
            jobs[2].id, folder: "/failed/moved", release: true, movedInputs: ["lane/moved.txt": "/failed/moved/moved.txt"],
            lease: nil)
        #expect(try await a.inputMoves(ofJob: jobs[2].id) == ["/failed/moved/moved.txt"])
        #expect(try await a.jobsAwaitingDisposal().isEmpty)
        #expect(try await a.inputMoves(ofJob: UUID()).isEmpty)
    }

    // MARK: - InputHolding reads

    /// Held inputs are those of jobs that did not give them back; a job's inputs another live job shares are named.
    static func checkHeldAndSharedInputs(_ a: some ServiceStore, _ b: some ServiceStore) async throws {
        let one = serviceJob("one", lane: "l", inode: 101)
        let two = serviceJob("two", lane: "l", inode: 102)
        var shared = serviceJob("shared-a", lane: "l", inode: 103, path: "l/manifest.csv")
        shared.inputs.append(StoredInput(path: "l/own.png", identity: InputIdentity(device: 7, inode: 104, size: 10, mtimeNs: 20), sha256: "ef"))
        let sharer = serviceJob("shared-b", lane: "l", inode: 103, path: "l/manifest.csv")
        _ = try await a.recordJobs([one, two, shared, sharer], films: [], stillThere: nil)

        let held = try await b.heldInputs()
        #expect(Set(held.map { "\($0.job.uuidString)/\($0.identity.inode)" }) == [
            "\(one.id.uuidString)/101", "\(two.id.uuidString)/102", "\(shared.id.uuidString)/103",
            "\(shared.id.uuidString)/104", "\(sharer.id.uuidString)/103",
        ])
        #expect(try await b.isInputHeld(one.inputs[0].identity))
        #expect(try await !b.isInputHeld(InputIdentity(device: 7, inode: 101, size: 11, mtimeNs: 20)), "another size")

        try await a.commit(one.id, failed(), lease: nil)
        try await a.finishDisposal(one.id, folder: "/failed/one", release: true, movedInputs: [:], lease: nil)
        #expect(try await !b.isInputHeld(one.inputs[0].identity), "given back")
        #expect(try await b.heldInputs().count == 4)

        #expect(try await b.inputsSharedWithLiveJobs(besides: shared.id) == ["l/manifest.csv"], "the other row still runs")
        #expect(try await b.inputsSharedWithLiveJobs(besides: two.id).isEmpty)
        try await a.commit(sharer.id, failed(), lease: nil)
        #expect(try await b.inputsSharedWithLiveJobs(besides: shared.id).isEmpty, "a finished job holds it no more")
    }

    // MARK: - BudgetRecords

    /// Alerts are recorded and told once; overrides are set and cleared; spend is read per day, month, lane and job;
    /// held jobs are counted and listed by kind.
    static func checkBudgetRecords(_ a: some ServiceStore, _ b: some ServiceStore) async throws {
        let near = BudgetAlert(cap: .daily, fraction: 0.8, used: 8, limit: 10, period: "2027-01-15")
        let reached = BudgetAlert(cap: .lane("boards"), fraction: 1, used: 5, limit: 5, period: "2027-01-15")
        #expect(try await a.recordAlert(near))
        #expect(try await !b.recordAlert(near), "this alert of this period was recorded already")
        #expect(try await b.recordAlert(reached))
        var next = near
        next.period = "2027-01-16"
        #expect(try await b.recordAlert(next), "the next day's is another")
        let told = try await a.alertsToAnnounce()
        #expect(Set(told) == [near, reached, next])
        try await b.markAnnounced([near, reached])
        #expect(try await a.alertsToAnnounce() == [next])
        try await a.markAnnounced([next])
        #expect(try await b.alertsToAnnounce().isEmpty)

        #expect(try await a.budgetOverrideValues() == BudgetOverrides())
        try await a.setOverride(.daily, value: 5, clear: false)
        try await b.setOverride(.monthly, value: nil, clear: false)
        try await b.setOverride(.lane("boards"), value: 1, clear: false)
        #expect(try await b.budgetOverrideValues() == BudgetOverrides(daily: .init(5), monthly: .init(nil)))
        try await a.setOverride(.daily, value: 7, clear: false)
        try await b.setOverride(.monthly, value: nil, clear: true)
        #expect(try await a.budgetOverrideValues() == BudgetOverrides(daily: .init(7)))

        // Spend: one job reserves in lane boards/sub, one settles at the billed figure in lane other.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let budget = BudgetRequest(cost: 0.4, tokens: 1000, caps: BudgetCaps(), laneCaps: [], calendar: calendar)
        let jobs = try await a.recordJobs(
            [serviceJob("reserved", lane: "boards/sub", inode: 1), serviceJob("billed", lane: "other", inode: 2),
             serviceJob("free", inode: 3)], films: [], stillThere: nil)
        var reserve = move(.ready, .submitting)
        reserve.spend = .reserve
        try await a.commit(jobs[0].id, reserve, lease: nil, outputPath: nil, task: nil, budget: budget)
        var billed = move(.ready, .uploading)
        try await b.commit(jobs[1].id, billed, lease: nil)
        billed = move(.uploading, .submitting)
        billed.spend = .reserve
        try await b.commit(jobs[1].id, billed, lease: nil, outputPath: "/outbox/other/billed", task: nil, budget: budget)
        for (from, to) in [(JobState.submitting, JobState.submitted), (.submitted, .running), (.running, .downloading)] {
            try await b.commit(jobs[1].id, move(from, to), lease: nil)
        }
        var done = move(.downloading, .done)
        done.spend = .settle(tokens: 2000)
        try await b.commit(jobs[1].id, done, lease: nil)

        let spend = try await b.spending(at: t0, calendar: calendar, laneFolders: ["boards", "other", "", "none"])
        #expect(spend.period == SpendPeriod(t0, calendar: calendar))
        #expect(abs(spend.day.reserved - 0.4) < 1e-9 && abs(spend.day.spent - 0.8) < 1e-9)
        #expect(abs(spend.month.used - 1.2) < 1e-9)
        #expect(abs((spend.lanes["boards"]?.reserved ?? 0) - 0.4) < 1e-9 && spend.lanes["boards"]?.spent == 0)
        #expect(abs((spend.lanes["other"]?.spent ?? 0) - 0.8) < 1e-9)
        #expect(spend.lanes[""] == spend.day && spend.lanes["none"] == SpendLine())
        let tomorrow = try await a.spending(at: t0.addingTimeInterval(86_400), calendar: calendar, laneFolders: [])
        #expect(tomorrow.day == SpendLine() && abs(tomorrow.month.used - 1.2) < 1e-9, "the same month, another day")
        let first = try #require(try await a.spendRecorded(ofJob: jobs[0].id))
        #expect(abs(first.reserved - 0.4) < 1e-9 && first.spent == 0)
        #expect(abs((try await a.spendRecorded(ofJob: jobs[1].id)?.spent ?? 0) - 0.8) < 1e-9)
        #expect(try await a.spendRecorded(ofJob: jobs[2].id) == nil)

        // Held jobs, by what holds them.
        var holds: [StoredJob] = []
        for (index, kind) in ["budget", "window", "budget"].enumerated() {
            let job = try await insert(a, ["held-\(index)"], priority: index == 2 ? 5 : 0)[0]
            var hold = move(.ready, .held)
            hold.failure = .init(category: kind, message: "held by the \(kind)")
            hold.notBefore = at(3600)
            holds.append(try await a.commit(job.id, hold, lease: nil))
        }
        #expect(try await b.heldJobCounts() == ["budget": 2, "window": 1])
        #expect(try await b.heldJobs(ofKind: "budget", limit: 10).map(\.id) == [holds[2].id, holds[0].id], "priority first")
        #expect(try await b.heldJobs(ofKind: nil, limit: 10).count == 3)
        #expect(try await b.heldJobs(ofKind: nil, limit: 1).map(\.id) == [holds[2].id])
        #expect(try await b.heldJobs(ofKind: "other", limit: 10).isEmpty)
    }

    // MARK: - DashboardQueries

    /// The job list pages newest first through its cursor, filtered by state, lane and text; jobs done per hour;
    /// lanes in byte order; the store takes writes.
    static func checkDashboardReads(_ a: some ServiceStore, _ b: some ServiceStore, clock: TestClock) async throws {
        let specs = [
            serviceJob("job-1", lane: "b", inode: 1, prompt: "A red FOX at dawn"),
            serviceJob("job-2", lane: "a", inode: 2),
            serviceJob("job-3", lane: "b", inode: 3, prompt: "ocean 100% calm", model: "quality"),
            serviceJob("job-4", lane: "B", inode: 4),
            serviceJob("job-5", lane: "", inode: 5),
        ]
        var jobs: [StoredJob] = []
        for spec in specs {
            jobs += try await a.recordJobs([spec], films: [], stillThere: nil)
            clock.advance(1)
        }
        var pages: [[String]] = []
        var cursor: String?
        repeat {
            let page = try await b.jobListPage(JobListFilter(), cursor: cursor, limit: 2)
            pages.append(page.rows.map(\.job.name))
            cursor = page.nextCursor
        } while cursor != nil && pages.count < 10
        #expect(pages == [["job-5", "job-4"], ["job-3", "job-2"], ["job-1"]], "newest first, each job once")
        let exact = try await b.jobListPage(JobListFilter(), cursor: nil, limit: 5)
        #expect(exact.rows.count == 5 && exact.nextCursor == nil, "a full last page has no next one")

        // A row carries the model and prompt its description asks for, and its task's progress.
        try await a.commit(jobs[2].id, move(.ready, .submitting), lease: nil)
        try await a.recordTask(jobs[2].id, lease: nil, provider: "gateway", taskID: "cgt-3", status: "running", nextPollAt: nil)
        try await a.updateTask(forJob: jobs[2].id, lease: nil) { $0.progress = 40 }
        try await b.commit(jobs[1].id, failed(), lease: nil)
        let third = try #require(try await b.jobListPage(JobListFilter(lane: "b"), cursor: nil, limit: 10).rows.first)
        #expect(third.job.id == jobs[2].id && third.model == "quality" && third.prompt == "ocean 100% calm")
        #expect(third.progress == 40 && third.taskStatus == "running")

        func names(_ filter: JobListFilter, limit: Int = 10) async throws -> [String] {
            try await a.jobListPage(filter, cursor: nil, limit: limit).rows.map(\.job.name)
        }
        #expect(try await names(JobListFilter(lane: "b")) == ["job-3", "job-1"])
        #expect(try await names(JobListFilter(lane: "")) == ["job-5"], "the inbox itself")
        #expect(try await names(JobListFilter(states: [.failed])) == ["job-2"])
        #expect(try await names(JobListFilter(states: [.ready, .failed])) == ["job-5", "job-4", "job-2", "job-1"])
        #expect(try await names(JobListFilter(query: "fox")) == ["job-1"], "in the prompt, any case")
        #expect(try await names(JobListFilter(query: "JOB-4")) == ["job-4"], "in the name, any case")
        #expect(try await names(JobListFilter(query: "0%")) == ["job-3"], "% is text")
        #expect(try await names(JobListFilter(query: "b_")).isEmpty, "_ is text")
        #expect(try await names(JobListFilter(states: [.ready], lane: "b", query: "o")) == ["job-1"])
        // Paging a filtered list through the same cursor.
        let firstPage = try await a.jobListPage(JobListFilter(states: [.ready, .failed]), cursor: nil, limit: 3)
        let rest = try await a.jobListPage(JobListFilter(states: [.ready, .failed]), cursor: firstPage.nextCursor, limit: 3)
        #expect(rest.rows.map(\.job.name) == ["job-1"] && rest.nextCursor == nil)
        await #expect(throws: StateStoreError.badCursor("not-a-cursor")) {
            try await b.jobListPage(JobListFilter(), cursor: "not-a-cursor", limit: 2)
        }

        // Jobs done per hour of the 24 before `now`: two in the second hour, one in the sixth; a failure is no count.
        let base = clock.now
        let finished = try await insert(a, ["h1", "h2", "h5", "late"])
        clock.advance(3600 + 10)
        try await finish(a, finished[0].id, output: "/outbox/h1")
        try await finish(b, finished[1].id, output: "/outbox/h2")
        clock.advance(4 * 3600)
        try await finish(a, finished[2].id, output: "/outbox/h5")
        try await b.commit(finished[3].id, failed(), lease: nil)
        var hours = [Int](repeating: 0, count: 24)
        hours[1] = 2
        hours[5] = 1
        #expect(try await b.finishedEachHour(now: base.addingTimeInterval(24 * 3600)) == hours)
        // The window's start is in, its end out.
        var shifted = [Int](repeating: 0, count: 24)
        shifted[3] = 1
        #expect(try await b.finishedEachHour(now: base.addingTimeInterval(24 * 3600 + 3611)) == shifted)
        var earlier = [Int](repeating: 0, count: 24)
        earlier[20] = 2
        #expect(try await b.finishedEachHour(now: base.addingTimeInterval(18_010)) == earlier)

        #expect(try await a.laneNames(limit: 10) == ["", "B", "a", "b"], "byte order")
        #expect(try await a.laneNames(limit: 2) == ["", "B"])
        #expect(await a.canWrite())
        #expect(await b.canWrite())
    }

    // MARK: - StallWatching

    /// A job in a working state unchanged for too long is told once as `job.stalled`, by whichever node looks first;
    /// once it moves on and stalls again, it is told again. Nobody wanting the event: nothing is looked for.
    static func checkStallsAreToldOncePerStall(_ a: some ServiceStore, _ b: some ServiceStore, clock: TestClock) async throws {
        let stalls = NotificationRoute(key: "hook-stall", label: "pager", filter: try NotificationFilter(patterns: ["job.stalled"]))
        a.configureNotifications([stalls], instance: "a", onEnqueue: nil)
        b.configureNotifications([stalls], instance: "b", onEnqueue: nil)
        let jobs = try await insert(a, ["slow", "later", "queued"])
        try await a.commit(jobs[0].id, move(.ready, .uploading), lease: nil)  // at 0
        clock.advance(100)
        try await a.commit(jobs[1].id, move(.ready, .submitting), lease: nil)  // at 100

        #expect(try await b.checkStalled(after: 600, now: at(599), limit: 10) == 0, "not yet")
        async let viaA = a.checkStalled(after: 600, now: at(650), limit: 10)
        async let viaB = b.checkStalled(after: 600, now: at(650), limit: 10)
        let found = try await [viaA, viaB]
        #expect(found.sorted() == [0, 1], "one node tells it")
        var told = try await a.deliveries(eventID: nil)
        #expect(told.map(\.type) == [.jobStalled] && told.map(\.target) == ["hook-stall"])
        let body = try #require(try JSONSerialization.jsonObject(with: told[0].body) as? [String: Any])
        #expect((body["job"] as? [String: Any])?["id"] as? String == jobs[0].id.lowercasedString)
        #expect((body["message"] as? String)?.contains("while uploading") == true)
        #expect(try await a.checkStalled(after: 600, now: at(660), limit: 10) == 0, "told once")

        #expect(try await b.checkStalled(after: 600, now: at(800), limit: 10) == 1, "the second job's stall")
        #expect(try await a.checkStalled(after: 600, now: at(5000), limit: 10) == 0)

        // The first job moves on (its state's time changes) and stalls again: a new stall, told again.
        clock.advance(900)  // at 1000
        try await b.commit(jobs[0].id, move(.uploading, .submitting), lease: nil)
        #expect(try await a.checkStalled(after: 600, now: at(1500), limit: 10) == 0)
        #expect(try await a.checkStalled(after: 600, now: at(1600), limit: 10) == 1)
        told = try await b.deliveries(eventID: nil)
        #expect(told.count == 3 && Set(told.map(\.eventID)).count == 3)

        // At most `limit` per look; a queued job never stalls.
        let more = try await insert(a, ["m1", "m2"])
        for job in more { try await a.commit(job.id, move(.ready, .uploading), lease: nil) }
        #expect(try await a.checkStalled(after: 10, now: at(10_000), limit: 1) == 1)
        #expect(try await b.checkStalled(after: 10, now: at(10_000), limit: 5) == 1)
        #expect(try await b.checkStalled(after: 10, now: at(10_000), limit: 5) == 0)

        a.configureNotifications([NotificationRoute(key: "hook-done", label: "x", filter: try NotificationFilter(patterns: ["job.done"]))],
                                 instance: "a", onEnqueue: nil)
        clock.advance(10)
        try await a.commit(more[0].id, move(.uploading, .submitting), lease: nil)
        #expect(try await a.checkStalled(after: 10, now: at(100_000), limit: 5) == 0, "no target wants it")
    }
}
