// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

/// Drives ``JobLifecycle`` through every money path with no I/O: events in, effects out, a fixed clock.
@Suite struct JobLifecycleTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = LifecyclePolicy(retry: RetryPolicy(maxAttempts: 5, base: .seconds(2), maxDelay: .seconds(300)))

    func commits(_ effects: [JobLifecycle.Effect]) -> [JobLifecycle.Commit] {
        effects.compactMap { if case .commit(let commit) = $0 { commit } else { nil } }
    }

    func has(_ effects: [JobLifecycle.Effect], _ wanted: JobLifecycle.Effect) -> Bool { effects.contains(wanted) }

    /// A job whose task has just succeeded after `polls` status calls.
    func downloading(polls: Int, expiresIn: Double? = 3600) -> JobLifecycle {
        var job = JobLifecycle(
            state: .running, hasImages: false, policy: policy,
            task: TaskFacts(taskID: "task_1", submittedAt: t0, pollCount: polls))
        let expires = expiresIn.map { t0.addingTimeInterval($0) }
        _ = job.handle(.statusSeen(RemoteTask(id: "task_1", status: .succeeded(videoURL: "http://cdn/v.mp4", expiresAt: expires))), now: t0)
        return job
    }

    // MARK: The happy paths

    @Test func textJobGoesFromQueueToDone() {
        var job = JobLifecycle(state: .ready, hasImages: false, policy: policy)
        #expect(job.handle(.picked, now: t0) == [.verifyInputs])
        let submit = job.handle(.inputsVerified, now: t0)
        #expect(commits(submit).map(\.to) == [.submitting])
        #expect(submit.last == .create, "the create call comes after the commit of submitting (write-ahead)")
        let created = job.handle(.created(taskID: "task_1"), now: t0)
        #expect(created.first == .recordTask(taskID: "task_1", from: .submitting, firstPoll: t0.addingTimeInterval(5)))
        #expect(job.handle(.due, now: t0) == [.askStatus])
        let running = job.handle(.statusSeen(RemoteTask(id: "task_1", status: .running(progress: 40))), now: t0)
        #expect(commits(running).map(\.to) == [.running])
        let ready = job.handle(.statusSeen(RemoteTask(id: "task_1", status: .succeeded(videoURL: "http://v", expiresAt: nil))), now: t0)
        #expect(commits(ready).first?.video == JobLifecycle.VideoLink(url: "http://v", expiresAt: t0.addingTimeInterval(24 * 3600)))
        #expect(ready.last == .download)
        #expect(job.handle(.downloaded(bytes: 10), now: t0) == [.writeOutbox])
        let done = job.handle(.outboxWritten, now: t0)
        #expect(commits(done).first?.to == .done)
        #expect(commits(done).first?.disposal == .archive, "the archive is remembered until the inputs moved")
        #expect(has(done, .moveInputs(.archive)))
        #expect(job.state == .done)
    }

    @Test func imageJobUploadsBeforeTheCreateCall() {
        var job = JobLifecycle(state: .ready, hasImages: true, policy: policy)
        _ = job.handle(.picked, now: t0)
        let upload = job.handle(.inputsVerified, now: t0)
        #expect(commits(upload).map(\.to) == [.uploading])
        #expect(upload.last == .upload)
        let create = job.handle(.uploaded, now: t0)
        #expect(commits(create).map(\.to) == [.submitting])
        #expect(create.last == .create)
    }

    // MARK: Path 1: a paid video is fetched until its link expires

    @Test func aLongTasksStatusCallsDoNotUseUpItsDownloadRetries() {
        var job = downloading(polls: 200)
        #expect(job.state == .downloading)
        // The CDN refuses many times; every failure schedules another try, none fails the job.
        var now = t0
        for attempt in 1...12 {
            let effects = job.handle(.downloadFailed(.transient, message: "HTTP 503", diskFull: false), now: now)
            let commit = try! #require(commits(effects).first)
            #expect(commit.to == .downloading, "attempt \(attempt)")
            #expect(commit.counters.downloadFailures == attempt)
            #expect(commit.counters.statusFailures == 0)
            let next = try! #require(commit.nextPoll)
            #expect(next > now && next <= t0.addingTimeInterval(3600))
            #expect(next.timeIntervalSince(now) <= policy.maxDownloadDelay)
            now = next
            #expect(job.handle(.due, now: now) == [.download])
        }
        #expect(job.state == .downloading)
    }

    @Test func anExpiredLinkIsAskedForAgainOnceThenTheJobFailsAsExpired() {
        var job = downloading(polls: 3, expiresIn: 60)
        let refresh = job.handle(.due, now: t0.addingTimeInterval(61))
        #expect(commits(refresh).first?.forgetVideoURL == true)
        #expect(refresh.last == .askStatus)
        // The provider hands out a fresh link: it is used.
        let fresh = job.handle(
            .statusSeen(RemoteTask(id: "task_1", status: .succeeded(videoURL: "http://cdn/new.mp4", expiresAt: t0.addingTimeInterval(120)))),
            now: t0.addingTimeInterval(62))
        #expect(fresh.last == .download)
        let gone = job.handle(.downloadFailed(.expired, message: "HTTP 403", diskFull: false), now: t0.addingTimeInterval(63))
        #expect(commits(gone).first?.to == .failed)
        #expect(commits(gone).first?.failure?.category == "expired")
        #expect(has(gone, .moveInputs(.failed)))
    }

    @Test func aDownloadFailingUntilTheLinkExpiresFailsOnlyThen() {
        var job = downloading(polls: 1, expiresIn: 100)
        _ = job.handle(.downloadFailed(.transient, message: "reset", diskFull: false), now: t0.addingTimeInterval(99))
        #expect(job.state == .downloading)
        let late = job.handle(.downloadFailed(.transient, message: "reset", diskFull: false), now: t0.addingTimeInterval(101))
        #expect(late.last == .askStatus, "past the link's end the provider is asked for a new one first")
        let again = job.handle(.downloadFailed(.transient, message: "reset", diskFull: false), now: t0.addingTimeInterval(200))
        #expect(commits(again).first?.to == .failed)
    }

    @Test func aFullDiskWaitsWithoutCounting() {
        var job = downloading(polls: 1)
        let effects = job.handle(.downloadFailed(.transient, message: "No space left", diskFull: true), now: t0)
        #expect(effects.contains(.schedule(at: t0.addingTimeInterval(15))))
        #expect(job.counters.downloadFailures == 0)
    }

    // MARK: Path 2: provider-side failures are bounded

    @Test func anUnexplainedTaskFailureMakesAtMostThreeTasks() {
        var job = JobLifecycle(state: .running, hasImages: false, policy: policy, task: TaskFacts(taskID: "t1", submittedAt: t0))
        let failed = RemoteTask(id: "t1", status: .failed(category: .transient, message: "InternalServiceError"))
        var creates = 1
        var now = t0
        while job.state != .failed {
            let effects = job.handle(.statusSeen(failed), now: now)
            if job.state == .ready {
                now = commits(effects).last?.notBefore ?? now
                _ = job.handle(.picked, now: now)
                if job.handle(.inputsVerified, now: now).contains(.create) { creates += 1 }
                _ = job.handle(.created(taskID: "t\(creates)"), now: now)
            } else {
                #expect(commits(effects).first?.failure?.category == "provider")
                #expect(commits(effects).first?.failure?.message.contains("InternalServiceError") == true)
            }
            #expect(creates <= 3)
        }
        #expect(creates == 3)
        #expect(job.counters.taskFailures == 3)
    }

    @Test func moderationFailsAtOnce() {
        var job = JobLifecycle(state: .running, hasImages: false, policy: policy, task: TaskFacts(taskID: "t1", submittedAt: t0))
        let effects = job.handle(.statusSeen(RemoteTask(id: "t1", status: .failed(category: .moderation, message: "sensitive"))), now: t0)
        #expect(commits(effects).first?.to == .failed)
        #expect(job.counters.taskFailures == 0)
    }

    // MARK: Path 3: a create call with an unknown outcome is never repeated silently

    @Test func anUnknownCreateOutcomeMakesTheJobUncertainWithoutASecondCreate() {
        var job = JobLifecycle(state: .submitting, hasImages: false, policy: policy)
        let effects = job.handle(.createOutcomeUnknown(message: "HTTP 502 page"), now: t0)
        #expect(!effects.contains(.create))
        #expect(commits(effects).map(\.to) == [.uncertain])
        #expect(commits(effects).first?.notBefore == nil, "the gateway has no task list: a person decides")
        #expect(job.handle(.due, now: t0.addingTimeInterval(3600)).isEmpty)
        #expect(effects.contains(.notify(.uncertain)))
    }

    @Test func aRefusedCreateIsRetriedWithBackoffAndBounded() {
        var job = JobLifecycle(state: .submitting, hasImages: false, policy: policy)
        var now = t0
        for attempt in 1...4 {
            let effects = job.handle(.createRefused(.transient, message: "HTTP 503 busy"), now: now)
            #expect(commits(effects).first?.to == .ready, "attempt \(attempt)")
            now = commits(effects).first?.notBefore ?? now
            _ = job.handle(.picked, now: now)
            _ = job.handle(.inputsVerified, now: now)
        }
        let last = job.handle(.createRefused(.transient, message: "HTTP 503 busy"), now: now)
        #expect(commits(last).first?.to == .failed)
    }

    @Test func onArkAnUncertainJobIsFoundInTheTaskList() {
        let ark = LifecyclePolicy(canSearchLostTasks: true, lostTaskSearchDelay: 30)
        var job = JobLifecycle(state: .submitting, hasImages: false, policy: ark)
        let uncertain = job.handle(.createOutcomeUnknown(message: "reset"), now: t0)
        #expect(commits(uncertain).first?.notBefore == t0.addingTimeInterval(30))
        #expect(job.handle(.due, now: t0.addingTimeInterval(10)).isEmpty, "not before its search is due")
        #expect(job.handle(.due, now: t0.addingTimeInterval(30)) == [.searchLostTask])
        let found = job.handle(.lookedUp(.found(taskID: "cgt-1")), now: t0.addingTimeInterval(31))
        #expect(found.first == .recordTask(taskID: "cgt-1", from: .uncertain, firstPoll: t0.addingTimeInterval(36)))
        #expect(!found.contains(.create))
        #expect(found.contains(.notify(.resolved(taskID: "cgt-1"))))
    }

    @Test func onArkAnUncertainJobWithNoTaskIsSentAgainAfterTwoSearches() {
        let ark = LifecyclePolicy(canSearchLostTasks: true, lostTaskSearches: 2, lostTaskSearchDelay: 30)
        var job = JobLifecycle(state: .submitting, hasImages: false, policy: ark)
        _ = job.handle(.createOutcomeUnknown(message: "reset"), now: t0)
        let first = job.handle(.lookedUp(.notFound), now: t0.addingTimeInterval(30))
        #expect(commits(first).first?.to == .uncertain)
        let second = job.handle(.lookedUp(.notFound), now: t0.addingTimeInterval(60))
        #expect(commits(second).first?.to == .ready)
        let ambiguous = JobLifecycle(state: .uncertain, hasImages: false, policy: ark)
        var other = ambiguous
        let both = other.handle(.lookedUp(.ambiguous(["cgt-1", "cgt-2"])), now: t0)
        #expect(commits(both).first?.to == .uncertain)
        #expect(commits(both).first?.notBefore == nil)
        #expect(commits(both).first?.failure?.message.contains("cgt-2") == true)
    }

    @Test func aCrashDuringTheCreateCallIsUncertainAndDuringUploadStartsOver() {
        var creating = JobLifecycle(state: .submitting, hasImages: false, policy: policy)
        #expect(commits(creating.handle(.recovered, now: t0)).map(\.to) == [.uncertain])
        var uploading = JobLifecycle(state: .uploading, hasImages: true, policy: policy)
        #expect(commits(uploading.handle(.recovered, now: t0)).map(\.to) == [.ready])
        var moving = JobLifecycle(state: .failed, hasImages: false, policy: policy, pendingDisposal: .failed)
        #expect(moving.handle(.recovered, now: t0) == [.moveInputs(.failed)], "a crash between commit and move is finished")
    }

    @Test func resubmitUncertainSendsAgainAndSaysSo() {
        var job = JobLifecycle(state: .submitting, hasImages: false, policy: LifecyclePolicy(resubmitUncertain: true))
        let effects = job.handle(.createOutcomeUnknown(message: "timeout"), now: t0)
        #expect(commits(effects).map(\.to) == [.uncertain, .ready])
    }

    // MARK: Path 4: changed inputs

    @Test func inputsChangedAfterPlanningAreNeverSent() {
        var job = JobLifecycle(state: .ready, hasImages: true, policy: policy)
        _ = job.handle(.picked, now: t0)
        let effects = job.handle(.inputsChanged(["cat.txt"]), now: t0)
        #expect(!effects.contains(.upload) && !effects.contains(.create))
        #expect(commits(effects).first?.to == .cancelled)
        #expect(effects.contains(.moveInputs(.release)))
        #expect(effects.contains(.replan))
    }

    // MARK: Path 7: a job that cannot be read fails loudly

    @Test func aBrokenJobFailsWithItsReasonAndGivesItsFilesBack() {
        var job = JobLifecycle(state: .submitted, hasImages: false, policy: policy)
        let effects = job.handle(.brokenLocally(message: "job cat was stored by a newer hotfolder"), now: t0)
        #expect(commits(effects).first?.to == .failed)
        #expect(commits(effects).first?.failure?.category == "internal")
        #expect(effects.contains(.moveInputs(.failed)))
    }

    // MARK: Status calls

    @Test func statusCallFailuresHaveTheirOwnBound() {
        let tight = LifecyclePolicy(maxStatusFailures: 4)
        var job = JobLifecycle(state: .running, hasImages: false, policy: tight, task: TaskFacts(taskID: "t1", submittedAt: t0))
        for _ in 1...3 {
            let effects = job.handle(.statusFailed(.transient, message: "HTTP 500"), now: t0)
            #expect(commits(effects).first?.to == .running)
        }
        // An answer resets the run of failures.
        _ = job.handle(.statusSeen(RemoteTask(id: "t1", status: .running(progress: 10))), now: t0)
        #expect(job.counters.statusFailures == 0)
        for _ in 1...3 { _ = job.handle(.statusFailed(.transient, message: "HTTP 500"), now: t0) }
        let last = job.handle(.statusFailed(.transient, message: "HTTP 500"), now: t0)
        #expect(commits(last).first?.to == .failed)
        #expect(commits(last).first?.failure?.message.contains("t1") == true, "the task id is kept for a person")
    }

    @Test func accountProblemsPauseTheQueueInsteadOfFailingJobs() {
        var job = JobLifecycle(state: .submitting, hasImages: false, policy: policy)
        let effects = job.handle(.createRefused(.quota, message: "insufficient balance"), now: t0)
        #expect(effects.contains(.pauseQueue(.quota, message: "insufficient balance")))
        #expect(commits(effects).first?.to == .ready)
        #expect(job.counters.createFailures == 0)
    }

    // MARK: Holds, cancels

    @Test func aHeldJobKeepsItsPlaceAndGoesOnWhenItsTimeComes() {
        var job = JobLifecycle(state: .ready, hasImages: false, policy: policy)
        let held = job.handle(.gateClosed(.budget, reason: "daily budget reached", until: t0.addingTimeInterval(600)), now: t0)
        #expect(commits(held).first?.to == .held)
        #expect(commits(held).first?.failure == JobLifecycle.Failure(category: "budget", message: "daily budget reached"))
        #expect(job.handle(.due, now: t0.addingTimeInterval(599)).isEmpty)
        #expect(commits(job.handle(.due, now: t0.addingTimeInterval(600))).first?.to == .ready)
    }

    @Test func aHoldUntilToldWaitsForTheGateToOpen() {
        var job = JobLifecycle(state: .ready, hasImages: false, policy: policy)
        _ = job.handle(.gateClosed(.budget, reason: "its cost is more than the whole cap", until: nil), now: t0)
        #expect(job.handle(.due, now: t0.addingTimeInterval(86400 * 30)).isEmpty, "no time ends it")
        let opened = job.handle(.gateOpened, now: t0)
        #expect(commits(opened).first?.to == .ready)
        #expect(job.failure == nil && job.notBefore == nil)
    }

    // MARK: Spend: one reservation per create call, released only when nothing can be billed

    func spend(_ effects: [JobLifecycle.Effect]) -> [JobLifecycle.SpendChange?] { commits(effects).map(\.spend) }

    @Test func leavingTheQueueReservesAndASucceededTaskSettlesAtTheBilledTokens() {
        var job = JobLifecycle(state: .ready, hasImages: true, policy: policy)
        #expect(spend(job.handle(.inputsVerified, now: t0)) == [.reserve])
        #expect(spend(job.handle(.uploaded, now: t0)) == [nil], "one reservation for the whole job, made before the upload")
        _ = job.handle(.created(taskID: "t1"), now: t0)
        var remote = RemoteTask(id: "t1", status: .succeeded(videoURL: "http://v", expiresAt: nil))
        remote.completionTokens = 108_900
        #expect(spend(job.handle(.statusSeen(remote), now: t0)) == [.settle(tokens: 108_900)])
    }

    @Test func aReservationIsReleasedOnlyWhenNothingCanHaveBeenBilled() {
        // Refused create calls, retried or failed: nothing was created.
        for category in [APIErrorCategory.transient, .rateLimited(retryAfter: 3), .quota, .invalidRequest] {
            var job = JobLifecycle(state: .submitting, hasImages: false, policy: policy)
            #expect(spend(job.handle(.createRefused(category, message: "no"), now: t0)) == [.release], "\(category)")
        }
        // A task the provider failed is not billed, whether it is tried again or the job fails.
        var failing = JobLifecycle(state: .running, hasImages: false, policy: policy, task: TaskFacts(taskID: "t", submittedAt: t0))
        #expect(spend(failing.handle(.statusSeen(RemoteTask(id: "t", status: .failed(category: .transient, message: "x"))), now: t0)) == [.release])
        var refused = JobLifecycle(state: .running, hasImages: false, policy: policy, task: TaskFacts(taskID: "t", submittedAt: t0))
        #expect(spend(refused.handle(.statusSeen(RemoteTask(id: "t", status: .failed(category: .moderation, message: "x"))), now: t0)) == [.release])
        // An uncertain call keeps its reservation; a search that finds no task releases it before sending again.
        var uncertain = JobLifecycle(state: .submitting, hasImages: false, policy: policy)
        #expect(spend(uncertain.handle(.createOutcomeUnknown(message: "502"), now: t0)) == [nil])
        var searched = JobLifecycle(state: .uncertain, hasImages: false, policy: LifecyclePolicy(canSearchLostTasks: true, lostTaskSearches: 1))
        #expect(spend(searched.handle(.lookedUp(.notFound), now: t0)) == [.release])
        // A person sending an uncertain job again: the first call may have been billed, so it counts as spent.
        var retried = JobLifecycle(state: .uncertain, hasImages: false, policy: policy)
        #expect(spend(retried.handle(.operatorRetry, now: t0)) == [.settle(tokens: nil)])
        // Status calls that give up leave a task that may still finish: still reserved.
        var lost = JobLifecycle(state: .running, hasImages: false, policy: LifecyclePolicy(maxStatusFailures: 1), task: TaskFacts(taskID: "t", submittedAt: t0))
        #expect(spend(lost.handle(.statusFailed(.transient, message: "502"), now: t0)) == [nil])
        // Cancelled before the create call: released; after it: kept.
        var queued = JobLifecycle(state: .uploading, hasImages: true, policy: policy)
        #expect(spend(queued.handle(.operatorCancel, now: t0)) == [.release])
        var submitted = JobLifecycle(state: .submitted, hasImages: false, policy: policy, task: TaskFacts(taskID: "t", submittedAt: t0))
        #expect(spend(submitted.handle(.operatorCancel, now: t0)) == [nil])
    }

    @Test func aTaskCreatedAfterACancelIsCancelledAtTheProvider() {
        var job = JobLifecycle(state: .cancelled, hasImages: false, policy: policy)
        let effects = job.handle(.created(taskID: "cgt-9"), now: t0)
        #expect(effects.contains(.cancelRemoteTask))
        #expect(commits(effects).isEmpty)
    }

    @Test func cancellingATaskInFlightCancelsItRemotelyAndFilesTheInputs() {
        var job = JobLifecycle(state: .running, hasImages: false, policy: policy, task: TaskFacts(taskID: "t1", submittedAt: t0))
        let effects = job.handle(.operatorCancel, now: t0)
        #expect(commits(effects).first?.to == .cancelled)
        #expect(effects.contains(.cancelRemoteTask))
        #expect(effects.contains(.moveInputs(.failed)))
    }

    @Test func staleNewsChangesNothing() {
        var job = JobLifecycle(state: .done, hasImages: false, policy: policy)
        #expect(job.handle(.statusSeen(RemoteTask(id: "t", status: .queued)), now: t0).isEmpty)
        #expect(job.handle(.created(taskID: "t"), now: t0).isEmpty)
        #expect(job.state == .done)
    }

    /// Found by the chaos run: `nil` for a `Date??` parameter meant "unchanged", so a job left for a person was
    /// searched again forever and a job sent again kept its old "uncertain" failure.
    @Test func clearingBackoffAndFailureReallyClearsThem() {
        let ark = LifecyclePolicy(canSearchLostTasks: true, lostTaskSearches: 1, lostTaskSearchDelay: 30)
        var job = JobLifecycle(state: .submitting, hasImages: false, policy: ark)
        _ = job.handle(.createOutcomeUnknown(message: "reset"), now: t0)
        #expect(job.notBefore != nil && job.failure?.category == "uncertain")
        var ambiguous = job
        let left = ambiguous.handle(.lookedUp(.ambiguous(["a", "b"])), now: t0)
        #expect(commits(left).first?.notBefore == nil, "no more searches: a person decides")
        let resent = job.handle(.lookedUp(.notFound), now: t0)
        #expect(commits(resent).first?.to == .ready)
        #expect(commits(resent).first?.failure == nil && commits(resent).first?.notBefore == nil)
    }

    /// Found by the chaos money run: a stalled create carried out after two empty searches was billed, and the job
    /// was sent again. A job is sent again only once a late call can no longer be carried out.
    @Test func anEmptyTaskListDoesNotResendBeforeALateCallCouldStillArrive() {
        let ark = LifecyclePolicy(canSearchLostTasks: true, lostTaskSearches: 2, lostTaskSearchDelay: 1, lostTaskResendAfter: 60)
        var job = JobLifecycle(state: .submitting, hasImages: false, policy: ark)
        _ = job.handle(.createOutcomeUnknown(message: "timeout"), now: t0.addingTimeInterval(2))
        _ = job.handle(.lookedUp(.notFound, callStarted: t0), now: t0.addingTimeInterval(3))
        let early = job.handle(.lookedUp(.notFound, callStarted: t0), now: t0.addingTimeInterval(4))
        #expect(commits(early).first?.to == .uncertain)
        #expect(commits(early).first?.notBefore == t0.addingTimeInterval(60))
        let late = job.handle(.lookedUp(.notFound, callStarted: t0), now: t0.addingTimeInterval(60))
        #expect(commits(late).first?.to == .ready)
    }
}
