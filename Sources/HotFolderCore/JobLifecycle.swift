// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// The rules of a job's life in one place (DESIGN §4, §7): what each event means in each state and what must
/// be done about it. A pure value: ``handle(_:now:jitter:)`` returns effects, the runner performs them in order
/// and decides nothing. The clock and the random jitter are passed in, so every path is tested without I/O.
///
/// The money rules, top to bottom:
/// - Every state is committed before the side effect it allows (write-ahead): `submitting` before the create
///   call, the task id as soon as it returns, the inputs' destination before they move.
/// - A create call is repeated only when it provably created nothing (the API refused it, or it never reached
///   the API). Any other failure makes the job `uncertain`: searched for in the provider's task list where there
///   is one, otherwise left to a person. Never a silent second create.
/// - A finished task's video is fetched until its link expires (bounded backoff, its own counter); an expired
///   link is asked for again once; only then does the job fail as `expired`.
/// - A task the provider failed for no known reason is tried again as a new task at most
///   ``LifecyclePolicy/maxTaskFailures`` times; moderation and invalid requests fail at once.
/// - Refused keys and empty balances pause the whole queue instead of failing jobs.
/// - Inputs that changed after planning are never sent, archived or deleted: they make a new job.
public struct JobLifecycle: Sendable, Hashable {
    /// Where the job is.
    public private(set) var state: JobState
    /// Failures per step.
    public private(set) var counters: JobCounters
    /// Not before this time: a retry's backoff, a hold, the next search for a lost task.
    public private(set) var notBefore: Date?
    /// The active task, once there is one.
    public private(set) var task: TaskFacts?
    /// Why the job failed, waits or is uncertain.
    public private(set) var failure: Failure?
    /// Inputs still to be moved away after a commit (a crash between the two is finished at the next start).
    public private(set) var pendingDisposal: InputDisposal?
    /// Whether the job has images to prepare before the create call.
    public let hasImages: Bool
    /// Limits and timings.
    public let policy: LifecyclePolicy

    /// A job as stored: its state, counters and active task.
    public init(
        state: JobState, hasImages: Bool, policy: LifecyclePolicy, counters: JobCounters = JobCounters(),
        notBefore: Date? = nil, task: TaskFacts? = nil, failure: Failure? = nil, pendingDisposal: InputDisposal? = nil
    ) {
        self.state = state
        self.hasImages = hasImages
        self.policy = policy
        self.counters = counters
        self.notBefore = notBefore
        self.task = task
        self.failure = failure
        self.pendingDisposal = pendingDisposal
    }

    /// Applies `event` at `now` and returns what to do, in order. `jitter` (0…1) spreads retries of many jobs.
    public mutating func handle(_ event: Event, now: Date, jitter: Double = 1) -> [Effect] {
        switch (event, state) {
        // MARK: Queue → task
        case (.picked, .ready):
            return [.verifyInputs]
        case (.inputsVerified, .ready):
            return hasImages
                ? [commit(to: .uploading, "uploading the images"), .upload]
                : [commit(to: .submitting, "creating the task"), .create]
        case (.inputsChanged(let paths), .ready), (.inputsChanged(let paths), .uploading):
            let message = "\(paths.joined(separator: ", ")) changed after the job was planned; the new content is planned as a new job and nothing was sent for this one"
            return [
                commit(to: .cancelled, message, failure: Failure(category: "changed", message: message), disposal: .release),
                .moveInputs(.release), .replan, .log(message), .notify(.cancelled),
            ]
        case (.uploaded, .uploading):
            return [commit(to: .submitting, "creating the task"), .create]
        case (.uploadFailed(let category, let message), .uploading):
            return stepFailed(category, message, counter: \.uploadFailures, step: "uploading an image", now: now, jitter: jitter)
        case (.created(let taskID), .submitting), (.created(let taskID), .uncertain):
            return created(taskID, now: now)
        case (.created(let taskID), .cancelled):
            // Cancelled by an operator while the call was under way: the task exists and may be billed.
            return [
                .log("task \(taskID) was created after the job was cancelled; asking the provider to cancel it"),
                .cancelRemoteTask,
            ]
        case (.createRefused(let category, let message), .submitting):
            return stepFailed(category, message, counter: \.createFailures, step: "creating the task", now: now, jitter: jitter)
        case (.createOutcomeUnknown(let message), .submitting):
            return becomeUncertain(message, now: now)

        // MARK: Uncertain create calls
        case (.lookedUp(let search), .uncertain):
            return lookedUp(search, now: now)
        case (.due, .uncertain):
            guard policy.canSearchLostTasks, let due = notBefore, due <= now else { return [] }
            return [.searchLostTask]
        case (.operatorRetry, .uncertain):
            return [
                commit(to: .ready, "sent again by an operator (its first create call may also have been billed)", notBefore: nil),
                .notify(.retrying),
            ]

        // MARK: Task → video
        case (.due, .submitted), (.due, .running):
            return [.askStatus]
        case (.due, .downloading):
            return dueForDownload(now: now)
        case (.statusSeen(let remote), .submitted), (.statusSeen(let remote), .running),
            (.statusSeen(let remote), .downloading):
            return statusSeen(remote, now: now)
        case (.statusFailed(let category, let message), .submitted), (.statusFailed(let category, let message), .running),
            (.statusFailed(let category, let message), .downloading):
            return statusFailed(category, message, now: now, jitter: jitter)
        case (.downloaded, .downloading):
            return [.writeOutbox]
        case (.downloadFailed(let category, let message, let diskFull), .downloading):
            return downloadFailed(category, message, diskFull: diskFull, now: now, jitter: jitter)
        case (.outboxWritten, .downloading):
            return [
                commit(to: .done, "the video, its metadata and log are in the outbox", failure: nil, disposal: .archive),
                .moveInputs(.archive), .notify(.done),
            ]
        case (.outboxFailed(let message), .downloading):
            // The video is kept where it is; only the metadata is written again.
            return [
                .log("cannot finish (\(message)); trying again in \(Int(policy.diskFullDelay)) s"),
                .schedule(at: now.addingTimeInterval(policy.diskFullDelay)),
            ]

        // MARK: Holds (budgets, time windows)
        case (.gateClosed(let reason, let until), .ready):
            return [
                commit(to: .held, reason, notBefore: until, failure: Failure(category: "held", message: reason)),
                .notify(.held(reason: reason)),
            ]
        case (.gateOpened, .held):
            return [commit(to: .ready, "no longer held", notBefore: nil, failure: nil)]
        case (.due, .held):
            guard let until = notBefore, until <= now else { return [] }
            return [commit(to: .ready, "no longer held", notBefore: nil, failure: nil)]

        // MARK: Operators, restarts, local trouble
        case (.operatorCancel, let current) where !current.isTerminal:
            let failure = Failure(category: "cancelled", message: "an operator cancelled it")
            var effects = [commit(to: .cancelled, "cancelled by an operator", failure: failure, disposal: .failed)]
            if current.isInFlight || current == .uncertain || current == .submitting { effects.append(.cancelRemoteTask) }
            return effects + [.moveInputs(.failed), .notify(.cancelled)]
        case (.recovered, _):
            return recovered(now: now)
        case (.brokenLocally(let message), let current) where !current.isTerminal:
            return fail("internal", message)

        default:
            // Anything else is stale news (another process moved the job) or a question for another state.
            return []
        }
    }

    // MARK: - Steps

    private mutating func created(_ taskID: String, now: Date) -> [Effect] {
        let from = state
        state = .submitted
        task = TaskFacts(taskID: taskID, submittedAt: now)
        notBefore = nil
        counters.statusFailures = 0
        var effects: [Effect] = [.recordTask(taskID: taskID, from: from, firstPoll: now.addingTimeInterval(policy.firstPollDelay))]
        if from == .uncertain {
            failure = nil
            effects.append(.log("found task \(taskID) in the provider's task list: its create call did succeed"))
            effects.append(.notify(.resolved(taskID: taskID)))
        } else {
            effects.append(.accountWorks)
            effects.append(.notify(.submitted(taskID: taskID)))
        }
        return effects
    }

    /// An upload or create call failed with nothing created: retry, pause the queue, or fail the job.
    private mutating func stepFailed(
        _ category: APIErrorCategory, _ message: String, counter: WritableKeyPath<JobCounters, Int>, step: String,
        now: Date, jitter: Double
    ) -> [Effect] {
        switch category {
        case .auth, .quota:
            return [
                commit(to: .ready, "waiting: \(message)", notBefore: nil),
                .pauseQueue(category, message: message),
            ]
        case .rateLimited(let retryAfter):
            let wait = max(retryAfter ?? 0, policy.retry.ceiling(afterAttempts: 1).seconds * max(0.5, jitter))
            return [
                .slowQueue(seconds: wait),
                commit(to: .ready, "rate limited while \(step); trying again in \(Int(wait.rounded())) s", notBefore: now.addingTimeInterval(wait)),
            ]
        case .transient:
            counters[keyPath: counter] += 1
            let attempts = counters[keyPath: counter]
            guard let delay = policy.retry.delay(afterAttempts: attempts, random: { jitter }) else {
                return fail(category.name, "\(message) (gave up after \(attempts) attempts at \(step))")
            }
            let wait = max(1, delay.seconds)
            return [
                commit(to: .ready, "retrying in \(Int(wait.rounded())) s: \(message)", notBefore: now.addingTimeInterval(wait)),
                .log("\(step) failed, retrying in \(Int(wait.rounded())) s: \(message)"), .notify(.retrying),
            ]
        case .invalidRequest, .moderation, .expired:
            return fail(category.name, message)
        }
    }

    private mutating func becomeUncertain(_ reason: String, now: Date) -> [Effect] {
        let message = "the create call's outcome is unknown (\(reason)): a task may exist and be billed"
        var effects: [Effect] = []
        if policy.resubmitUncertain {
            effects.append(commit(to: .uncertain, message, failure: Failure(category: "uncertain", message: message)))
            effects.append(commit(to: .ready, "sent again (resubmit_uncertain: true; a second charge is possible)", notBefore: nil, failure: nil))
            return effects + [.log(message), .notify(.uncertain)]
        }
        let search = policy.canSearchLostTasks ? now.addingTimeInterval(policy.lostTaskSearchDelay) : nil
        let shown = policy.canSearchLostTasks
            ? message + "; looking for it in the provider's task list"
            : message + "; check the provider's dashboard for a task made at that time, then `hotfolder retry --uncertain` only if there is none"
        return [
            commit(to: .uncertain, shown, notBefore: search, failure: Failure(category: "uncertain", message: shown)),
            .log(shown), .notify(.uncertain),
        ]
    }

    private mutating func lookedUp(_ search: LostTaskSearch, now: Date) -> [Effect] {
        switch search {
        case .found(let taskID):
            return created(taskID, now: now)
        case .notFound:
            counters.lostTaskSearches += 1
            if counters.lostTaskSearches >= policy.lostTaskSearches {
                let message = "no task was made by its create call (the provider's task list has none after \(counters.lostTaskSearches) searches); sending it again"
                return [commit(to: .ready, message, notBefore: nil, failure: nil), .log(message), .notify(.retrying)]
            }
            return [commit(to: .uncertain, "no matching task in the provider's list yet; looking again", notBefore: now.addingTimeInterval(policy.lostTaskSearchDelay))]
        case .ambiguous(let ids):
            let message = "several tasks in the provider's list could be this job's (\(ids.joined(separator: ", "))); check which one, then `hotfolder retry` or `cancel` it"
            return [commit(to: .uncertain, message, notBefore: nil, failure: Failure(category: "uncertain", message: message)), .log(message)]
        case .unsupported:
            return [commit(to: .uncertain, "the provider has no task list to search; a person must check", notBefore: nil)]
        case .failed(let reason):
            counters.lostTaskSearches += 1
            guard counters.lostTaskSearches < policy.lostTaskSearches + 3 else {
                let message = "the provider's task list could not be searched (\(reason)); a person must check"
                return [commit(to: .uncertain, message, notBefore: nil, failure: Failure(category: "uncertain", message: message)), .log(message)]
            }
            return [commit(to: .uncertain, "searching the task list failed (\(reason)); trying again", notBefore: now.addingTimeInterval(policy.lostTaskSearchDelay))]
        }
    }

    private mutating func statusSeen(_ remote: RemoteTask, now: Date) -> [Effect] {
        let hadFailures = counters.statusFailures > 0
        counters.statusFailures = 0
        task?.pollCount += 1
        switch remote.status {
        case .queued, .running:
            let next = now.addingTimeInterval(nextPollDelay(remote, now: now))
            if case .running = remote.status, state == .submitted {
                return [commit(to: .running, "the task is running", nextPoll: next)]
            }
            return hadFailures ? [commit(to: state, "", nextPoll: next)] : [.schedule(at: next)]
        case .succeeded(let url, let expiresAt):
            let link = VideoLink(url: url, expiresAt: expiresAt ?? now.addingTimeInterval(policy.defaultLinkLifetime))
            task?.videoURL = link.url
            task?.expiresAt = link.expiresAt
            return [commit(to: .downloading, "the video is ready", nextPoll: now, video: link), .download]
        case .failed(let category, let message):
            return taskFailed(category, message, now: now)
        case .cancelled:
            let failure = Failure(category: "cancelled", message: "the task was cancelled at the provider")
            return [commit(to: .cancelled, failure.message, failure: failure, disposal: .failed), .moveInputs(.failed), .notify(.cancelled)]
        case .expired:
            return fail("expired", "the task expired at the provider before its video could be fetched")
        }
    }

    /// A task ran and failed on the provider's side.
    private mutating func taskFailed(_ category: APIErrorCategory, _ message: String, now: Date) -> [Effect] {
        switch category {
        case .moderation, .invalidRequest, .expired:
            return fail(category.name, message)
        case .auth, .quota:
            // The account, not the job: a new task once the queue works again (failed tasks are not billed).
            return [
                commit(to: .ready, "the task failed (\(message)); waiting for the account", notBefore: nil),
                .pauseQueue(category, message: message),
            ]
        case .transient, .rateLimited:
            counters.taskFailures += 1
            guard counters.taskFailures < policy.maxTaskFailures else {
                return fail("provider", "the provider failed the task \(counters.taskFailures) times: \(message)")
            }
            let wait = max(1, policy.retry.ceiling(afterAttempts: counters.taskFailures).seconds)
            return [
                commit(to: .ready, "the task failed (\(message)); a new task in \(Int(wait.rounded())) s (\(counters.taskFailures) of \(policy.maxTaskFailures) failures)", notBefore: now.addingTimeInterval(wait)),
                .notify(.retrying),
            ]
        }
    }

    private mutating func statusFailed(_ category: APIErrorCategory, _ message: String, now: Date, jitter: Double) -> [Effect] {
        switch category {
        case .rateLimited(let retryAfter):
            let wait = max(1, retryAfter ?? 5)
            return [.slowQueue(seconds: wait), .schedule(at: now.addingTimeInterval(wait))]
        case .auth, .quota:
            return [.pauseQueue(category, message: message), .schedule(at: now.addingTimeInterval(policy.pauseProbeInterval))]
        case .invalidRequest, .expired:
            // The provider no longer knows the task: its id is kept in the error file.
            return fail(category.name, "\(message) (task \(task?.taskID ?? "?"))")
        case .transient, .moderation:
            counters.statusFailures += 1
            guard counters.statusFailures < policy.maxStatusFailures else {
                return fail("transient", "the task's status could not be read \(counters.statusFailures) times in a row (\(message)); task \(task?.taskID ?? "?") may still finish at the provider")
            }
            let ceiling = policy.retry.ceiling(afterAttempts: min(counters.statusFailures, 8)).seconds
            let wait = max(policy.pollMinInterval, ceiling * (0.5 + jitter / 2))
            return [commit(to: state, "", nextPoll: now.addingTimeInterval(wait))]
        }
    }

    private mutating func dueForDownload(now: Date) -> [Effect] {
        guard let task, task.videoURL != nil else { return [.askStatus] }
        if let expiresAt = task.expiresAt, expiresAt <= now {
            return linkExpired("the video's download link expired at \(expiresAt.formatted(.iso8601))", now: now)
        }
        return [.download]
    }

    private mutating func downloadFailed(
        _ category: APIErrorCategory, _ message: String, diskFull: Bool, now: Date, jitter: Double
    ) -> [Effect] {
        if diskFull {
            return [
                .log("the disk is full; the download waits \(Int(policy.diskFullDelay)) s: \(message)"),
                .schedule(at: now.addingTimeInterval(policy.diskFullDelay)),
            ]
        }
        if case .expired = category { return linkExpired(message, now: now) }
        counters.downloadFailures += 1
        let deadline = task?.expiresAt ?? now.addingTimeInterval(policy.defaultLinkLifetime)
        guard deadline > now else { return linkExpired(message, now: now) }
        let ceiling = policy.retry.ceiling(afterAttempts: min(counters.downloadFailures, 16)).seconds
        let wait = min(policy.maxDownloadDelay, max(1, ceiling * (0.5 + jitter / 2)))
        let next = min(now.addingTimeInterval(wait), deadline)
        return [
            commit(to: .downloading, "", nextPoll: next),
            .log("download \(counters.downloadFailures) failed, trying again in \(Int(next.timeIntervalSince(now).rounded())) s (the link works until \(deadline.formatted(.iso8601))): \(message)"),
        ]
    }

    /// The link stopped working: ask for the task once more (some providers sign a new link), then give up.
    private mutating func linkExpired(_ message: String, now: Date) -> [Effect] {
        guard counters.linkRefreshes < 1 else {
            return fail("expired", "\(message) (task \(task?.taskID ?? "?"); the provider gave no working link again)")
        }
        counters.linkRefreshes += 1
        task?.videoURL = nil
        return [commit(to: .downloading, "the video's link stopped working; asking the provider for it again", nextPoll: now, forgetVideoURL: true), .askStatus]
    }

    private mutating func recovered(now: Date) -> [Effect] {
        if let disposal = pendingDisposal { return [.moveInputs(disposal)] }
        switch state {
        case .uploading:
            return [commit(to: .ready, "restarted before the create call; preparing the images again", notBefore: nil)]
        case .submitting:
            return becomeUncertain("the service stopped during the call", now: now)
        default:
            return []
        }
    }

    /// Fails the job: its inputs go to `failed/` with an error file.
    private mutating func fail(_ category: String, _ message: String) -> [Effect] {
        let failure = Failure(category: category, message: message)
        return [
            commit(to: .failed, message, notBefore: nil, failure: failure, disposal: .failed),
            .log("failed (\(category)): \(message)"), .moveInputs(.failed), .notify(.failed(category: category)),
        ]
    }

    /// Seconds until the next status call: soon at first, then less often, guided by the provider's estimate.
    private func nextPollDelay(_ remote: RemoteTask, now: Date) -> Double {
        let pollCount = task?.pollCount ?? 1
        var progress: Int?
        if case .running(let value) = remote.status { progress = value }
        return PollSchedule.nextDelay(
            pollCount: pollCount, progress: progress, estimatedTime: remote.estimatedSeconds.map(Double.init),
            elapsed: task.map { now.timeIntervalSince($0.submittedAt) } ?? 0,
            minimum: policy.pollMinInterval, maximum: policy.pollMaxInterval)
    }

    /// Applies a change to this value and returns the commit that writes it.
    private mutating func commit(
        to next: JobState, _ message: String, notBefore newNotBefore: Date?? = .none, failure newFailure: Failure?? = .none,
        nextPoll: Date? = nil, forgetVideoURL: Bool = false, video: VideoLink? = nil, disposal: InputDisposal? = nil
    ) -> Effect {
        let from = state
        state = next
        if let newNotBefore { notBefore = newNotBefore } else if next != from { notBefore = nil }
        if let newFailure { failure = newFailure }
        pendingDisposal = disposal
        return .commit(
            Commit(
                from: from, to: next, message: message, counters: counters, notBefore: notBefore, failure: failure,
                nextPoll: nextPoll, forgetVideoURL: forgetVideoURL, video: video, disposal: disposal))
    }
}

extension Duration {
    /// Seconds as a Double.
    var seconds: Double { secondsValue }
}
