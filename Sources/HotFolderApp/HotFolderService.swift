// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Logging
import ServiceLifecycle
import Synchronization

/// The hot folder service: watches the inbox, plans jobs, submits them, tracks their tasks and writes
/// the results, surviving restarts (even `kill -9`) without losing or silently repeating a job.
///
/// Run it under a `ServiceGroup`: on SIGTERM/SIGINT it stops taking new jobs, lets requests already
/// under way finish (at most `shutdown_grace`), and returns.
public struct HotFolderService: Service {
    let context: ServiceContext
    /// Writes the morning report at its time (nil when `report.enabled` is false).
    let reports: ReportScheduler?

    /// Creates the service from a loaded configuration, an API client and an open store.
    /// `clock` is the time the service's rules see (budgets' days, windows, backoffs) and `reportClock` the morning
    /// report's: tests move them.
    public init(
        configuration: ServiceConfiguration, api: any VideoAPI, store: any ServiceStore, logger: Logger,
        clock: @escaping @Sendable () -> Date = { Date() }, observer: @escaping @Sendable (ServiceEvent) -> Void = { _ in },
        reportClock: ReportScheduler.Clock = .system
    ) {
        let inbox = Self.absolute(configuration.inbox)
        let serviceFolders = [configuration.outbox, configuration.failed, configuration.archive].map(Self.absolute)
        let excluded = serviceFolders.compactMap { folder -> String? in
            folder.hasPrefix(inbox + "/") ? String(folder.dropFirst(inbox.count + 1)) : nil
        }
        var options = PlannerOptions(
            config: configuration.defaults, configSource: configuration.configFile ?? "config",
            prices: PriceTable(perMillionTokens: [.fast: configuration.prices.fast, .quality: configuration.prices.quality]),
            orphanTimeout: configuration.orphanTimeout.seconds)
        options.provider = configuration.provider == .ark ? .ark : .gateway
        options.exportNames = configuration.exportNames
        options.sequenceSettle = configuration.sequenceSettle.seconds
        options.imageFit = configuration.imageFit
        let metrics = ServiceMetrics()
        let context = ServiceContext(
            inbox: inbox, excludedRelative: excluded, store: store,
            outbox: OutboxWriter(outbox: serviceFolders[0], failed: serviceFolders[1], archive: serviceFolders[2]),
            api: MeteredVideoAPI(base: api, metrics: metrics), planner: DropPlanner(options: options),
            configuration: configuration, logger: logger, groupSettle: min(1, configuration.settle.seconds / 2),
            observer: { event in
                metrics.observe(event, store: store, now: clock())
                observer(event)
            },
            clock: clock, gates: GateSettings(configuration), metrics: metrics)
        self.context = context
        // Several nodes on one outbox: this process's temporary files carry its node's name.
        if configuration.store != nil { TemporaryFiles.claim(for: configuration.node) }
        reports = configuration.report.enabled ? ReportScheduler(
            writer: MorningReportWriter(configuration: configuration, store: store), configuration: configuration,
            clock: reportClock, logger: logger,
            observer: { event in
                observer(event)
                if case .reportReady(let path) = event { Task { await context.notify(.reportReady, ["path": .string(path)]) } }
            }) : nil
    }

    /// Runs until cancelled or a graceful shutdown is requested.
    public func run() async throws {
        let context = self.context
        let logger = context.logger
        let intake = JobIntake(context: context)
        let runner = JobRunner(context: context, intake: intake)
        // Before recovery: jobs it moves (into uncertain, say) are told to the targets.
        let notifications = try context.makeNotificationDispatcher()
        try await recover(runner: runner, intake: intake)
        // Films whose clips all finished while the service was down (or that a crash left half joined).
        Task { await context.films.settleAll(context) }

        var watcherConfiguration = WatcherConfiguration(root: context.inbox)
        watcherConfiguration.settle = context.configuration.settle.seconds
        watcherConfiguration.mode = context.configuration.watchMode
        watcherConfiguration.pollInterval = context.configuration.pollInterval.seconds
        watcherConfiguration.folderReading = context.configuration.pollFolders
        watcherConfiguration.settledEvery = context.configuration.pollSettledEvery
        watcherConfiguration.rescanInterval = context.configuration.rescanInterval.seconds
        watcherConfiguration.excluded = context.excludedRelative.map { context.inbox + "/" + $0 }
        let watcher = InboxWatcher(configuration: watcherConfiguration)
        try watcher.validate()
        logger.info("hotfolder: inbox \(context.inbox), outbox \(context.outbox.outbox), provider \(context.api.providerName), up to \(context.configuration.maxInFlight) tasks in flight")

        await context.notify(.serviceStarted, ["inbox": .string(context.inbox), "provider": .string(context.api.providerName)])

        let grace = context.configuration.shutdownGrace.seconds
        let firstScan = Once()
        let inboxOutage = Outage()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await cancelWhenGracefulShutdown {
                    try await watcher.run { event in
                        switch event {
                        case .ready(let file):
                            context.watchHealth.fileReady(at: context.clock())
                            context.metrics.watchEvent()
                            intake.noteReady(file)
                        case .unsupported(let file):
                            // Planned like any file, so the drop gets an error file that says what is wrong.
                            logger.warning("\(file.relativePath) is a \(file.stat.kind.rawValue), not a regular file")
                            intake.noteReady(file)
                        case .problem(let problem):
                            logger.warning("\(problem)")
                            if case .inboxMissing(let path) = problem, inboxOutage.begin() {
                                context.watchHealth.unreachable("\(problem)")
                                await context.notify(.watchUnreachable, ["path": .string(path), "message": .string("\(problem)")])
                            } else if case .inboxRestored = problem {
                                context.watchHealth.restored()
                                inboxOutage.end()
                            }
                        case .started(let mode, let fileSystem):
                            context.watchHealth.started(mode: mode.rawValue, fileSystem: "\(fileSystem)") { watcher.foldersWatched }
                            logger.info("watching the inbox with \(mode.rawValue) (\(fileSystem))")
                        case .scanCompleted:
                            context.watchHealth.scanned()
                            if firstScan.first() { context.observer(.watching) }
                        }
                    }
                }
            }
            group.addTask {
                await withGracefulShutdownHandler {
                    await intake.run()
                } onGracefulShutdown: {
                    Task { await intake.stop() }
                }
            }
            group.addTask {
                await withGracefulShutdownHandler {
                    await withTaskGroup(of: Void.self) { loops in
                        loops.addTask { await runner.runDispatcher() }
                        loops.addTask { await runner.runPoller() }
                        loops.addTask { await runner.runHeartbeat() }
                        // Other nodes announce work through the shared database; alone on SQLite nobody else does.
                        if context.configuration.store != nil { loops.addTask { await runner.runWorkListener() } }
                    }
                } onGracefulShutdown: {
                    logger.info("shutting down: no new jobs; waiting up to \(Int(grace)) s for requests under way")
                    Task { await runner.stop() }
                }
            }
            if let reports {
                group.addTask {
                    // A report being written when the shutdown begins is finished (it runs on the thread pool).
                    await cancelWhenGracefulShutdown { await reports.run() }
                }
            }
            group.addTask {
                await withGracefulShutdownHandler {
                    await notifications.runLoops()
                } onGracefulShutdown: {
                    // Recorded before the loops stop, so the drain delivers it.
                    Task {
                        await context.notify(.serviceStopping)
                        notifications.stop()
                    }
                }
            }
            group.addTask {
                // Bounds the shutdown: requests still running after the grace period are cancelled.
                try? await gracefulShutdown()
                try await Task.sleep(for: .seconds(grace))
                throw CancellationError()
            }
            // The first loop to end (all of them on shutdown) ends the service.
            do {
                for _ in 0..<(reports == nil ? 4 : 5) { try await group.next() }
            } catch is CancellationError {
                logger.warning("shutdown grace period over: cancelling requests still under way (their jobs resume at the next start)")
            }
            group.cancelAll()
        }
        // Other nodes (or this one's next start) take over at once what the stop left under way, not a lease later.
        if let released = try? await context.store.releaseLeases(node: context.configuration.node), released > 0 {
            logger.info("gave back the lease of \(released) job(s) still under way")
        }
        await context.store.shutDown()
        logger.info("hotfolder stopped")
    }

    /// Puts a reloaded configuration's budget caps, schedule and time zone in force (SIGHUP); held jobs are then
    /// checked again. Other settings need a restart; the names of those that differ are returned.
    @discardableResult
    public func reload(_ configuration: ServiceConfiguration) -> (changed: Bool, needRestart: [String]) {
        var old = context.configuration
        var new = configuration
        let changed = context.gates.update(from: configuration)
        (old.budget, old.schedule, old.timeZone) = (new.budget, new.schedule, new.timeZone)
        (old.configFile, new.configFile) = (nil, nil)
        var needRestart: [String] = []
        if old != new {
            let mirror = (Mirror(reflecting: old).children, Mirror(reflecting: new).children)
            for (a, b) in zip(mirror.0, mirror.1) where "\(a.value)" != "\(b.value)" { needRestart.append(a.label ?? "?") }
        }
        return (changed, needRestart)
    }

    /// Brings the store back to a consistent state after a stop or a crash.
    private func recover(runner: JobRunner, intake: JobIntake) async throws {
        let store = context.store
        let logger = context.logger
        // Leftover temporary downloads from a crash, and images prepared for create calls that never came.
        // With several nodes on one outbox, another node's download under way is left alone: only this node's own
        // leftovers (their names carry its mark) go at once, another node's once older than a lease (it died).
        let sharedOutbox = context.configuration.store != nil
        OutboxCleaner.removeTemporaryFiles(
            under: context.outbox.outbox, olderThan: sharedOutbox ? Date().addingTimeInterval(-context.configuration.lease.seconds) : nil,
            own: TemporaryFiles.mark)
        try? FileManager.default.removeItem(atPath: context.preparedImagesDirectory)
        // A name reserved (an empty log) by a job stopped before it recorded the name belongs to nobody.
        // With several nodes on one outbox, a name another node reserved a moment ago is not recorded yet either:
        // only one older than a lease is left over from a node that died.
        let olderThan = sharedOutbox ? Date().addingTimeInterval(-context.configuration.lease.seconds) : nil
        await OutboxCleaner.removeUnrecordedReservations(under: context.outbox.outbox, olderThan: olderThan) { stem in
            (try? await store.knowsOutput(stem: stem)) ?? true
        }
        // Each job the stop caught between two steps is told so; its lifecycle says what that means (an upload
        // starts over, a create call becomes uncertain, a task resumes polling). This node's leases from before the
        // stop are given back and taken again, with the jobs of dead nodes; live nodes' jobs are theirs.
        try await intake.load()
        let inFlight = try await runner.recoverTakeOvers()
        // Inputs still to move (the jobs are finished: no lease).
        for job in try await store.jobsAwaitingDisposal() {
            var work = await runner.work(for: job)
            await runner.drive(&work, .recovered)
        }
        let uncertain = try await store.listJobs(in: [.uncertain], limit: nil).count
        if uncertain > 0 {
            logger.warning("\(uncertain) job(s) are uncertain: their create call may have succeeded; see `hotfolder status` and `hotfolder retry --uncertain`")
        }
        try await intake.load()
        try await runner.restoreCounts(inFlight: inFlight)
        if inFlight > 0 { logger.info("resuming \(inFlight) task(s) in flight") }
    }

    /// An absolute, normalised path (relative paths are resolved against the current folder).
    public static func absolute(_ path: String) -> String {
        var result = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        while result.count > 1, result.hasSuffix("/") { result.removeLast() }
        return (result as NSString).standardizingPath
    }
}

/// Removes what a crash left in the outbox: hidden temporary files, and names reserved but never recorded.
enum OutboxCleaner {
    /// Removes empty `<stem>.log` files with no video or metadata beside them that no job has recorded.
    /// Removes the empty logs (reserved names) no job recorded; with `olderThan`, only those last changed before it.
    static func removeUnrecordedReservations(under root: String, olderThan: Date? = nil, isRecorded: (String) async -> Bool) async {
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return }
        while let relative = enumerator.nextObject() as? String {
            guard relative.hasSuffix(".log"), let stat = FileSystemProbe.lstat(root + "/" + relative), stat.size == 0 else { continue }
            if let olderThan, Double(stat.mtimeNanoseconds) / 1e9 > olderThan.timeIntervalSince1970 { continue }
            let stem = root + "/" + String(relative.dropLast(4))
            let hasOutput = ["mp4", "json"].contains { FileSystemProbe.lstat(stem + "." + $0) != nil }
            if !hasOutput, await !isRecorded(stem) { unlink(stem + ".log") }
        }
    }

    /// Removes hidden partial files (downloads, temporary writes); with `olderThan`, only those last changed before it.
    static func removeTemporaryFiles(under root: String, olderThan: Date? = nil, own mark: String = "") {
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return }
        while let relative = enumerator.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if let olderThan, mark.isEmpty || !name.contains(mark), let stat = FileSystemProbe.lstat(root + "/" + relative),
                Double(stat.mtimeNanoseconds) / 1e9 > olderThan.timeIntervalSince1970
            {
                continue
            }
            if name.hasPrefix("."), name.contains(".tmp") || name.contains(".part") || name.contains(".download") {
                try? FileManager.default.removeItem(atPath: root + "/" + relative)
            }
        }
    }
}

/// True the first time it is asked, false ever after.
final class Once: Sendable {
    private let done = Atomic<Bool>(false)

    /// Whether this is the first call.
    func first() -> Bool { !done.exchange(true, ordering: .relaxed) }
}
