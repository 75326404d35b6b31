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
    public internal(set) var state: JobState
    /// Failures per step.
    public internal(set) var counters: JobCounters
    /// Not before this time: a retry's backoff, a hold, the next search for a lost task.
    public internal(set) var notBefore: Date?
    /// The active task, once there is one.
    public internal(set) var task: TaskFacts?
    /// Why the job failed, waits or is uncertain.
    public internal(set) var failure: Failure?
    /// Inputs still to be moved away after a commit (a crash between the two is finished at the next start).
    public internal(set) var pendingDisposal: InputDisposal?
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
            // Leaving the queue reserves the job's estimated cost: a commit a budget cap refuses holds the job instead.
            return hasImages
                ? [commit(to: .uploading, "uploading the images", spend: .reserve), .upload]
                : [commit(to: .submitting, "creating the task", spend: .reserve), .create]
        case (.inputsChanged(let paths), .ready), (.inputsChanged(let paths), .uploading):
            let message = "\(paths.joined(separator: ", ")) changed after the job was planned; the new content is planned as a new job and nothing was sent for this one"
            return [
                commit(to: .cancelled, message, failure: Failure(category: "changed", message: message), disposal: .release, spend: .release),
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
        case (.lookedUp(let search, let callStarted), .uncertain):
            return lookedUp(search, callStarted: callStarted, now: now)
        case (.due, .uncertain):
            guard policy.canSearchLostTasks, let due = notBefore, due <= now else { return [] }
            return [.searchLostTask]
        case (.operatorRetry, .uncertain):
            return [
                // The first call may have been billed: its reservation counts as spent.
                commit(
                    to: .ready, "sent again by an operator (its first create call may also have been billed)", notBefore: .some(nil),
                    failure: .some(nil), spend: .settle(tokens: nil)),
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
                commit(to: .done, "the video, its metadata and log are in the outbox", failure: .some(nil), disposal: .archive),
                .moveInputs(.archive), .notify(.done),
            ]
        case (.outboxFailed(let message), .downloading):
            // The video is kept where it is; only the metadata is written again.
            return [
                .log("cannot finish (\(message)); trying again in \(Int(policy.diskFullDelay)) s"),
                .schedule(at: now.addingTimeInterval(policy.diskFullDelay)),
            ]

        // MARK: Holds (budgets, time windows)
        case (.gateClosed(let kind, let reason, let until), .ready):
            // It keeps its place (priority and age); it is never failed for a budget or a window.
            return [
                commit(to: .held, reason, notBefore: .some(until), failure: Failure(category: kind.rawValue, message: reason)),
                .notify(.held(reason: reason)),
            ]
        case (.gateOpened, .held):
            return [commit(to: .ready, "no longer held", notBefore: .some(nil), failure: .some(nil))]
        case (.due, .held):
            guard let until = notBefore, until <= now else { return [] }
            return [commit(to: .ready, "no longer held", notBefore: .some(nil), failure: .some(nil))]

        // MARK: Operators, restarts, local trouble
        case (.operatorCancel, let current) where !current.isTerminal:
            let failure = Failure(category: "cancelled", message: "an operator cancelled it")
            // Before the create call nothing can be billed; after it, a task may exist.
            let nothingSent = current == .ready || current == .uploading || current == .held
            var effects = [
                commit(to: .cancelled, "cancelled by an operator", failure: failure, disposal: .failed, spend: nothingSent ? .release : nil)
            ]
            if current.isInFlight || current == .uncertain || current == .submitting { effects.append(.cancelRemoteTask) }
            return effects + [.moveInputs(.failed), .notify(.cancelled)]
        case (.recovered, _):
            return recovered(now: now)
        case (.brokenLocally(let message), let current) where !current.isTerminal:
            return fail("internal", message, billed: !(current == .ready || current == .uploading || current == .held))

        default:
            // Anything else is stale news (another process moved the job) or a question for another state.
            return []
        }
    }
}

extension Duration {
    /// Seconds as a Double.
    var seconds: Double { secondsValue }
}
