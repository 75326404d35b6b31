// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO

/// Reads what the pages and the API show from the store and the service's health (no HTTP here).
extension Dashboard {
    /// The overview's figures.
    func status() async throws -> DashboardStatus {
        let counts = try await store.jobCounts()
        let configuration = context.configuration
        let pause = QueuePause.load(stateDirectory: configuration.stateDirectory)
        let inFlight = try await store.tasksInFlight()
        var waiting: [String] = []
        if let pause { waiting.append("The queue is paused (\(pause.category)): \(pause.reason)") }
        let held = try await store.heldJobCounts()
        if let budget = held["budget"], budget > 0 { waiting.append("\(budget) job(s) wait for a budget to reset or be raised") }
        if let window = held["window"], window > 0 { waiting.append("\(window) job(s) wait for their time window to open") }
        let ready = counts[.ready] ?? 0
        if ready > 0, inFlight >= configuration.maxInFlight {
            waiting.append("\(ready) job(s) wait for a free slot (\(inFlight) of \(configuration.maxInFlight) tasks in flight)")
        }
        if let due = try await store.nextRetry(after: context.clock()) {
            waiting.append("Jobs back off after provider errors or rate limits; the next is due \(due.formatted(.iso8601))")
        }
        let caps = configuration.budget.overridden(by: try await store.budgetOverrideValues())
        let budget = caps.daily != nil || caps.monthly != nil
            ? try await BudgetStatus.read(store: store, configuration: configuration, now: context.clock()) : nil
        return DashboardStatus(
            counts: Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) }),
            total: counts.values.reduce(0, +), inFlight: inFlight, maxInFlight: configuration.maxInFlight,
            paused: pause.map { .init(category: $0.category, reason: $0.reason, since: $0.since) },
            waitingFor: waiting, watch: context.watchHealth.current, outboxDisk: Self.disk(context.outbox.outbox),
            finishedPerHour: try await throughput.get { try await store.finishedEachHour(now: context.clock()) },
            recentFailures: try await store.latestFailures(limit: 10).map { JobSummary($0, task: nil, prefix: prefix) },
            budget: budget)
    }

    /// One job in full; nil when there is no such job.
    func detail(_ id: UUID) async throws -> JobDetail? {
        guard let job = try await store.job(id: id) else { return nil }
        let spec = job.spec
        let task = try await store.activeTask(ofJob: id)
        // A thumbnail for each image still there, in the inbox or where it was moved (a deleted one has none).
        let destinations = try await store.inputMoves(ofJob: id)
        let inputs = try await store.inputFiles(ofJob: id).enumerated().map { index, input in
            JobDetail.Input(
                path: input.path, sha256: input.sha256, size: input.identity.size,
                url: inputImage(job, input, movedTo: destinations.indices.contains(index) ? destinations[index] : nil) != nil
                    ? "\(prefix)/files/jobs/\(id.lowercasedString)/inputs/\(index)" : nil)
        }
        return JobDetail(
            job: JobSummary(job, task: task, prefix: prefix),
            settings: (spec?.settings ?? [:]).sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value.value, source: $0.value.source) },
            request: spec.flatMap { context.api.recordedBody(for: $0.request) }.flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) },
            timeline: try await store.events(ofJob: id).map {
                .init(at: $0.at, kind: $0.kind.rawValue, from: $0.fromState?.rawValue, to: $0.toState?.rawValue, message: $0.message)
            },
            tasks: try await store.tasks(ofJob: id).map {
                .init(
                    provider: $0.provider, taskId: $0.taskID, status: $0.status, progress: $0.progress, submittedAt: $0.submittedAt,
                    updatedAt: $0.updatedAt, errorMessage: $0.errorMessage)
            },
            inputs: inputs, log: Self.logTail(of: job), actions: Self.actions(for: job.state))
    }

    /// What an operator can do to a job in `state`.
    static func actions(for state: JobState) -> [String] {
        var actions: [String] = []
        if [.uncertain, .failed, .invalid, .cancelled].contains(state) { actions.append("retry") }
        if !state.isTerminal { actions.append("cancel") }
        return actions
    }

    /// The last 64 KB of the job's log: `<output>.log` beside the video, or `<name>.log` in its failed folder.
    static func logTail(of job: StoredJob) -> String? {
        guard let output = job.outputPath else { return nil }
        let candidates = [output + ".log", output + "/" + job.name + ".log"]
        guard let path = candidates.first(where: { FileSystemProbe.lstat($0)?.kind == .regular }),
            let handle = FileHandle(forReadingAtPath: path)
        else { return nil }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 65536 ? size - 65536 : 0)
        return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    }

    static func isImage(_ path: String) -> Bool {
        ["png", "jpg", "jpeg", "webp"].contains((path as NSString).pathExtension.lowercased())
    }

    /// Free and total space of the file system holding `path`.
    static func disk(_ path: String) -> DashboardStatus.Disk? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        let block = Int64(info.f_frsize)
        return .init(path: path, freeBytes: Int64(info.f_bavail) * block, totalBytes: Int64(info.f_blocks) * block)
    }
}
