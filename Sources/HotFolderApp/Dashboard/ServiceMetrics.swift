// SPDX-License-Identifier: GPL-2.0-or-later
import CoreMetrics
import Foundation
import HotFolderCore
import HotFolderIO
import Metrics
import Prometheus

/// The service's Prometheus metrics, recorded through swift-metrics into a registry of its own (never the global
/// `MetricsSystem`, so several services in one process — tests — keep separate figures).
///
/// Counters and histograms are recorded as things happen; gauges of the store's contents (jobs by state, tasks in
/// flight, the pause, spend) are read when `/metrics` is scraped. Base units (seconds, US dollars), `_total` on
/// counters, no per-job labels.
public final class ServiceMetrics: Sendable {
    /// The registry `/metrics` prints.
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    /// Creates an empty registry with the service's histogram buckets.
    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[Self.jobDuration] = [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 12 * 3600]
            .map { Duration.seconds($0) }
        factory.durationHistogramBuckets[Self.apiDuration] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
            .map { Duration.milliseconds(Int64($0 * 1000)) }
        self.factory = factory
        for state in JobState.allCases { gauge(Self.jobs, [("state", state.rawValue)]).record(0) }
        gauge(Self.tasksInFlight).record(0)
        gauge(Self.queuePaused).record(0)
        CoreMetrics.Counter(label: Self.watchEvents, factory: factory).increment(by: 0)
    }

    static let jobs = "hotfolder_jobs"
    static let finished = "hotfolder_jobs_finished_total"
    static let apiRequests = "hotfolder_api_requests_total"
    static let apiDuration = "hotfolder_api_request_duration_seconds"
    static let jobDuration = "hotfolder_job_duration_seconds"
    static let tasksInFlight = "hotfolder_tasks_in_flight"
    static let watchEvents = "hotfolder_watch_events_total"
    static let queuePaused = "hotfolder_queue_paused"
    static let spend = "hotfolder_spend_dollars"
    static let budgetLimit = "hotfolder_budget_limit_dollars"
    static let budgetRemaining = "hotfolder_budget_remaining_dollars"
    static let reserved = "hotfolder_reserved_dollars"
    static let sseClients = "hotfolder_dashboard_clients"

    func gauge(_ label: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Gauge {
        CoreMetrics.Gauge(label: label, dimensions: dimensions, factory: factory)
    }

    /// One call to the provider: its operation (`create`, `status`, …), outcome (`ok` or an error category) and time.
    func apiRequest(_ operation: String, outcome: String, duration: Duration) {
        CoreMetrics.Counter(label: Self.apiRequests, dimensions: [("operation", operation), ("outcome", outcome)], factory: factory).increment()
        CoreMetrics.Timer(label: Self.apiDuration, dimensions: [("operation", operation)], factory: factory).record(duration: duration)
    }

    /// A job ended: `result` is its final state, `model` `fast` or `quality`; `duration` from drop to video (done only).
    func jobFinished(result: String, model: String, duration: TimeInterval?) {
        CoreMetrics.Counter(label: Self.finished, dimensions: [("result", result), ("model", model)], factory: factory).increment()
        if let duration, duration >= 0 {
            CoreMetrics.Timer(label: Self.jobDuration, factory: factory).record(duration)
        }
    }

    /// The watcher reported a ready file.
    func watchEvent() {
        CoreMetrics.Counter(label: Self.watchEvents, factory: factory).increment()
    }

    /// Reads the store's gauges, then prints every metric in the Prometheus text format.
    func scrape(store: any ServiceStore, configuration: ServiceConfiguration, clients: Int) async -> String {
        if let counts = try? await store.jobCounts() {
            for state in JobState.allCases { gauge(Self.jobs, [("state", state.rawValue)]).record(counts[state] ?? 0) }
        }
        if let tasks = try? await store.tasksInFlight() { gauge(Self.tasksInFlight).record(tasks) }
        gauge(Self.queuePaused).record(QueuePause.load(stateDirectory: configuration.stateDirectory) == nil ? 0 : 1)
        gauge(Self.sseClients).record(clients)
        let caps = configuration.budget.overridden(by: (try? await store.budgetOverrideValues()) ?? BudgetOverrides())
        if caps.daily != nil || caps.monthly != nil, let budget = try? await BudgetStatus.read(store: store, configuration: configuration) {
            for line in budget.lines {
                gauge(Self.spend, [("cap", line.cap)]).record(line.spent)
                gauge(Self.reserved, [("cap", line.cap)]).record(line.reserved)
                if let limit = line.limit { gauge(Self.budgetLimit, [("cap", line.cap)]).record(limit) }
                if let remaining = line.remaining { gauge(Self.budgetRemaining, [("cap", line.cap)]).record(remaining) }
            }
        }
        return registry.emitToString()
    }
}

extension ServiceMetrics {
    /// Counts a job that ended (done, failed, invalid, cancelled) by result and model, and times a done one from its
    /// drop to its video.
    func observe(_ event: ServiceEvent, store: any ServiceStore, now: Date) {
        let (id, result): (UUID, String)
        switch event {
        case .done(_, let jobID, _): (id, result) = (jobID, "done")
        case .failed(_, let jobID, _): (id, result) = (jobID, "failed")
        case .invalid(_, let jobID): (id, result) = (jobID, "invalid")
        case .cancelled(_, let jobID): (id, result) = (jobID, "cancelled")
        default: return
        }
        // Told on the runner's path: the job's model and age are read off it.
        Task {
            let job = try? await store.job(id: id)
            let model = job?.spec?.request.model ?? "unknown"
            jobFinished(result: result, model: model, duration: result == "done" ? job.map { now.timeIntervalSince($0.createdAt) } : nil)
        }
    }
}
