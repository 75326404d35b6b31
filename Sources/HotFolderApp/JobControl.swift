// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO

/// What `hotfolder retry` and `hotfolder cancel` do to jobs, safely while the service runs.
///
/// Both only change the store and move files; the running service notices through the store and the
/// watcher (a failed job is retried by moving its files back into the inbox, exactly as a person would).
public struct JobControl: Sendable {
    let store: any ServiceStore
    let configuration: ServiceConfiguration

    /// Creates a controller.
    public init(store: any ServiceStore, configuration: ServiceConfiguration) {
        self.store = store
        self.configuration = configuration
    }

    /// The result of a retry or cancel, one line per job.
    public struct Outcome: Sendable {
        /// What happened, one sentence per job.
        public var lines: [String] = []
        /// Whether any job could not be handled.
        public var hadErrors = false
    }

    /// Finds jobs by id, id prefix or name; every query must match at least one job.
    public func find(_ queries: [String]) async throws -> (jobs: [StoredJob], unknown: [String]) {
        var jobs: [StoredJob] = []
        var unknown: [String] = []
        for query in queries {
            let found = try await store.searchJobs(query)
            if found.isEmpty { unknown.append(query) }
            jobs += found.filter { job in !jobs.contains { $0.id == job.id } }
        }
        return (jobs, unknown)
    }

    /// Retries jobs: uncertain ones go back to the queue (an uncertain one may be billed twice); failed,
    /// invalid and cancelled ones have their files moved back from `failed/` into the inbox.
    public func retry(_ jobs: [StoredJob]) async -> Outcome {
        var outcome = Outcome()
        for job in jobs {
            do {
                switch job.state {
                case .uncertain:
                    try await perform(.operatorRetry, on: job, api: nil, outcome: &outcome)
                    outcome.lines.append("\(job.displayName): queued again (its first create call may also have been billed)")
                case .failed, .invalid, .cancelled:
                    let moved = try await moveBack(job)
                    outcome.lines.append("\(job.displayName): \(moved) file(s) moved back into the inbox; the service picks them up as a new drop")
                default:
                    outcome.lines.append("\(job.displayName): is \(job.state.rawValue), nothing to retry")
                }
            } catch {
                outcome.hadErrors = true
                outcome.lines.append("\(job.displayName): \(error)")
            }
        }
        return outcome
    }

    /// Cancels jobs that have not finished; their files go to `failed/` with a note, to be moved back to retry.
    /// A task already created is cancelled at the provider where `api` is given and the provider can.
    public func cancel(_ jobs: [StoredJob], api: (any VideoAPI)?) async -> Outcome {
        var outcome = Outcome()
        for job in jobs {
            guard !job.state.isTerminal else {
                outcome.lines.append("\(job.displayName): already \(job.state.rawValue)")
                continue
            }
            do {
                try await perform(.operatorCancel, on: job, api: api, outcome: &outcome)
                let folder = try await store.job(id: job.id)?.outputPath
                outcome.lines.append("\(job.displayName): cancelled\(folder.map { "; files in \($0)" } ?? "")")
            } catch {
                outcome.hadErrors = true
                outcome.lines.append("\(job.displayName): \(error)")
            }
        }
        return outcome
    }

    /// Sends jobs held by a budget (`kind` "budget"), a window ("window") or anything (nil) back to the queue, to be
    /// checked again against the caps and windows now in force. Returns how many went.
    public func releaseHeld(kind: String?) async throws -> Int {
        var released = 0
        for job in try await store.heldJobs(ofKind: kind, limit: 1000) {
            var outcome = Outcome()
            do {
                try await perform(.gateOpened, on: job, api: nil, outcome: &outcome)
                released += 1
            } catch StateStoreError.unexpectedState {
                continue  // the service moved it meanwhile
            }
        }
        return released
    }

    /// Tells the job's lifecycle about an operator's `event` and performs the effects an operator's command can:
    /// commits, cancelling the task at the provider (where `api` is given), moving the inputs away.
    private func perform(_ event: JobLifecycle.Event, on job: StoredJob, api: (any VideoAPI)?, outcome: inout Outcome) async throws {
        let spec = job.spec
        var lifecycle = job.lifecycle(
            spec: spec, task: try await store.activeTask(ofJob: job.id),
            policy: LifecyclePolicy(retry: configuration.retryPolicy, maxTaskFailures: configuration.maxTaskFailures))
        for effect in lifecycle.handle(event, now: Date()) {
            switch effect {
            case .commit(let commit):
                try await store.commit(job.id, commit, lease: nil)
            case .cancelRemoteTask:
                guard let taskID = lifecycle.task?.taskID else { continue }
                guard let api else {
                    outcome.lines.append("\(job.displayName): task \(taskID) was already created; it may still run and be billed")
                    continue
                }
                do {
                    try await api.cancelTask(id: taskID)
                    try? await store.appendNote(job.id, "the provider cancelled task \(taskID)", lease: nil)
                } catch {
                    outcome.lines.append("\(job.displayName): the provider could not cancel task \(taskID) (\(error)); it may still run and be billed")
                }
            case .moveInputs(let disposal):
                let outbox = OutboxWriter(outbox: configuration.outbox, failed: configuration.failed, archive: configuration.archive)
                let disposer = InputDisposer(
                    store: store, outbox: outbox, inbox: HotFolderService.absolute(configuration.inbox),
                    archivePolicy: configuration.archivePolicy)
                let failure = lifecycle.failure ?? JobLifecycle.Failure(category: "cancelled", message: "an operator cancelled it")
                _ = try await disposer.dispose(
                    disposal, job: try await store.job(id: job.id) ?? job, name: spec?.outputName ?? job.name,
                    errorText: ErrorReport.failure(category: failure.category, message: failure.message, jobName: job.displayName),
                    log: job.outputPath.map { outbox.reservation(stemPath: $0) })
            default:
                continue
            }
        }
    }

    /// Moves a failed job's files (not its error file or log) from its `failed/` folder back to where they were
    /// dropped: a shot folder's or storyboard's files into that folder, others into the inbox lane.
    private func moveBack(_ job: StoredJob) async throws -> Int {
        guard let folder = job.outputPath, folder.hasPrefix(HotFolderService.absolute(configuration.failed)),
            FileManager.default.fileExists(atPath: folder)
        else {
            throw JobControlError.noFailedFolder(job: job.displayName)
        }
        let inbox = HotFolderService.absolute(configuration.inbox)
        // Where each input came from, by file name (the failed folder is flat).
        var origins: [String: [String]] = [:]
        for input in (try? await store.inputFiles(ofJob: job.id)) ?? [] {
            origins[(input.path as NSString).lastPathComponent, default: []].append(input.path)
        }
        var moved = 0
        var skipped = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        where !name.hasSuffix(".error.txt") && !name.hasSuffix(".log") {
            let relative = origins[name]?.isEmpty == false ? origins[name]!.removeFirst() : (job.lane.isEmpty ? name : job.lane + "/" + name)
            let target = inbox + "/" + relative
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard !FileManager.default.fileExists(atPath: target) else {
                skipped += 1
                continue
            }
            try FileManager.default.moveItem(atPath: folder + "/" + name, toPath: target)
            moved += 1
        }
        // Nothing moved because the same names are still in the inbox: another job holds them (a storyboard's other
        // clips, a variant) or they were dropped again. Say so rather than report success.
        if moved == 0 && skipped > 0 { throw JobControlError.stillInInbox(job: job.displayName, files: skipped) }
        return moved
    }
}

/// Why a retry or cancel could not be done.
public enum JobControlError: Error, CustomStringConvertible {
    /// The job's files are not in a `failed/` folder any more.
    case noFailedFolder(job: String)
    /// Every file to move back is still (or again) in the inbox under the same name.
    case stillInInbox(job: String, files: Int)

    /// One sentence.
    public var description: String {
        switch self {
        case .noFailedFolder(let job):
            "the files of \(job) are no longer in the failed folder; drop them into the inbox again to retry"
        case .stillInInbox(let job, let files):
            "the \(files) file(s) of \(job) are still in the inbox under the same names (another job still uses them, "
                + "e.g. the storyboard's other clips are being made); retry once it has finished"
        }
    }
}
