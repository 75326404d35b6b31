// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

/// The embedded store as a ``ServiceStore``: each requirement is one of the synchronous reads or transactions, run on
/// the blocking thread pool.
extension SQLiteStateStore: ServiceStore {
    public func shutDown() async {
        try? close()
    }

    // MARK: JobQueries

    public func listJobs(in states: Set<JobState>, limit: Int?) async throws -> [StoredJob] {
        try await Blocking.run { try self.jobs(inStates: states, limit: limit) }
    }

    public func jobCounts() async throws -> [JobState: Int] {
        try await Blocking.run { try self.countsByState() }
    }

    public func latestFailures(limit: Int) async throws -> [StoredJob] {
        try await Blocking.run { try self.recentFailures(limit: limit) }
    }

    public func searchJobs(_ query: String) async throws -> [StoredJob] {
        try await Blocking.run { try self.findJobs(query) }
    }

    public func finishedJobs(from start: Date, to end: Date, limit: Int) async throws -> [StoredJob] {
        try await Blocking.run { try self.jobsFinished(from: start, to: end, limit: limit) }
    }

    public func tasks(ofJob id: UUID) async throws -> [StoredTask] {
        try await Blocking.run { try self.tasks(forJob: id) }
    }

    public func inputMoves(ofJob id: UUID) async throws -> [String?] {
        try await Blocking.run { try self.inputDestinations(ofJob: id) }
    }

    public func submittingTime(ofJob id: UUID) async throws -> Date? {
        try await Blocking.run { try self.lastSubmittingTime(id) }
    }

    public func knowsTask(provider: String, taskID: String) async throws -> Bool {
        try await Blocking.run { try self.isTaskRecorded(provider: provider, taskID: taskID) }
    }

    public func knowsOutput(stem: String) async throws -> Bool {
        try await Blocking.run { try self.isOutputPathRecorded(stem) }
    }

    public func jobsAwaitingDisposal() async throws -> [StoredJob] {
        try await Blocking.run { try self.jobsWithPendingDisposal() }
    }

    public func nextRetry(after now: Date) async throws -> Date? {
        try await Blocking.run { try self.nextRetryTime(after: now) }
    }

    public func nextPoll() async throws -> Date? {
        try await Blocking.run { try self.nextPollTime() }
    }

    public func tasksInFlight() async throws -> Int {
        try await Blocking.run { try self.activeTaskCount() }
    }

    // MARK: InputHolding

    public func heldInputs() async throws -> [(job: UUID, identity: InputIdentity)] {
        try await Blocking.run {
            var held: [(job: UUID, identity: InputIdentity)] = []
            try self.forEachHeldInput { held.append((job: $0, identity: $1)) }
            return held
        }
    }

    public func isInputHeld(_ identity: InputIdentity) async throws -> Bool {
        try await Blocking.run { try self.isHeld(identity) }
    }

    public func inputsSharedWithLiveJobs(besides jobID: UUID) async throws -> [String] {
        try await Blocking.run { try self.inputsSharedWithLiveJobs(jobID) }
    }

    public func holders(of files: [DropKey.File]) async throws -> [FileHolder] {
        try await Blocking.run { try self.fileHolders(files) }
    }

    public func recordJobs(_ jobs: [NewJob], films: [NewFilm], stillThere: (@Sendable (NewJob) -> Bool)?) async throws -> [StoredJob] {
        try await Blocking.run { try self.insertJobs(jobs, films: films, stillThere: stillThere) }
    }

    // MARK: BudgetRecords

    public func recordAlert(_ alert: BudgetAlert) async throws -> Bool {
        try await Blocking.run { try self.recordBudgetAlert(alert) }
    }

    public func alertsToAnnounce() async throws -> [BudgetAlert] {
        try await Blocking.run { try self.unannouncedBudgetAlerts() }
    }

    public func markAnnounced(_ alerts: [BudgetAlert]) async throws {
        try await Blocking.run { try self.markBudgetAlertsAnnounced(alerts) }
    }

    public func budgetOverrideValues() async throws -> BudgetOverrides {
        try await Blocking.run { try self.budgetOverrides() }
    }

    public func setOverride(_ cap: BudgetCap, value: Double?, clear: Bool) async throws {
        try await Blocking.run { try self.setBudgetOverride(cap, value: value, clear: clear) }
    }

    public func spending(at now: Date, calendar: Calendar, laneFolders: [String]) async throws
        -> (period: SpendPeriod, day: SpendLine, month: SpendLine, lanes: [String: SpendLine])
    {
        try await Blocking.run { try self.spendSummary(now: now, calendar: calendar, laneFolders: laneFolders) }
    }

    public func spendRecorded(ofJob id: UUID) async throws -> SpendLine? {
        try await Blocking.run { try self.recordedSpend(ofJob: id) }
    }

    public func heldJobCounts() async throws -> [String: Int] {
        try await Blocking.run { try self.heldCounts() }
    }

    public func heldJobs(ofKind kind: String?, limit: Int) async throws -> [StoredJob] {
        try await Blocking.run { try self.heldJobs(kind: kind, limit: limit) }
    }

    // MARK: FilmRecords

    public func film(id: UUID) async throws -> StoredFilm? {
        try await Blocking.run { try self.film(id) }
    }

    public func filmsToSettle() async throws -> [StoredFilm] {
        try await Blocking.run { try self.filmsToSettle() as [StoredFilm] }
    }

    public func clips(ofFilm id: UUID) async throws -> [StoredJob] {
        try await Blocking.run { try self.filmClips(id) }
    }

    public func setFilmState(_ id: UUID, from: [FilmState], to: FilmState, outputPath: String?, message: String?) async throws -> Bool {
        try await Blocking.run { try self.updateFilm(id, from: from, to: to, outputPath: outputPath, message: message) }
    }

    public func failedFilms(lane: String, folder: String) async throws -> [StoredFilm] {
        try await Blocking.run { try self.failedFilms(lane: lane, folder: folder) as [StoredFilm] }
    }

    public func clipsMade(reuseKey: String) async throws -> [(id: UUID, outputPath: String)] {
        try await Blocking.run { try self.clipsMadeBefore(reuseKey: reuseKey) }
    }

    public func pruneFilms(finishedBefore cutoff: Date) async throws -> Int {
        try await Blocking.run { try self.pruneFilms(before: cutoff) }
    }

    // MARK: DashboardQueries

    public func jobListPage(_ filter: JobListFilter, cursor: String?, limit: Int) async throws -> JobListPage {
        try await Blocking.run { try self.jobPage(filter, cursor: cursor, limit: limit) }
    }

    public func finishedEachHour(now: Date) async throws -> [Int] {
        try await Blocking.run { try self.finishedPerHour(now: now) }
    }

    public func laneNames(limit: Int) async throws -> [String] {
        try await Blocking.run { try self.lanes(limit: limit) }
    }

    public func canWrite() async -> Bool {
        (try? await Blocking.run { self.isWritable() }) ?? false
    }

    // MARK: StallWatching

    public func checkStalled(after seconds: Double, now: Date, limit: Int) async throws -> Int {
        try await Blocking.run { try self.checkStalledJobs(stallAfter: seconds, now: now, limit: limit) }
    }
}
