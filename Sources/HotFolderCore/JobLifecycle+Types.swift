// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

extension JobLifecycle {
    /// Something that happened to a job: told to ``JobLifecycle/handle(_:now:jitter:)`` by the runner.
    public enum Event: Sendable, Hashable {
        /// The dispatcher took the job from the queue.
        case picked
        /// Every input is still the file that was planned.
        case inputsVerified
        /// Before anything is sent, an input no longer is the file that was planned (paths).
        case inputsChanged([String])
        /// Every image was prepared (uploaded, or inlined on Ark).
        case uploaded
        /// Preparing an image failed.
        case uploadFailed(APIErrorCategory, message: String)
        /// The create call returned a task id.
        case created(taskID: String)
        /// The create call failed and provably created nothing (refused before or by the API).
        case createRefused(APIErrorCategory, message: String)
        /// The create call's outcome is unknown: a task may exist and be billed.
        case createOutcomeUnknown(message: String)
        /// A status call answered.
        case statusSeen(RemoteTask)
        /// A status call failed.
        case statusFailed(APIErrorCategory, message: String)
        /// The video is complete in its outbox place.
        case downloaded(bytes: Int64)
        /// The download failed; `diskFull` when the local disk is the cause.
        case downloadFailed(APIErrorCategory, message: String, diskFull: Bool)
        /// The metadata was written: the job can be called done.
        case outboxWritten
        /// Writing into the outbox failed (the download is kept and tried again).
        case outboxFailed(message: String)
        /// The provider's task list was searched for the task of an uncertain job.
        /// `callStarted`: when the create call began (a search that finds nothing says little until a late,
        /// stalled call can no longer be carried out).
        case lookedUp(LostTaskSearch, callStarted: Date? = nil)
        /// A budget or time window keeps the job from being submitted until `until` (nil: until told).
        case gateClosed(HoldKind, reason: String, until: Date?)
        /// The budget or window that held the job opened.
        case gateOpened
        /// An operator asked to run the job again (uncertain or cancelled).
        case operatorRetry
        /// An operator cancelled the job.
        case operatorCancel
        /// The service started and found the job in its stored state (after a stop or a crash).
        case recovered
        /// The job's scheduled time came: a status call or download is due, a hold ends, a search is due.
        case due
        /// Something local went wrong that no retry can fix (the job's stored description is unreadable, …).
        case brokenLocally(message: String)
    }

    /// What holds a job back: its category while `held`.
    public enum HoldKind: String, Sendable, Hashable, Codable {
        /// A spending cap (daily, monthly, a lane's).
        case budget
        /// Its time window is closed.
        case window
    }

    /// What a commit does to the job's reserved spend (see ``BudgetGate``): one reservation per create call.
    public enum SpendChange: Sendable, Hashable {
        /// Reserve the job's estimated cost, or refuse the commit when a cap would be crossed (the job is held).
        case reserve
        /// Nothing was or will be billed for the reservation (the call created nothing, the task failed).
        case release
        /// The task was billed: settle at the provider's figure (`tokens`) or, without one, the estimate.
        case settle(tokens: Int?)
    }

    /// What the provider's task list said about an uncertain job's create call.
    public enum LostTaskSearch: Sendable, Hashable {
        /// Exactly one task matches: it is the job's.
        case found(taskID: String)
        /// No task matches.
        case notFound
        /// Several tasks match; the ids, so a person can tell.
        case ambiguous([String])
        /// The provider has no task list (the gateway).
        case unsupported
        /// The search itself failed.
        case failed(message: String)
    }

    /// Something to do: returned by ``JobLifecycle/handle(_:now:jitter:)``, performed in order by the runner.
    ///
    /// When a ``commit(_:)`` fails (another process moved the job), the runner performs nothing after it.
    public enum Effect: Sendable, Hashable {
        /// Write the job's new state and counters in one transaction, before anything that follows.
        case commit(Commit)
        /// Check that every input is still the file that was planned (identity), then go on.
        case verifyInputs
        /// Prepare the job's images.
        case upload
        /// Make the create call.
        case create
        /// Record the task id and move the job to `submitted` (one transaction), polling first at `firstPoll`.
        case recordTask(taskID: String, from: JobState, firstPoll: Date)
        /// Ask for the task's status now.
        case askStatus
        /// Record the status call just made (if any) and set the task's next status call or download.
        case schedule(at: Date)
        /// Download the video into the job's outbox name.
        case download
        /// Write the metadata file next to the video.
        case writeOutbox
        /// Move the job's inputs away (inputs other live jobs share are copied, not moved).
        case moveInputs(InputDisposal)
        /// Ask the provider to cancel the task (where it can).
        case cancelRemoteTask
        /// Search the provider's task list for the task an uncertain create call may have made.
        case searchLostTask
        /// Plan the job's folder again (an input changed, so it is a new drop).
        case replan
        /// Stop submitting: the account is refused or empty.
        case pauseQueue(APIErrorCategory, message: String)
        /// Slow the whole queue down for `seconds` (after a 429).
        case slowQueue(seconds: Double)
        /// The API accepted a call: a pause ends.
        case accountWorks
        /// Append a line to the job's log.
        case log(String)
        /// Tell listeners (notifications, tests) what happened.
        case notify(Notice)
    }

    /// A state change with everything written with it.
    public struct Commit: Sendable, Hashable {
        /// The state the job must be in now (compare-and-set).
        public var from: JobState
        /// The new state (the same as `from` for a change of fields only).
        public var to: JobState
        /// Why, for the job's history.
        public var message: String
        /// The counters after the change.
        public var counters: JobCounters
        /// Not before this time (a retry's backoff, a hold); nil means now.
        public var notBefore: Date?
        /// For `failed`, `cancelled`, `uncertain` and `held`: the category and what happened.
        public var failure: Failure?
        /// The task's next status call or download, when the job has a task.
        public var nextPoll: Date?
        /// Forget the task's video URL (it expired; the next status call may give a fresh one).
        public var forgetVideoURL: Bool
        /// The video's link, written with the move to `downloading`.
        public var video: VideoLink?
        /// The inputs to move away after this commit, remembered until done so a crash cannot leave them held.
        public var disposal: InputDisposal?
        /// What happens to the job's reserved spend, in the same transaction.
        public var spend: SpendChange?

        /// Creates a commit.
        public init(
            from: JobState, to: JobState, message: String, counters: JobCounters, notBefore: Date? = nil,
            failure: Failure? = nil, nextPoll: Date? = nil, forgetVideoURL: Bool = false, video: VideoLink? = nil,
            disposal: InputDisposal? = nil, spend: SpendChange? = nil
        ) {
            self.spend = spend
            self.from = from
            self.to = to
            self.message = message
            self.counters = counters
            self.notBefore = notBefore
            self.failure = failure
            self.nextPoll = nextPoll
            self.forgetVideoURL = forgetVideoURL
            self.video = video
            self.disposal = disposal
        }
    }

    /// Why a job stopped or waits, kept with it.
    public struct Failure: Sendable, Hashable {
        /// A stable name: an ``APIErrorCategory`` name, `expired`, `changed`, `internal`, `cancelled`, `uncertain`, `held`.
        public var category: String
        /// What happened, in words.
        public var message: String

        /// Creates a failure.
        public init(category: String, message: String) {
            self.category = category
            self.message = message
        }
    }

    /// A finished task's video and how long its link works.
    public struct VideoLink: Sendable, Hashable {
        /// Where the video can be fetched.
        public var url: String
        /// When the link stops working, when the provider says.
        public var expiresAt: Date?

        /// Creates a link.
        public init(url: String, expiresAt: Date?) {
            self.url = url
            self.expiresAt = expiresAt
        }
    }

    /// Where a job's inputs go.
    public enum InputDisposal: String, Sendable, Hashable, Codable {
        /// To `failed/<lane>/<name>/` with an error file for the job's failure.
        case failed
        /// To `archive/` (or kept, or deleted) by the archive policy; only inputs unchanged since planning.
        case archive
        /// Nowhere: the job gives up its claim on them (they changed and make a new job).
        case release
    }

    /// What listeners are told.
    public enum Notice: Sendable, Hashable {
        case done
        case failed(category: String)
        case uncertain
        case resolved(taskID: String)
        case retrying
        case held(reason: String)
        case submitted(taskID: String)
        case cancelled
    }
}

/// How many times each step of a job has failed; each step has its own limit (``LifecyclePolicy``), so a long
/// task's status calls never use up its download retries.
public struct JobCounters: Sendable, Hashable, Codable {
    /// Failed image uploads.
    public var uploadFailures = 0
    /// Create calls refused with a retryable error (nothing was created).
    public var createFailures = 0
    /// Status calls that failed in a row (reset by an answer).
    public var statusFailures = 0
    /// Failed downloads of a finished task's video.
    public var downloadFailures = 0
    /// Tasks the provider ran and failed for an unknown cause (each one a new task).
    public var taskFailures = 0
    /// Times the video's link was asked for again after it stopped working.
    public var linkRefreshes = 0
    /// Searches of the provider's task list for an uncertain create call.
    public var lostTaskSearches = 0

    /// All zero.
    public init() {}

    /// Creates counters with the given values (the rest zero).
    public init(
        uploadFailures: Int = 0, createFailures: Int = 0, statusFailures: Int = 0, downloadFailures: Int = 0,
        taskFailures: Int = 0, linkRefreshes: Int = 0, lostTaskSearches: Int = 0
    ) {
        self.uploadFailures = uploadFailures
        self.createFailures = createFailures
        self.statusFailures = statusFailures
        self.downloadFailures = downloadFailures
        self.taskFailures = taskFailures
        self.linkRefreshes = linkRefreshes
        self.lostTaskSearches = lostTaskSearches
    }

    /// Failed attempts of the steps before a task exists (what `status` shows as attempts).
    public var attempts: Int { uploadFailures + createFailures + taskFailures }
}

/// The limits and timings the lifecycle applies; the service builds it from its configuration.
public struct LifecyclePolicy: Sendable, Hashable {
    /// Backoff of upload, create and status retries (its `maxAttempts` bounds uploads and creates).
    public var retry: RetryPolicy
    /// Tasks that failed on the provider's side for an unknown cause, before the job fails with its message.
    public var maxTaskFailures: Int
    /// Status calls failing in a row before the job fails (the task id is kept in the error file).
    public var maxStatusFailures: Int
    /// How long a result link lives when the provider does not say (the gateway's signed links last 24 h).
    public var defaultLinkLifetime: Double
    /// The longest wait between two download attempts.
    public var maxDownloadDelay: Double
    /// The wait after a full disk (not counted: the video is still there to fetch).
    public var diskFullDelay: Double
    /// First status call after the create call, in seconds.
    public var firstPollDelay: Double
    /// Shortest and longest time between status calls.
    public var pollMinInterval: Double
    public var pollMaxInterval: Double
    /// How long an account pause waits before a job probes the API again.
    public var pauseProbeInterval: Double
    /// Whether the provider can list its tasks, so an uncertain create call can be looked up.
    public var canSearchLostTasks: Bool
    /// Searches that find nothing before the job is sent again (Ark's list is authoritative for 7 days).
    public var lostTaskSearches: Int
    /// Seconds between two searches (a task may show in the list a little late).
    public var lostTaskSearchDelay: Double
    /// `resubmit_uncertain: true`: send an uncertain job again at once (may pay twice).
    public var resubmitUncertain: Bool
    /// Seconds after its create call began before a job that no search found is sent again: a provider may carry
    /// out a stalled call well after the client gave up, and that task is billed too.
    public var lostTaskResendAfter: Double

    /// Creates a policy with the service's defaults.
    public init(
        retry: RetryPolicy = RetryPolicy(), maxTaskFailures: Int = 3, maxStatusFailures: Int = 40,
        defaultLinkLifetime: Double = 24 * 3600, maxDownloadDelay: Double = 300, diskFullDelay: Double = 15,
        firstPollDelay: Double = 5, pollMinInterval: Double = 3, pollMaxInterval: Double = 30,
        pauseProbeInterval: Double = 60, canSearchLostTasks: Bool = false, lostTaskSearches: Int = 2,
        lostTaskSearchDelay: Double = 30, resubmitUncertain: Bool = false, lostTaskResendAfter: Double = 240
    ) {
        self.retry = retry
        self.maxTaskFailures = max(1, maxTaskFailures)
        self.maxStatusFailures = max(1, maxStatusFailures)
        self.defaultLinkLifetime = defaultLinkLifetime
        self.maxDownloadDelay = maxDownloadDelay
        self.diskFullDelay = diskFullDelay
        self.firstPollDelay = firstPollDelay
        self.pollMinInterval = pollMinInterval
        self.pollMaxInterval = max(pollMinInterval, pollMaxInterval)
        self.pauseProbeInterval = pauseProbeInterval
        self.canSearchLostTasks = canSearchLostTasks
        self.lostTaskSearches = max(1, lostTaskSearches)
        self.lostTaskSearchDelay = lostTaskSearchDelay
        self.resubmitUncertain = resubmitUncertain
        self.lostTaskResendAfter = lostTaskResendAfter
    }
}

/// What the lifecycle knows of a job's active task.
public struct TaskFacts: Sendable, Hashable {
    /// The provider's task id.
    public var taskID: String
    /// When the create call returned.
    public var submittedAt: Date
    /// Status calls made so far.
    public var pollCount: Int
    /// The video's link, once the task succeeded.
    public var videoURL: String?
    /// When that link stops working (the provider's word, or the default lifetime from when it was seen).
    public var expiresAt: Date?

    /// Creates facts.
    public init(
        taskID: String, submittedAt: Date, pollCount: Int = 0, videoURL: String? = nil, expiresAt: Date? = nil
    ) {
        self.taskID = taskID
        self.submittedAt = submittedAt
        self.pollCount = pollCount
        self.videoURL = videoURL
        self.expiresAt = expiresAt
    }
}
