// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO

/// What `hotfolder status` shows: jobs by state with progress, why the queue is paused, recent failures.
public struct StatusReport: Encodable, Sendable {
    /// A job in progress.
    public struct ActiveJob: Encodable, Sendable {
        /// `lane/name`.
        public var job: String
        /// The job id.
        public var id: String
        /// Its state.
        public var state: String
        /// 0–100 when the provider reports it.
        public var progress: Int?
        /// The provider's task id.
        public var taskId: String?
        /// Why it waits (uncertain jobs), or its last message.
        public var note: String?
    }

    /// A job that failed.
    public struct Failure: Encodable, Sendable {
        /// `lane/name`.
        public var job: String
        /// The job id.
        public var id: String
        /// The failure category.
        public var category: String
        /// What happened.
        public var message: String
        /// When.
        public var at: Date
        /// Where its files are.
        public var folder: String?
    }

    /// How one notification target's deliveries stand.
    public struct Notifications: Encodable, Sendable {
        /// The target (a URL's scheme and host, or `command NAME`).
        public var target: String
        /// Deliveries still to make.
        public var pending: Int
        /// Deliveries given up (a day of failures, or the target was removed).
        public var abandoned: Int
    }

    /// One node sharing the state database.
    public struct Node: Encodable, Sendable {
        /// Its `node_name`.
        public var name: String
        /// When it last started.
        public var started: Date
        /// Its last heartbeat.
        public var lastHeartbeat: Date
        /// Jobs it holds a current lease on.
        public var jobsHeld: Int
        /// Whether its heartbeat is older than the lease: stopped, dead or cut off; its jobs are taken over.
        public var silent: Bool
    }

    /// Job counts by state.
    public var counts: [String: Int]
    /// Why the queue is paused, when it is.
    public var paused: String?
    /// Jobs that are not finished.
    public var active: [ActiveJob]
    /// The latest failures.
    public var recentFailures: [Failure]
    /// Spend against each cap, and held jobs (when read with a configuration).
    public var budget: BudgetStatus?
    /// Notification deliveries per target (empty when there were none).
    public var notifications: [Notifications] = []
    /// The nodes that ran on this state database, by name.
    public var nodes: [Node] = []

    /// Reads the report from the store and the state directory.
    public static func read(
        store: any ServiceStore, stateDirectory: String, limit: Int = 50, configuration: ServiceConfiguration? = nil
    ) async throws -> StatusReport {
        let counts = try await store.jobCounts()
        let live: Set<JobState> = [.ready, .uploading, .submitting, .submitted, .running, .downloading, .uncertain, .held]
        var active: [ActiveJob] = []
        for job in try await store.listJobs(in: live, limit: limit) {
            let task = try await store.activeTask(ofJob: job.id)
            var note: String?
            if job.state == .uncertain {
                let why = job.failureMessage.map { $0 + ". " } ?? ""
                let searching = job.nextAttemptAt.map { " Next search of the provider's task list: \($0.formatted(.iso8601))." } ?? ""
                note = why + "The create call may have succeeded (possible double charge if retried): hotfolder retry \(job.name) or hotfolder cancel \(job.name)." + searching
            } else if job.state == .held {
                note = (job.failureMessage ?? "held") + (job.nextAttemptAt.map { "; until \($0.formatted(.iso8601))" } ?? "")
            } else if let next = job.nextAttemptAt, next > Date() {
                note = "retry at \(next.formatted(.iso8601)) (attempt \(job.attempts + 1))"
            }
            active.append(ActiveJob(
                job: job.displayName, id: job.id.uuidString.lowercased(), state: job.state.rawValue,
                progress: task?.progress, taskId: task?.taskID, note: note))
        }
        let failures = try await store.latestFailures(limit: 10).map { job in
            Failure(
                job: job.displayName, id: job.id.uuidString.lowercased(), category: job.failureCategory ?? job.state.rawValue,
                message: job.failureMessage ?? "", at: job.updatedAt, folder: job.outputPath)
        }
        let pause = QueuePause.load(stateDirectory: stateDirectory)
        let notifications = try await store.deliveryCounts().map {
            Notifications(target: $0.label, pending: $0.pending, abandoned: $0.abandoned)
        }
        let now = Date()
        let lease = configuration?.lease.seconds ?? 60
        let nodes = try await store.nodes(now: now).map {
            Node(
                name: $0.name, started: $0.registeredAt, lastHeartbeat: $0.lastHeartbeat, jobsHeld: $0.jobsHeld,
                silent: now.timeIntervalSince($0.lastHeartbeat) > lease)
        }
        var budget: BudgetStatus?
        if let configuration {
            budget = try await BudgetStatus.read(store: store, configuration: configuration, laneCaps: await BudgetStatus.laneCaps(store: store))
        }
        return StatusReport(
            counts: Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) }),
            paused: pause.map { "since \($0.since.formatted(.iso8601)): \($0.reason)" },
            active: active, recentFailures: failures,
            budget: budget, notifications: notifications, nodes: nodes)
    }

    /// The report as text for a terminal.
    public var text: String {
        var lines: [String] = []
        let order = JobState.allCases.map(\.rawValue)
        let countText = order.compactMap { state in counts[state].map { "\(state) \($0)" } }.joined(separator: ", ")
        lines.append("jobs: " + (countText.isEmpty ? "none yet" : countText))
        lines.append(paused.map { "queue: PAUSED \($0)" } ?? "queue: running")
        if let budget {
            lines.append("spend (\(budget.timeZone)):")
            lines += budget.text
        }
        for target in notifications {
            lines.append("notifications: \(target.target): \(target.pending) pending, \(target.abandoned) abandoned")
        }
        for node in nodes {
            let ago = Span.text(max(0, Date().timeIntervalSince(node.lastHeartbeat)))
            var line = "node \(node.name): last heartbeat \(ago) ago, \(node.jobsHeld) job(s) held"
            if node.silent { line += node.jobsHeld > 0 ? " (silent longer than its lease: its jobs are being taken over)" : " (not running)" }
            lines.append(line)
        }
        if !active.isEmpty {
            lines.append("")
            lines.append("in progress:")
            for job in active {
                var line = "  \(job.job) [\(job.id.prefix(8))] \(job.state)"
                if let progress = job.progress { line += " \(progress)%" }
                if let task = job.taskId { line += " task \(task)" }
                lines.append(line)
                if let note = job.note { lines.append("      \(note)") }
            }
        }
        if !recentFailures.isEmpty {
            lines.append("")
            lines.append("recent failures:")
            for failure in recentFailures {
                lines.append("  \(failure.job) [\(failure.id.prefix(8))] \(failure.category): \(failure.message)")
                if let folder = failure.folder { lines.append("      files: \(folder)") }
            }
        }
        return lines.joined(separator: "\n")
    }
}
