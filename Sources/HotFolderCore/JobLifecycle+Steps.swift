// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// The steps ``JobLifecycle/handle(_:now:jitter:)`` takes: each changes the value and returns the effects.
extension JobLifecycle {
    mutating func created(_ taskID: String, now: Date) -> [Effect] {
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
    mutating func stepFailed(
        _ category: APIErrorCategory, _ message: String, counter: WritableKeyPath<JobCounters, Int>, step: String,
        now: Date, jitter: Double
    ) -> [Effect] {
        switch category {
        case .auth, .quota:
            return [
                commit(to: .ready, "waiting: \(message)", notBefore: .some(nil), spend: .release),
                .pauseQueue(category, message: message),
            ]
        case .rateLimited(let retryAfter):
            let wait = max(retryAfter ?? 0, policy.retry.ceiling(afterAttempts: 1).seconds * max(0.5, jitter))
            return [
                .slowQueue(seconds: wait),
                commit(
                    to: .ready, "rate limited while \(step); trying again in \(Int(wait.rounded())) s", notBefore: now.addingTimeInterval(wait),
                    spend: .release),
            ]
        case .transient:
            counters[keyPath: counter] += 1
            let attempts = counters[keyPath: counter]
            guard let delay = policy.retry.delay(afterAttempts: attempts, random: { jitter }) else {
                return fail(category.name, "\(message) (gave up after \(attempts) attempts at \(step))", billed: false)
            }
            let wait = max(1, delay.seconds)
            return [
                commit(to: .ready, "retrying in \(Int(wait.rounded())) s: \(message)", notBefore: now.addingTimeInterval(wait), spend: .release),
                .log("\(step) failed, retrying in \(Int(wait.rounded())) s: \(message)"), .notify(.retrying),
            ]
        case .invalidRequest, .moderation, .expired:
            return fail(category.name, message, billed: false)
        }
    }

    mutating func becomeUncertain(_ reason: String, now: Date) -> [Effect] {
        let message = "the create call's outcome is unknown (\(reason)): a task may exist and be billed"
        var effects: [Effect] = []
        if policy.resubmitUncertain {
            effects.append(commit(to: .uncertain, message, failure: Failure(category: "uncertain", message: message)))
            // The first call may have been billed: its reservation counts as spent.
            effects.append(commit(to: .ready, "sent again (resubmit_uncertain: true; a second charge is possible)", notBefore: .some(nil), failure: .some(nil), spend: .settle(tokens: nil)))
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

    mutating func lookedUp(_ search: LostTaskSearch, callStarted: Date?, now: Date) -> [Effect] {
        switch search {
        case .found(let taskID):
            return created(taskID, now: now)
        case .notFound:
            counters.lostTaskSearches += 1
            let lateEnough = callStarted.map { now >= $0.addingTimeInterval(policy.lostTaskResendAfter) } ?? true
            if counters.lostTaskSearches >= policy.lostTaskSearches, !lateEnough, let callStarted {
                // Enough searches, but a stalled call could still be carried out: one more search once it cannot.
                let last = callStarted.addingTimeInterval(policy.lostTaskResendAfter)
                return [commit(to: .uncertain, "no matching task in the provider's list yet; a last search at \(last.formatted(.iso8601))", notBefore: max(last, now.addingTimeInterval(policy.lostTaskSearchDelay)))]
            }
            if counters.lostTaskSearches >= policy.lostTaskSearches {
                let message = "no task was made by its create call (the provider's task list has none after \(counters.lostTaskSearches) searches); sending it again"
                return [commit(to: .ready, message, notBefore: .some(nil), failure: .some(nil), spend: .release), .log(message), .notify(.retrying)]
            }
            return [commit(to: .uncertain, "no matching task in the provider's list yet; looking again", notBefore: now.addingTimeInterval(policy.lostTaskSearchDelay))]
        case .ambiguous(let ids):
            let message = "several tasks in the provider's list could be this job's (\(ids.joined(separator: ", "))); check which one, then `hotfolder retry` or `cancel` it"
            return [commit(to: .uncertain, message, notBefore: .some(nil), failure: Failure(category: "uncertain", message: message)), .log(message)]
        case .unsupported:
            return [commit(to: .uncertain, "the provider has no task list to search; a person must check", notBefore: .some(nil))]
        case .failed(let reason):
            counters.lostTaskSearches += 1
            guard counters.lostTaskSearches < policy.lostTaskSearches + 3 else {
                let message = "the provider's task list could not be searched (\(reason)); a person must check"
                return [commit(to: .uncertain, message, notBefore: .some(nil), failure: Failure(category: "uncertain", message: message)), .log(message)]
            }
            return [commit(to: .uncertain, "searching the task list failed (\(reason)); trying again", notBefore: now.addingTimeInterval(policy.lostTaskSearchDelay))]
        }
    }

    mutating func statusSeen(_ remote: RemoteTask, now: Date) -> [Effect] {
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
            return [commit(to: .downloading, "the video is ready", nextPoll: now, video: link, spend: .settle(tokens: remote.completionTokens)), .download]
        case .failed(let category, let message):
            return taskFailed(category, message, now: now)
        case .cancelled:
            let failure = Failure(category: "cancelled", message: "the task was cancelled at the provider")
            return [
                commit(to: .cancelled, failure.message, failure: failure, disposal: .failed, spend: .release), .moveInputs(.failed),
                .notify(.cancelled),
            ]
        case .expired:
            return fail("expired", "the task expired at the provider before it ran", billed: false)
        }
    }

    /// A task ran and failed on the provider's side.
    mutating func taskFailed(_ category: APIErrorCategory, _ message: String, now: Date) -> [Effect] {
        switch category {
        case .moderation, .invalidRequest, .expired:
            return fail(category.name, message, billed: false)
        case .auth, .quota:
            // The account, not the job: a new task once the queue works again (failed tasks are not billed).
            return [
                commit(to: .ready, "the task failed (\(message)); waiting for the account", notBefore: .some(nil), spend: .release),
                .pauseQueue(category, message: message),
            ]
        case .transient, .rateLimited:
            counters.taskFailures += 1
            guard counters.taskFailures < policy.maxTaskFailures else {
                return fail("provider", "the provider failed the task \(counters.taskFailures) times: \(message)", billed: false)
            }
            let wait = max(1, policy.retry.ceiling(afterAttempts: counters.taskFailures).seconds)
            return [
                commit(
                    to: .ready, "the task failed (\(message)); a new task in \(Int(wait.rounded())) s (\(counters.taskFailures) of \(policy.maxTaskFailures) failures)",
                    notBefore: now.addingTimeInterval(wait), spend: .release),
                .notify(.retrying),
            ]
        }
    }

    mutating func statusFailed(_ category: APIErrorCategory, _ message: String, now: Date, jitter: Double) -> [Effect] {
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

    mutating func dueForDownload(now: Date) -> [Effect] {
        guard let task, task.videoURL != nil else { return [.askStatus] }
        if let expiresAt = task.expiresAt, expiresAt <= now {
            return linkExpired("the video's download link expired at \(expiresAt.formatted(.iso8601))", now: now)
        }
        return [.download]
    }

    mutating func downloadFailed(
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
    mutating func linkExpired(_ message: String, now: Date) -> [Effect] {
        guard counters.linkRefreshes < 1 else {
            return fail("expired", "\(message) (task \(task?.taskID ?? "?"); the provider gave no working link again)")
        }
        counters.linkRefreshes += 1
        task?.videoURL = nil
        return [commit(to: .downloading, "the video's link stopped working; asking the provider for it again", nextPoll: now, forgetVideoURL: true), .askStatus]
    }

    mutating func recovered(now: Date) -> [Effect] {
        if let disposal = pendingDisposal { return [.moveInputs(disposal)] }
        switch state {
        case .uploading:
            return [commit(to: .ready, "restarted before the create call; preparing the images again", notBefore: .some(nil), spend: .release)]
        case .submitting:
            return becomeUncertain("the service stopped during the call", now: now)
        default:
            return []
        }
    }

    /// Fails the job: its inputs go to `failed/` with an error file. `billed: false` when the provider provably
    /// charged nothing for its reservation (the call created nothing, the task failed); otherwise a reservation
    /// still open stays counted (a task that may still finish).
    mutating func fail(_ category: String, _ message: String, billed: Bool = true) -> [Effect] {
        let failure = Failure(category: category, message: message)
        return [
            commit(to: .failed, message, notBefore: .some(nil), failure: failure, disposal: .failed, spend: billed ? nil : .release),
            .log("failed (\(category)): \(message)"), .moveInputs(.failed), .notify(.failed(category: category)),
        ]
    }

    /// Seconds until the next status call: soon at first, then less often, guided by the provider's estimate.
    func nextPollDelay(_ remote: RemoteTask, now: Date) -> Double {
        let pollCount = task?.pollCount ?? 1
        var progress: Int?
        if case .running(let value) = remote.status { progress = value }
        return PollSchedule.nextDelay(
            pollCount: pollCount, progress: progress, estimatedTime: remote.estimatedSeconds.map(Double.init),
            elapsed: task.map { now.timeIntervalSince($0.submittedAt) } ?? 0,
            minimum: policy.pollMinInterval, maximum: policy.pollMaxInterval)
    }

    /// Applies a change to this value and returns the commit that writes it.
    mutating func commit(
        to next: JobState, _ message: String, notBefore newNotBefore: Date?? = .none, failure newFailure: Failure?? = .none,
        nextPoll: Date? = nil, forgetVideoURL: Bool = false, video: VideoLink? = nil, disposal: InputDisposal? = nil,
        spend: SpendChange? = nil
    ) -> Effect {
        let from = state
        state = next
        if let newNotBefore { notBefore = newNotBefore } else if next != from { notBefore = nil }
        if let newFailure { failure = newFailure }
        pendingDisposal = disposal
        return .commit(
            Commit(
                from: from, to: next, message: message, counters: counters, notBefore: notBefore, failure: failure,
                nextPoll: nextPoll, forgetVideoURL: forgetVideoURL, video: video, disposal: disposal, spend: spend))
    }
}
