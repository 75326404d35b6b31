// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Logging
import Synchronization

/// What every part of the running service shares: folders, the store, the API, the rules and the log.
struct ServiceContext: Sendable {
    /// The inbox, absolute.
    let inbox: String
    /// Service folders inside the inbox (relative), never planned or watched.
    let excludedRelative: [String]
    let store: any ServiceStore
    let outbox: OutboxWriter
    let api: any VideoAPI
    let planner: DropPlanner
    let configuration: ServiceConfiguration
    let logger: Logger
    /// Seconds to wait after the last ready file before planning, so files dropped together form one job.
    let groupSettle: Double
    /// Told about every job outcome (tests and the demo listen to it).
    let observer: @Sendable (ServiceEvent) -> Void
    /// The time: `Date()` in production; tests move it to open windows and start new days.
    let clock: @Sendable () -> Date
    /// The budget caps and schedule in force (SIGHUP reloads them).
    let gates: GateSettings
    /// Wakes the dispatcher: new jobs, a free slot, a job back in the queue.
    let dispatchWake = WakeSignal()
    /// Wakes the poller: a new task to watch.
    let pollWake = WakeSignal()
    /// Makes each video's poster `<name>.jpg` (ffmpeg, looked up once).
    let posters = PosterMaker()
    /// Joins storyboards' clips into films.
    let films = FilmAssembler()
    /// The figures `/metrics` serves.
    let metrics: ServiceMetrics
    /// How the inbox watcher is doing (the dashboard and `/readyz` show it).
    let watchHealth = WatchHealth()
    /// The descriptions of jobs just queued here, for their first work (no JSON decoding).
    let plannedSpecs = PlannedSpecs()

    /// Tells the dispatcher (and listeners) that jobs were queued.
    func jobsQueued() {
        dispatchWake.signal()
    }

    /// Where images converted or scaled down for the API are written until their create call.
    var preparedImagesDirectory: String { configuration.stateDirectory + "/prepared-images" }

    /// Moves jobs' inputs away.
    var disposer: InputDisposer {
        InputDisposer(store: store, outbox: outbox, inbox: inbox, archivePolicy: configuration.archivePolicy)
    }

    /// The lifecycle's limits and timings, from the configuration and what the provider can do.
    var lifecyclePolicy: LifecyclePolicy {
        LifecyclePolicy(
            retry: configuration.retryPolicy, maxTaskFailures: configuration.maxTaskFailures,
            firstPollDelay: configuration.pollFirstDelay.seconds, pollMinInterval: configuration.pollMinInterval.seconds,
            pollMaxInterval: configuration.pollMaxInterval.seconds, pauseProbeInterval: configuration.pauseProbeInterval.seconds,
            canSearchLostTasks: api.canSearchLostTasks,
            // A task made by a lost call shows in the provider's list soon; half a request timeout, at most 30 s.
            lostTaskSearchDelay: min(30, max(1, configuration.requestTimeout.seconds / 2)),
            resubmitUncertain: configuration.resubmitUncertain,
            // A stalled create may be carried out late: resend only after four request timeouts, at least a minute.
            lostTaskResendAfter: max(60, 4 * configuration.requestTimeout.seconds))
    }
}

/// The caps and schedule in force, changed while the service runs by a reload (SIGHUP).
final class GateSettings: Sendable {
    struct Current: Sendable {
        var budget: BudgetCaps
        var schedule: SubmissionSchedule?
        var calendar: Calendar
    }

    private let current: Mutex<(Current, generation: Int)>

    init(_ configuration: ServiceConfiguration) {
        current = Mutex((Current(budget: configuration.budget, schedule: configuration.schedule, calendar: configuration.calendar), 0))
    }

    /// What is in force now.
    var now: Current { current.withLock { $0.0 } }

    /// Counts the changes: the poller sends held jobs back to be checked again when it moves.
    var generation: Int { current.withLock { $0.generation } }

    /// Puts a reloaded configuration's caps and schedule in force; returns whether anything changed.
    func update(from configuration: ServiceConfiguration) -> Bool {
        current.withLock { current in
            let next = Current(budget: configuration.budget, schedule: configuration.schedule, calendar: configuration.calendar)
            let changed = next.budget != current.0.budget || next.schedule != current.0.schedule
                || next.calendar.timeZone != current.0.calendar.timeZone
            if changed { current = (next, current.generation + 1) }
            return changed
        }
    }
}

extension ServiceContext {
    /// What the store needs to reserve a job's estimated cost against the caps in force.
    func budgetRequest(for spec: JobSpec) -> BudgetRequest {
        let gates = gates.now
        return BudgetRequest(
            cost: spec.estimate?.cost ?? 0, tokens: spec.estimate?.tokens ?? 0, caps: gates.budget,
            laneCaps: spec.lanePolicy?.budgets ?? [], calendar: gates.calendar)
    }

    /// Why a job may not be submitted now because of its time window, or nil when it may (`priority: urgent`
    /// ignores windows, never budgets).
    func windowHold(for spec: JobSpec) -> JobLifecycle.Event? {
        let gates = gates.now
        guard spec.priority < Self.urgentPriority, let schedule = spec.lanePolicy?.schedule ?? gates.schedule else { return nil }
        let now = clock()
        guard !schedule.isOpen(at: now, calendar: gates.calendar) else { return nil }
        let opens = schedule.nextOpening(after: now, calendar: gates.calendar)
        let source = spec.lanePolicy?.schedule != nil ? " (set in \(spec.lanePolicy?.scheduleSource ?? "its folder"))" : ""
        let when = opens.map { "opens in \(Span.text($0.timeIntervalSince(now)))" } ?? "never opens; check the days listed"
        return .gateClosed(.window, reason: "waits for \(schedule)\(source), \(when)", until: opens)
    }

    /// `priority: urgent`.
    static let urgentPriority = 20
}

extension Duration {
    /// The duration in seconds as a Double.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
