// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

/// The running service's reads about jobs and tasks: recovery after a restart, the runner's timers, `status` and the
/// morning report.
public protocol JobQueries: Sendable {
    /// Jobs in `states`, oldest first, at most `limit` (nil: all).
    func listJobs(in states: Set<JobState>, limit: Int?) async throws -> [StoredJob]

    /// How many jobs are in each state (states with none are missing).
    func jobCounts() async throws -> [JobState: Int]

    /// The latest failed jobs, newest first.
    func latestFailures(limit: Int) async throws -> [StoredJob]

    /// Jobs named `query`, or whose id is `query` or starts with it (what `hotfolder retry` and `cancel` take), oldest first.
    func searchJobs(_ query: String) async throws -> [StoredJob]

    /// Jobs that reached a final state between `start` (included) and `end` (excluded), oldest first.
    func finishedJobs(from start: Date, to end: Date, limit: Int) async throws -> [StoredJob]

    /// Every task the job ever had, oldest first (more than one after an uncertain resubmission).
    func tasks(ofJob id: UUID) async throws -> [StoredTask]

    /// Where each input of the job was moved (nil: not moved), in input order.
    func inputMoves(ofJob id: UUID) async throws -> [String?]

    /// When the job last entered `submitting` (the start of the create call the provider may have answered).
    func submittingTime(ofJob id: UUID) async throws -> Date?

    /// Whether any job recorded this task of this provider.
    func knowsTask(provider: String, taskID: String) async throws -> Bool

    /// Whether a job's output path is `stem` (an output in the outbox a job owns).
    func knowsOutput(stem: String) async throws -> Bool

    /// Finished jobs whose inputs are still to be moved away.
    func jobsAwaitingDisposal() async throws -> [StoredJob]

    /// When the soonest `ready` job's backoff ends after `now`, or nil.
    func nextRetry(after now: Date) async throws -> Date?

    /// When the soonest active task's next status call is due, or nil.
    func nextPoll() async throws -> Date?

    /// How many tasks are active (created and not finished).
    func tasksInFlight() async throws -> Int
}

/// The intake's view of the inputs jobs hold, and where it records new drops.
public protocol InputHolding: Sendable {
    /// Every input a job holds (its job and identity): what the intake must not plan again.
    func heldInputs() async throws -> [(job: UUID, identity: InputIdentity)]

    /// Whether a job holds an input with this identity.
    func isInputHeld(_ identity: InputIdentity) async throws -> Bool

    /// The job's inputs that another job not finished yet also holds (they stay in the inbox for it): the same path,
    /// size and modification time, as every node sees the file (the device and inode differ between machines).
    func inputsSharedWithLiveJobs(besides jobID: UUID) async throws -> [String]

    /// The jobs that hold (have not given back) an input with one of `files`' path, size and modification time, and
    /// whether each is still live (not finished): another node's jobs for files this node sees, whatever their
    /// device and inode are here.
    func holders(of files: [DropKey.File]) async throws -> [FileHolder]

    /// Inserts jobs (and the films their clips belong to) with their inputs and `created` events in one transaction.
    ///
    /// A job with a ``NewJob/dropKey`` already registered (another node made it) is skipped, and so is one whose
    /// files `stillThere` says are gone, checked inside the transaction; returns the jobs inserted.
    func recordJobs(_ jobs: [NewJob], films: [NewFilm], stillThere: (@Sendable (NewJob) -> Bool)?) async throws -> [StoredJob]
}

/// Spend caps' records: alerts, operator overrides, what was spent, jobs held by a cap or a window.
public protocol BudgetRecords: Sendable {
    /// Records an alert (a cap reached or near); false when this alert of this period was recorded already.
    func recordAlert(_ alert: BudgetAlert) async throws -> Bool

    /// Alerts recorded and not announced yet.
    func alertsToAnnounce() async throws -> [BudgetAlert]

    /// Marks alerts as announced.
    func markAnnounced(_ alerts: [BudgetAlert]) async throws

    /// The caps an operator set with `hotfolder budget`, in force over the configuration's.
    func budgetOverrideValues() async throws -> BudgetOverrides

    /// Sets (or with `clear`, removes) an operator's override of one cap.
    func setOverride(_ cap: BudgetCap, value: Double?, clear: Bool) async throws

    /// Spend of the period containing `now`: the day, the month, and each lane's day.
    func spending(at now: Date, calendar: Calendar, laneFolders: [String]) async throws
        -> (period: SpendPeriod, day: SpendLine, month: SpendLine, lanes: [String: SpendLine])

    /// The job's recorded spend (reserved and settled), or nil when it has none.
    func spendRecorded(ofJob id: UUID) async throws -> SpendLine?

    /// How many jobs are held, by the hold's kind.
    func heldJobCounts() async throws -> [String: Int]

    /// Held jobs of one kind (nil: all), oldest first, at most `limit`.
    func heldJobs(ofKind kind: String?, limit: Int) async throws -> [StoredJob]
}

/// Storyboards' films: made of clips, joined once every clip is done.
public protocol FilmRecords: Sendable {
    /// The film with this id, or nil.
    func film(id: UUID) async throws -> StoredFilm?

    /// Films waiting to be joined or failed: every clip finished.
    func filmsToSettle() async throws -> [StoredFilm]

    /// The film's clips, in storyboard order.
    func clips(ofFilm id: UUID) async throws -> [StoredJob]

    /// Moves the film from one of `from` to `to` (compare-and-set); false when it was in another state.
    func setFilmState(_ id: UUID, from: [FilmState], to: FilmState, outputPath: String?, message: String?) async throws -> Bool

    /// The lane's failed films from `folder`.
    func failedFilms(lane: String, folder: String) async throws -> [StoredFilm]

    /// Clips made earlier from the same shot (same reuse key), with their output paths, newest first.
    func clipsMade(reuseKey: String) async throws -> [(id: UUID, outputPath: String)]

    /// Removes films finished before `cutoff`; returns how many.
    func pruneFilms(finishedBefore cutoff: Date) async throws -> Int
}

/// The dashboard's reads.
public protocol DashboardQueries: Sendable {
    /// The store's change feed: what the dashboard streams to browsers.
    var liveFeed: LiveFeed { get }

    /// One page of the job list, newest first, continuing after `cursor`.
    func jobListPage(_ filter: JobListFilter, cursor: String?, limit: Int) async throws -> JobListPage

    /// Jobs finished in each of the 24 hours before `now`, oldest hour first.
    func finishedEachHour(now: Date) async throws -> [Int]

    /// The lanes jobs were made in, sorted.
    func laneNames(limit: Int) async throws -> [String]

    /// Whether the store accepts a write now (`/readyz`).
    func canWrite() async -> Bool
}

/// Finds jobs that made no progress for too long and queues one `job.stalled` notification for each.
public protocol StallWatching: Sendable {
    /// Returns how many jobs were newly found stalled.
    func checkStalled(after seconds: Double, now: Date, limit: Int) async throws -> Int
}

/// Everything the running service needs of its store: ``SQLiteStateStore`` on one machine, ``PostgresStateStore``
/// for several nodes sharing one inbox.
public protocol ServiceStore: StateStore, JobQueries, InputHolding, BudgetRecords, FilmRecords, DashboardQueries, StallWatching {
    /// Ends the store's use (SQLite closes its file; PostgreSQL's client ends with its service).
    func shutDown() async
}

/// A job holding an input: which file (inbox-relative path) and whether the job is still live.
public struct FileHolder: Sendable, Hashable {
    /// The input's path relative to the inbox.
    public var path: String
    /// The job that holds it.
    public var job: UUID
    /// Whether the job has not finished yet.
    public var live: Bool

    /// Creates a holder.
    public init(path: String, job: UUID, live: Bool) {
        self.path = path
        self.job = job
        self.live = live
    }
}
