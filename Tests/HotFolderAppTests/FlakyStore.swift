// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Synchronization

/// A real SQLite store whose calls can be made to fail as a database away does (`StateStoreError.unavailable`), by
/// requirement name and count: the seam for the runner's behaviour when PostgreSQL restarts, which the embedded
/// store never does by itself. Every requirement forwards to the SQLite store (generated from the protocols).
final class FlakyStore: ServiceStore {
    let base: SQLiteStateStore
    /// Calls still to fail, by requirement name.
    private let failures = Mutex<[String: Int]>([:])
    /// Calls failed so far, by requirement name.
    private let failed = Mutex<[String: Int]>([:])

    init(_ base: SQLiteStateStore) {
        self.base = base
    }

    /// Makes the next `count` calls of `name` (such as "activeTask") fail as if the database were away.
    func fail(_ name: String, times count: Int) {
        failures.withLock { $0[name, default: 0] += count }
    }

    /// How many calls of `name` failed.
    func failures(of name: String) -> Int {
        failed.withLock { $0[name] ?? 0 }
    }

    private func fault(_ name: String) async throws {
        let fails = failures.withLock { pending -> Bool in
            guard let left = pending[name], left > 0 else { return false }
            pending[name] = left - 1
            return true
        }
        guard fails else { return }
        failed.withLock { $0[name, default: 0] += 1 }
        throw StateStoreError.unavailable(operation: name, reason: "the test took the database away")
    }

    func insertDrop(_ key: DropKey, jobs: [NewJob]) async throws -> [StoredJob] {
        try await fault("insertDrop")
        return try await base.insertDrop(key, jobs: jobs)
    }

    func forgetDrop(_ key: DropKey) async throws {
        try await fault("forgetDrop")
        try await base.forgetDrop(key)
    }

    func job(id: UUID) async throws -> StoredJob? {
        try await fault("job")
        return try await base.job(id: id)
    }

    func lease(ofJob id: UUID) async throws -> JobLease? {
        try await fault("lease")
        return try await base.lease(ofJob: id)
    }

    func activeTask(ofJob id: UUID) async throws -> StoredTask? {
        try await fault("activeTask")
        return try await base.activeTask(ofJob: id)
    }

    func events(ofJob id: UUID) async throws -> [StoredEvent] {
        try await fault("events")
        return try await base.events(ofJob: id)
    }

    func inputFiles(ofJob id: UUID) async throws -> [StoredInput] {
        try await fault("inputFiles")
        return try await base.inputFiles(ofJob: id)
    }

    func claimQueued(node: String, limit: Int, leaseFor: TimeInterval, now: Date, maxInFlight: Int?) async throws -> [LeasedJob] {
        try await fault("claimQueued")
        return try await base.claimQueued(node: node, limit: limit, leaseFor: leaseFor, now: now, maxInFlight: maxInFlight)
    }

    func claimTakeOvers(node: String, limit: Int, leaseFor: TimeInterval, now: Date) async throws -> [LeasedJob] {
        try await fault("claimTakeOvers")
        return try await base.claimTakeOvers(node: node, limit: limit, leaseFor: leaseFor, now: now)
    }

    func claimDue(node: String, in states: Set<JobState>, limit: Int, leaseFor: TimeInterval, now: Date) async throws -> [LeasedJob] {
        try await fault("claimDue")
        return try await base.claimDue(node: node, in: states, limit: limit, leaseFor: leaseFor, now: now)
    }

    func tasksDue(node: String, now: Date, limit: Int) async throws -> [InFlightTask] {
        try await fault("tasksDue")
        return try await base.tasksDue(node: node, now: now, limit: limit)
    }

    func renewLeases(node: String, _ leases: [JobLease], leaseFor: TimeInterval, now: Date) async throws -> [JobLease] {
        try await fault("renewLeases")
        return try await base.renewLeases(node: node, leases, leaseFor: leaseFor, now: now)
    }

    func releaseLease(_ lease: JobLease) async throws -> Bool {
        try await fault("releaseLease")
        return try await base.releaseLease(lease)
    }

    func releaseLeases(node: String) async throws -> Int {
        try await fault("releaseLeases")
        return try await base.releaseLeases(node: node)
    }

    func commit( _ id: UUID, _ commit: JobLifecycle.Commit, lease: JobLease?, outputPath: String?, task: (@Sendable (inout StoredTask) -> Void)?, budget: BudgetRequest? ) async throws -> StoredJob {
        try await fault("commit")
        return try await base.commit(id, commit, lease: lease, outputPath: outputPath, task: task, budget: budget)
    }

    func recordTask( _ jobID: UUID, lease: JobLease?, provider: String, taskID: String, status: String, nextPollAt: Date?, from: JobState, message: String? ) async throws -> StoredTask {
        try await fault("recordTask")
        return try await base.recordTask(jobID, lease: lease, provider: provider, taskID: taskID, status: status, nextPollAt: nextPollAt, from: from, message: message)
    }

    func updateTask( forJob jobID: UUID, lease: JobLease?, update: @escaping @Sendable (inout StoredTask) -> Void ) async throws -> StoredTask {
        try await fault("updateTask")
        return try await base.updateTask(forJob: jobID, lease: lease, update: update)
    }

    func appendNote(_ id: UUID, _ message: String, lease: JobLease?) async throws {
        try await fault("appendNote")
        try await base.appendNote(id, message, lease: lease)
    }

    func finishDisposal( _ id: UUID, folder: String?, release: Bool, movedInputs: [String: String], lease: JobLease? ) async throws {
        try await fault("finishDisposal")
        try await base.finishDisposal(id, folder: folder, release: release, movedInputs: movedInputs, lease: lease)
    }

    func registerNode(name: String, now: Date) async throws {
        try await fault("registerNode")
        try await base.registerNode(name: name, now: now)
    }

    func heartbeat(node name: String, now: Date) async throws {
        try await fault("heartbeat")
        try await base.heartbeat(node: name, now: now)
    }

    func nodes(now: Date) async throws -> [NodeStatus] {
        try await fault("nodes")
        return try await base.nodes(now: now)
    }

    func waitForWork(timeout: Duration) async throws -> Bool {
        try await fault("waitForWork")
        return try await base.waitForWork(timeout: timeout)
    }

    func configureNotifications(_ routes: [NotificationRoute], instance: String, onEnqueue: (@Sendable () -> Void)?) {
        base.configureNotifications(routes, instance: instance, onEnqueue: onEnqueue)
    }

    func recordNotification( type: NotificationEventType, fields: [String: NotificationField], job: NotificationPayload.Job? ) async throws -> String? {
        try await fault("recordNotification")
        return try await base.recordNotification(type: type, fields: fields, job: job)
    }

    func claimNotification(target: String, leaseFor: TimeInterval, now: Date) async throws -> StoredNotification? {
        try await fault("claimNotification")
        return try await base.claimNotification(target: target, leaseFor: leaseFor, now: now)
    }

    func nextNotificationAttempt(target: String) async throws -> Date? {
        try await fault("nextNotificationAttempt")
        return try await base.nextNotificationAttempt(target: target)
    }

    func recordDelivered(_ rowID: Int64, attempts: Int, at time: Date) async throws {
        try await fault("recordDelivered")
        try await base.recordDelivered(rowID, attempts: attempts, at: time)
    }

    func recordDeliveryFailed(_ rowID: Int64, attempts: Int, error: String, next: Date?, at time: Date) async throws {
        try await fault("recordDeliveryFailed")
        try await base.recordDeliveryFailed(rowID, attempts: attempts, error: error, next: next, at: time)
    }

    func abandonDeliveries(exceptTargets targets: [String], at time: Date) async throws -> Int {
        try await fault("abandonDeliveries")
        return try await base.abandonDeliveries(exceptTargets: targets, at: time)
    }

    func pruneDeliveries(before cutoff: Date) async throws -> Int {
        try await fault("pruneDeliveries")
        return try await base.pruneDeliveries(before: cutoff)
    }

    func deliveryCounts() async throws -> [NotificationCounts] {
        try await fault("deliveryCounts")
        return try await base.deliveryCounts()
    }

    func deliveries(eventID: String?) async throws -> [StoredNotification] {
        try await fault("deliveries")
        return try await base.deliveries(eventID: eventID)
    }

    func pruneHistory(before cutoff: Date, now: Date, limit: Int) async throws -> Int {
        try await fault("pruneHistory")
        return try await base.pruneHistory(before: cutoff, now: now, limit: limit)
    }

    func queuePause() async throws -> QueuePauseRecord? {
        try await fault("queuePause")
        return try await base.queuePause()
    }

    func pauseQueue(_ pause: QueuePauseRecord) async throws -> Bool {
        try await fault("pauseQueue")
        return try await base.pauseQueue(pause)
    }

    func resumeQueue() async throws -> QueuePauseRecord? {
        try await fault("resumeQueue")
        return try await base.resumeQueue()
    }

    func takeProbe(now: Date, next: Date) async throws -> Bool {
        try await fault("takeProbe")
        return try await base.takeProbe(now: now, next: next)
    }

    func listJobs(in states: Set<JobState>, limit: Int?) async throws -> [StoredJob] {
        try await fault("listJobs")
        return try await base.listJobs(in: states, limit: limit)
    }

    func jobCounts() async throws -> [JobState: Int] {
        try await fault("jobCounts")
        return try await base.jobCounts()
    }

    func latestFailures(limit: Int) async throws -> [StoredJob] {
        try await fault("latestFailures")
        return try await base.latestFailures(limit: limit)
    }

    func searchJobs(_ query: String) async throws -> [StoredJob] {
        try await fault("searchJobs")
        return try await base.searchJobs(query)
    }

    func finishedJobs(from start: Date, to end: Date, limit: Int) async throws -> [StoredJob] {
        try await fault("finishedJobs")
        return try await base.finishedJobs(from: start, to: end, limit: limit)
    }

    func tasks(ofJob id: UUID) async throws -> [StoredTask] {
        try await fault("tasks")
        return try await base.tasks(ofJob: id)
    }

    func inputMoves(ofJob id: UUID) async throws -> [String?] {
        try await fault("inputMoves")
        return try await base.inputMoves(ofJob: id)
    }

    func submittingTime(ofJob id: UUID) async throws -> Date? {
        try await fault("submittingTime")
        return try await base.submittingTime(ofJob: id)
    }

    func knowsTask(provider: String, taskID: String) async throws -> Bool {
        try await fault("knowsTask")
        return try await base.knowsTask(provider: provider, taskID: taskID)
    }

    func knowsOutput(stem: String) async throws -> Bool {
        try await fault("knowsOutput")
        return try await base.knowsOutput(stem: stem)
    }

    func jobsAwaitingDisposal() async throws -> [StoredJob] {
        try await fault("jobsAwaitingDisposal")
        return try await base.jobsAwaitingDisposal()
    }

    func nextRetry(after now: Date) async throws -> Date? {
        try await fault("nextRetry")
        return try await base.nextRetry(after: now)
    }

    func nextPoll() async throws -> Date? {
        try await fault("nextPoll")
        return try await base.nextPoll()
    }

    func tasksInFlight() async throws -> Int {
        try await fault("tasksInFlight")
        return try await base.tasksInFlight()
    }

    func heldInputs() async throws -> [(job: UUID, identity: InputIdentity)] {
        try await fault("heldInputs")
        return try await base.heldInputs()
    }

    func isInputHeld(_ identity: InputIdentity) async throws -> Bool {
        try await fault("isInputHeld")
        return try await base.isInputHeld(identity)
    }

    func inputsSharedWithLiveJobs(besides jobID: UUID) async throws -> [String] {
        try await fault("inputsSharedWithLiveJobs")
        return try await base.inputsSharedWithLiveJobs(besides: jobID)
    }

    func holders(of files: [DropKey.File]) async throws -> [FileHolder] {
        try await fault("holders")
        return try await base.holders(of: files)
    }

    func recordJobs(_ jobs: [NewJob], films: [NewFilm], stillThere: (@Sendable (NewJob) -> Bool)?) async throws -> [StoredJob] {
        try await fault("recordJobs")
        return try await base.recordJobs(jobs, films: films, stillThere: stillThere)
    }

    func recordAlert(_ alert: BudgetAlert) async throws -> Bool {
        try await fault("recordAlert")
        return try await base.recordAlert(alert)
    }

    func alertsToAnnounce() async throws -> [BudgetAlert] {
        try await fault("alertsToAnnounce")
        return try await base.alertsToAnnounce()
    }

    func markAnnounced(_ alerts: [BudgetAlert]) async throws {
        try await fault("markAnnounced")
        try await base.markAnnounced(alerts)
    }

    func budgetOverrideValues() async throws -> BudgetOverrides {
        try await fault("budgetOverrideValues")
        return try await base.budgetOverrideValues()
    }

    func setOverride(_ cap: BudgetCap, value: Double?, clear: Bool) async throws {
        try await fault("setOverride")
        try await base.setOverride(cap, value: value, clear: clear)
    }

    func spending(at now: Date, calendar: Calendar, laneFolders: [String]) async throws
        -> (period: SpendPeriod, day: SpendLine, month: SpendLine, lanes: [String: SpendLine])
    {
        try await fault("spending")
        return try await base.spending(at: now, calendar: calendar, laneFolders: laneFolders)
    }

    func spendRecorded(ofJob id: UUID) async throws -> SpendLine? {
        try await fault("spendRecorded")
        return try await base.spendRecorded(ofJob: id)
    }

    func heldJobCounts() async throws -> [String: Int] {
        try await fault("heldJobCounts")
        return try await base.heldJobCounts()
    }

    func heldJobs(ofKind kind: String?, limit: Int) async throws -> [StoredJob] {
        try await fault("heldJobs")
        return try await base.heldJobs(ofKind: kind, limit: limit)
    }

    func film(id: UUID) async throws -> StoredFilm? {
        try await fault("film")
        return try await base.film(id: id)
    }

    func filmsToSettle() async throws -> [StoredFilm] {
        try await fault("filmsToSettle")
        return try await base.filmsToSettle()
    }

    func clips(ofFilm id: UUID) async throws -> [StoredJob] {
        try await fault("clips")
        return try await base.clips(ofFilm: id)
    }

    func setFilmState(_ id: UUID, from: [FilmState], to: FilmState, outputPath: String?, message: String?) async throws -> Bool {
        try await fault("setFilmState")
        return try await base.setFilmState(id, from: from, to: to, outputPath: outputPath, message: message)
    }

    func failedFilms(lane: String, folder: String) async throws -> [StoredFilm] {
        try await fault("failedFilms")
        return try await base.failedFilms(lane: lane, folder: folder)
    }

    func clipsMade(reuseKey: String) async throws -> [(id: UUID, outputPath: String)] {
        try await fault("clipsMade")
        return try await base.clipsMade(reuseKey: reuseKey)
    }

    func pruneFilms(finishedBefore cutoff: Date) async throws -> Int {
        try await fault("pruneFilms")
        return try await base.pruneFilms(finishedBefore: cutoff)
    }

    var liveFeed: LiveFeed { base.liveFeed }

    func jobListPage(_ filter: JobListFilter, cursor: String?, limit: Int) async throws -> JobListPage {
        try await fault("jobListPage")
        return try await base.jobListPage(filter, cursor: cursor, limit: limit)
    }

    func finishedEachHour(now: Date) async throws -> [Int] {
        try await fault("finishedEachHour")
        return try await base.finishedEachHour(now: now)
    }

    func laneNames(limit: Int) async throws -> [String] {
        try await fault("laneNames")
        return try await base.laneNames(limit: limit)
    }

    func canWrite() async -> Bool {
        return await base.canWrite()
    }

    func checkStalled(after seconds: Double, now: Date, limit: Int) async throws -> Int {
        try await fault("checkStalled")
        return try await base.checkStalled(after: seconds, now: now, limit: limit)
    }

    func shutDown() async {
        await base.shutDown()
    }

}
