// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Logging
import Synchronization

/// Moves queued jobs through the API: upload → submit → poll → download → outbox → archive.
///
/// Two loops share the work: the dispatcher claims queued jobs (priority, then age) while there are free
/// slots (`max_in_flight`) and the queue is not paused; the poller asks for the status of every task
/// whose next poll is due, at most `max_status_calls_per_second`, and finishes the ones that are done.
/// Every state change is committed to the store *before* the side effect it allows.
///
/// Each job is worked on under a lease in this node's name (`node_name`), renewed by a heartbeat every third of
/// `lease`: a job whose lease ends (its node died) is taken over by another node, and every write carries the
/// lease, so a node that was paused past its lease and lost a job learns it at its first write and drops the work.
actor JobRunner {
    let context: ServiceContext
    let intake: JobIntake
    nonisolated var dispatchWake: WakeSignal { context.dispatchWake }
    nonisolated var pollWake: WakeSignal { context.pollWake }
    /// When the poller's current sleep ends (seconds since the reference date): a new task due later
    /// than that needs no wake-up call.
    nonisolated let pollerWakesAt = Mutex<Double>(0)
    let uploads: AsyncLimiter
    let downloads: AsyncLimiter

    /// Jobs holding a slot: uploading, submitting or with a remote task.
    private(set) var inFlight = 0
    /// Jobs a child task is working on right now.
    private var busy: Set<UUID> = []
    /// Jobs between leaving the queue and having a task (uploading or in the create call): at most
    /// `max_submits`, so a burst of thousands of queued jobs never starts thousands of requests at once.
    private var submitting = 0
    /// Why the queue is paused (auth or quota), and when to let one job through to probe.
    private(set) var pause: QueuePause?
    /// The whole queue slows down after a 429.
    private var rateLimitedUntil: Date?
    private var stopping = false
    /// Ends the heartbeat's sleep on stop.
    private let heartbeatWake = WakeSignal()
    private var statusTokens: Double
    private var statusTokensAt = Date()
    /// When the queue's pause was last read from the store.
    private var pauseReadAt = Date.distantPast
    /// Jobs removed from the history by the batches of the current pruning.
    private var prunedSoFar = 0
    /// The leases this node holds, by job: renewed by the heartbeat, handed to each job's work.
    private(set) var held: [UUID: JobLease] = [:]
    /// Whether the last heartbeat failed (the database is away): said once, and once when it is back.
    private var heartbeatFailing = false
    /// Whether the last claim failed (the database is away): said once, and once when it is back.
    private var claimsFailing = false
    /// This node's share of `max_status_calls_per_second` (the rate holds across the nodes alive).
    private var statusCallRate: Double

    /// This node's name in leases.
    nonisolated var node: String { context.configuration.node }
    /// How long a lease lasts without a heartbeat, in seconds.
    nonisolated var leaseFor: TimeInterval { context.configuration.lease.seconds }

    init(context: ServiceContext, intake: JobIntake) {
        self.context = context
        self.intake = intake
        uploads = AsyncLimiter(limit: max(1, context.configuration.maxUploads))
        downloads = AsyncLimiter(limit: max(1, context.configuration.maxDownloads))
        statusTokens = 1
        statusCallRate = max(0.1, context.configuration.maxStatusCallsPerSecond)
    }

    /// Stops taking new jobs and new polls; work already started finishes.
    /// Whether ``stop()`` was called.
    var isStopping: Bool { stopping }

    func stop() {
        stopping = true
        dispatchWake.signal()
        pollWake.signal()
        heartbeatWake.signal()
    }

    /// Wakes the dispatcher (new jobs were queued).
    nonisolated func jobsQueued() {
        context.jobsQueued()
    }

    // MARK: - Dispatcher

    /// Submits queued jobs until stopped.
    func runDispatcher() async {
        await withDiscardingTaskGroup { group in
            while !stopping, !Task.isCancelled {
                let now = context.clock()
                // With nothing to do the dispatcher sleeps: new jobs and freed slots wake it, a retry's backoff
                // ends at a known time, and a few seconds at most pass before it notices jobs that another
                // process (`hotfolder retry`) queued.
                var timeout = 5.0
                let free = max(0, min(context.configuration.maxInFlight - inFlight, context.configuration.maxSubmits - submitting))
                var allowed = free
                if let until = rateLimitedUntil, until > now {
                    allowed = 0
                    timeout = min(timeout, until.timeIntervalSince(now))
                }
                // The pause is one for all nodes: read from the store (twice a second at most).
                await refreshPause(now: now)
                if var pause {
                    let next = now.addingTimeInterval(context.configuration.pauseProbeInterval.seconds)
                    if pause.nextProbe <= now, allowed > 0, await takeProbe(now: now, next: next) {
                        allowed = 1  // half-open: one job of one node finds out whether the account works again
                        pause.nextProbe = next
                        self.pause = pause
                        savePause()
                    } else {
                        allowed = 0
                        // Awake twice a second: another node may resume the queue.
                        timeout = min(timeout, 0.5, max(0.05, pause.nextProbe.timeIntervalSince(now)))
                    }
                }
                if allowed > 0 {
                    // Claimed under a lease: no other node starts these jobs. A job whose node died comes too (a
                    // take-over), and takes a slot like any job in flight. `max_in_flight` also holds across the
                    // nodes sharing the database.
                    let claimed = await claim("claim queued jobs") {
                        try await self.context.store.claimQueued(
                            node: self.node, limit: allowed, leaseFor: self.leaseFor, now: now,
                            maxInFlight: self.context.configuration.maxInFlight)
                    }
                    for leased in claimed where adopt(leased) {
                        inFlight += 1
                        if leased.isTakeOver {
                            group.addTask { await self.resume(leased) }
                        } else {
                            submitting += 1
                            group.addTask { await self.submit(leased) }
                        }
                    }
                    if claimed.count == allowed { timeout = 0.001 }  // more may be waiting
                }
                if timeout > 0.001, allowed > 0 {
                    // Nothing more to start now: sleep until the earliest backoff ends (or a wake).
                    let retry = (try? await context.store.nextRetry(after: now)) ?? nil
                    timeout = min(timeout, max(0.01, retry?.timeIntervalSince(now) ?? 5))
                }
                await dispatchWake.wait(timeout: timeout)
            }
        }
    }

    // MARK: - Poller

    /// Polls tasks in flight and finishes them until stopped.
    func runPoller() async {
        var nextSweep = Date.distantPast
        var nextPrune = Date.distantPast
        var gatesSeen = context.gates.generation
        await withDiscardingTaskGroup { group in
            while !stopping, !Task.isCancelled {
                let now = context.clock()
                // The tasks of the jobs this node holds; a job whose lease the heartbeat lost is another node's now.
                let due = (try? await context.store.tasksDue(node: node, now: now, limit: busy.count + 500)) ?? []
                var waitingForTokens = false
                for item in due where !busy.contains(item.task.jobID) {
                    guard let lease = held[item.task.jobID] else { continue }
                    if item.jobState != .downloading {
                        guard takeStatusToken() else {
                            waitingForTokens = true
                            break
                        }
                    }
                    busy.insert(item.task.jobID)
                    group.addTask { await self.advance(item, lease: lease) }
                }
                if now >= nextPrune {
                    // A long history goes in short batches, one per second, between the polls.
                    nextPrune = now.addingTimeInterval(await pruneHistory(now: now) ? 1 : 6 * 3600)
                }
                // Jobs outside the slots whose time came: uncertain ones due for a search, holds that end.
                if now >= nextSweep {
                    nextSweep = now.addingTimeInterval(1)
                    await announceBudgetAlerts()
                    if context.gates.generation != gatesSeen {
                        // Caps or windows changed (SIGHUP): every held job is checked again, in priority order.
                        gatesSeen = context.gates.generation
                        let released = await releaseHeld(kind: nil)
                        if released > 0 { context.logger.notice("\(released) held job(s) go back into the queue under the new budget and schedule") }
                    }
                    let due = await claim("claim jobs due") {
                        try await self.context.store.claimDue(node: self.node, in: [.uncertain, .held], limit: 100, leaseFor: self.leaseFor, now: now)
                    }
                    for leased in due where adopt(leased) {
                        group.addTask { await self.wake(leased.job, with: .due, lease: leased.lease) }
                    }
                    // Work whose node stopped renewing its leases (it died, or stopped cleanly and gave them back).
                    let orphans = await claim("take over jobs") {
                        try await self.context.store.claimTakeOvers(node: self.node, limit: 100, leaseFor: self.leaseFor, now: now)
                    }
                    for leased in orphans where adopt(leased) {
                        inFlight += 1
                        group.addTask { await self.resume(leased) }
                    }
                }
                let rate = statusCallRate
                var timeout = 0.25  // while child tasks work, their tasks' next poll times keep changing
                if waitingForTokens {
                    timeout = 1 / rate
                } else if busy.isEmpty {
                    // Idle: sleep until the next poll is due; new tasks (recorded by the dispatcher) wake it.
                    let next = (try? await context.store.nextPoll()) ?? nil
                    timeout = min(5, max(0.001, next?.timeIntervalSince(now) ?? 5))
                    // Due by the task table but not listed as due (its job is between states): do not spin.
                    if due.isEmpty, timeout <= 0.001 { timeout = 0.25 }
                }
                let wakesAt = now.timeIntervalSinceReferenceDate + timeout
                pollerWakesAt.withLock { $0 = wakesAt }
                await pollWake.wait(timeout: timeout)
                pollerWakesAt.withLock { $0 = 0 }
            }
        }
    }

    private func takeStatusToken() -> Bool {
        let rate = statusCallRate
        let now = Date()
        // A bucket of one token: a full bucket of `rate` tokens would allow twice the rate within one second.
        statusTokens = min(1, statusTokens + now.timeIntervalSince(statusTokensAt) * rate)
        statusTokensAt = now
        guard statusTokens >= 1 else { return false }
        statusTokens -= 1
        return true
    }

    // MARK: - Bookkeeping called by the work functions

    /// A submission ended (with a task or not): its place among the `max_submits` is free again.
    func finishedSubmitting(_ jobID: UUID, leftSlot: Bool) {
        submitting = max(0, submitting - 1)
        finished(jobID, leftSlot: leftSlot)
        dispatchWake.signal()
    }

    /// A child task finished with a job; `leftSlot` when the job no longer holds an in-flight slot.
    func finished(_ jobID: UUID, leftSlot: Bool) {
        busy.remove(jobID)
        if leftSlot {
            inFlight = max(0, inFlight - 1)
            dispatchWake.signal()
        }
    }

    /// Deletes one batch of the history of jobs finished more than `history_days` ago (nothing when 0); true when
    /// the batch was full (more may be left: the poller calls again a second later).
    private func pruneHistory(now: Date) async -> Bool {
        let days = context.configuration.historyDays
        guard days > 0 else { return false }
        let batch = 2_000
        do {
            let pruned = try await context.store.pruneHistory(before: now.addingTimeInterval(-Double(days) * 86400), now: now, limit: batch)
            prunedSoFar += pruned
            if pruned == batch { return true }
            _ = try await context.store.pruneFilms(finishedBefore: now.addingTimeInterval(-Double(days) * 86400))
            if prunedSoFar > 0 { context.logger.info("removed \(prunedSoFar) job(s) finished more than \(days) days ago from the history") }
        } catch {
            context.logger.warning("cannot prune the job history: \(error)")
        }
        prunedSoFar = 0
        return false
    }

    /// Tells people about budget thresholds crossed and caps reached (each once per cap and period).
    private func announceBudgetAlerts() async {
        guard let alerts = try? await context.store.alertsToAnnounce(), !alerts.isEmpty else { return }
        for alert in alerts {
            if alert.fraction >= 1 {
                context.logger.warning("\(alert.message)")
            } else {
                context.logger.notice("\(alert.message)")
            }
            context.observer(.budget(type: alert.type, cap: alert.cap.key, message: alert.message))
            await context.notify(
                alert.fraction >= 1 ? .budgetExhausted : .budgetThreshold,
                [
                    "budget": .string(alert.cap.key), "period": .string(alert.period), "fraction": .number(alert.fraction),
                    "used": .number(alert.used), "limit": .number(alert.limit), "message": .string(alert.message),
                ])
        }
        try? await context.store.markAnnounced(alerts)
    }

    /// Sends held jobs of `kind` (all when nil) back to the queue to be checked again: a cap was raised or the
    /// schedule changed. Highest priority first.
    func releaseHeld(kind: JobLifecycle.HoldKind?) async -> Int {
        var released = 0
        for job in (try? await context.store.heldJobs(ofKind: kind?.rawValue, limit: 1000)) ?? [] where !busy.contains(job.id) {
            var work = await work(for: job)
            await drive(&work, .gateOpened)
            if work.lifecycle.state == .ready { released += 1 }
        }
        if released > 0 { dispatchWake.signal() }
        return released
    }

    // MARK: - Leases

    /// Runs a claim; when it fails (the database is away) nothing is claimed this round, and the loops try again at
    /// their next turn (a few seconds at most). Said once per outage, and once when the database answers again.
    private func claim(_ what: String, _ body: () async throws -> [LeasedJob]) async -> [LeasedJob] {
        do {
            let claimed = try await body()
            if claimsFailing {
                claimsFailing = false
                context.logger.notice("the state database answers again: this node takes work again")
            }
            return claimed
        } catch {
            if !claimsFailing {
                claimsFailing = true
                context.logger.error("cannot \(what): \(error). This node takes no new work until the state database answers (tried again every few seconds); work under way goes on, and the inbox is still watched.")
            }
            return []
        }
    }

    /// The status calls per second this node may make: `max_status_calls_per_second` shared by the nodes alive.
    static func statusCallRate(total: Double, nodes: [NodeStatus], node: String, now: Date, lease: TimeInterval) -> Double {
        max(0.1, total) / Double(nodes.alive(at: now, lease: lease, including: node))
    }

    /// Takes a claimed job on (busy, its lease held); false when a child task of this node still works on it (it
    /// went back to the queue and came due before that task ended): the new lease is given back, and the job is
    /// claimed again once that task is done.
    private func adopt(_ leased: LeasedJob) -> Bool {
        guard !busy.contains(leased.job.id) else {
            let (store, lease) = (context.store, leased.lease)
            Task { _ = try? await store.releaseLease(lease) }
            return false
        }
        busy.insert(leased.job.id)
        held[leased.job.id] = leased.lease
        return true
    }

    /// The work on a job ended for now: its lease stays held (and renewed) while the job is in a working state, and
    /// is forgotten otherwise (the commit that left the working states gave it back in the store) or when it was lost.
    func settled(_ jobID: UUID, keepLease: Bool) {
        if !keepLease { held[jobID] = nil }
    }

    /// Whether this node may still make the create call under `lease`: the heartbeat has not lost it, and at least
    /// a third of it is left (renewed here otherwise: the node may have been paused since the last heartbeat).
    /// When it cannot be confirmed the lease is forgotten: it ends, and the job is taken over (uncertain, since no
    /// node can know whether this one made the call).
    func confirm(_ lease: JobLease) async -> Bool {
        guard let current = held[lease.jobID], current.generation == lease.generation else { return false }
        let now = context.clock()
        if current.until.timeIntervalSince(now) >= leaseFor / 3 { return true }
        let renewed = try? await context.store.renewLeases(node: node, [current], leaseFor: leaseFor, now: now)
        guard let fresh = renewed?.first, held[lease.jobID]?.generation == lease.generation else {
            held[lease.jobID] = nil
            return false
        }
        held[lease.jobID] = fresh
        return true
    }

    /// Wakes the dispatcher when another node announces work it can claim (a drop recorded, a lease given back:
    /// PostgreSQL's LISTEN), until stopped. Announcements can be lost: the dispatcher also claims every few seconds.
    func runWorkListener() async {
        while !stopping, !Task.isCancelled {
            do {
                if try await context.store.waitForWork(timeout: .seconds(2)) { dispatchWake.signal() }
            } catch {
                // The database is away: the dispatcher's claims say so; listen again a moment later.
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Renews this node's leases every third of `lease` until stopped.
    func runHeartbeat() async {
        while !stopping, !Task.isCancelled {
            await heartbeatWake.wait(timeout: max(0.5, leaseFor / 3))
            guard !stopping else { return }
            await beat()
        }
    }

    /// One heartbeat: the node's row, then its leases. A lease missing from the answer was taken over while this node
    /// was paused (or the database was away longer than the lease): its work is dropped at its next write.
    func beat() async {
        let now = context.clock()
        let snapshot = held
        do {
            try await context.store.heartbeat(node: node, now: now)
            let nodes = try await context.store.nodes(now: now)
            let rate = Self.statusCallRate(
                total: context.configuration.maxStatusCallsPerSecond, nodes: nodes, node: node, now: now, lease: leaseFor)
            if rate != statusCallRate {
                context.logger.info("\(Int((context.configuration.maxStatusCallsPerSecond / rate).rounded())) node(s) share max_status_calls_per_second: this one makes up to \(String(format: "%g", rate)) per second")
                statusCallRate = rate
            }
            let renewed = try await context.store.renewLeases(node: node, Array(snapshot.values), leaseFor: leaseFor, now: now)
            if heartbeatFailing {
                heartbeatFailing = false
                context.logger.notice("the state database answers again: this node's \(renewed.count) lease(s) are renewed")
            }
            let byJob = Dictionary(renewed.map { ($0.jobID, $0) }, uniquingKeysWith: { a, _ in a })
            var lost: [JobLease] = []
            for (id, lease) in snapshot where held[id]?.generation == lease.generation {
                if let fresh = byJob[id] {
                    held[id] = fresh
                } else {
                    held[id] = nil
                    lost.append(lease)
                }
            }
            for lease in lost {
                // Gone back to the queue or finished in the meantime is no news; another node's lease is.
                guard let owner = (try? await context.store.lease(ofJob: lease.jobID))?.owner, owner != node else { continue }
                context.logger.warning("job \(lease.jobID.lowercasedString): node \(owner) took it over while this node was paused or cut off; this node drops its work")
            }
        } catch {
            if !heartbeatFailing {
                heartbeatFailing = true
                context.logger.error("cannot renew this node's leases: \(error). Retrying every \(Int(leaseFor / 3)) s; jobs whose lease ends meanwhile are taken over by other nodes, and this node drops them.")
            }
        }
    }

    /// Takes the jobs of `node` left in a working state by a stop or a crash (its leases given back first), and those
    /// of dead nodes, and tells each it was recovered: an upload starts over, a create call becomes uncertain, tasks
    /// resume polling here. Returns how many jobs stay in flight on this node.
    func recoverTakeOvers() async throws -> Int {
        try await context.store.releaseLeases(node: node)
        try await context.store.registerNode(name: node, now: context.clock())
        statusCallRate = Self.statusCallRate(
            total: context.configuration.maxStatusCallsPerSecond, nodes: try await context.store.nodes(now: context.clock()),
            node: node, now: context.clock(), lease: leaseFor)
        var inFlight = 0
        while true {
            let claimed = try await context.store.claimTakeOvers(node: node, limit: 500, leaseFor: leaseFor, now: context.clock())
            if claimed.isEmpty { break }
            for leased in claimed {
                held[leased.job.id] = leased.lease
                var work = await work(for: leased.job)
                work.lease = leased.lease
                await drive(&work, .recovered)
                let keeps = work.lease != nil && work.lifecycle.state.isWorking
                settled(leased.job.id, keepLease: keeps)
                if keeps, work.lifecycle.state.isInFlight { inFlight += 1 }
            }
        }
        return inFlight
    }

    /// A job outside the slots got a task (an uncertain job's task was found): it holds a slot now.
    func tookSlot() {
        inFlight += 1
    }

    /// A submission succeeded: the account works, so a pause ends (for every node; announced by the node that ends it).
    func accountWorks() async {
        guard let pause else { return }  // the common case costs nothing: no pause known here
        var ended: QueuePauseRecord?
        do {
            ended = try await context.store.resumeQueue()
        } catch {
            context.logger.warning("cannot record in the state database that the queue resumes: \(error); it resumes on this node")
            ended = QueuePauseRecord(category: pause.category, reason: pause.reason, since: pause.since, nextProbe: pause.nextProbe)
        }
        self.pause = nil
        savePause()
        dispatchWake.signal()
        guard let ended else { return }  // another node ended it, and said so
        context.logger.notice("the queue resumes: the API accepted a job again (it was paused: \(ended.reason))")
        context.observer(.queueResumed)
        await context.notify(.queueResumed, ["paused_for": .string(ended.reason)])
    }

    /// Pauses the queue because of the account (auth or quota), for every node; announced once, by the node that
    /// paused a running queue.
    func pauseQueue(category: APIErrorCategory, message: String) async {
        let reason: String
        switch category {
        case .auth:
            reason = "the API refused the key (\(message)); check SEEDANCE_API_KEY or api_key_file"
        default:
            reason = "the account has no balance or quota left (\(message)); top it up"
        }
        let record = QueuePauseRecord(
            category: category.name, reason: reason, since: pause?.since ?? context.clock(),
            nextProbe: context.clock().addingTimeInterval(context.configuration.pauseProbeInterval.seconds))
        var wasRunning: Bool
        do {
            wasRunning = try await context.store.pauseQueue(record)
        } catch {
            wasRunning = pause == nil
            context.logger.warning("cannot record the queue's pause in the state database: \(error); this node pauses alone")
        }
        pause = QueuePause(category: record.category, reason: reason, since: record.since, nextProbe: record.nextProbe)
        pauseReadAt = context.clock()
        savePause()
        if wasRunning {
            context.logger.error("the queue is paused: \(reason). Jobs wait; it resumes by itself once the API accepts a job again (checked every \(Int(context.configuration.pauseProbeInterval.seconds)) s).")
            context.observer(.queuePaused(category: category.name))
            await context.notify(.queuePaused, ["category": .string(category.name), "reason": .string(reason)])
        }
    }

    /// Reads the queue's pause from the store (at most twice a second) and mirrors it into the state directory for
    /// `hotfolder status` and the dashboard. A pause another node set or ended is logged here, not announced again.
    private func refreshPause(now: Date) async {
        guard abs(now.timeIntervalSince(pauseReadAt)) >= 0.5 else { return }
        pauseReadAt = now
        let shared: QueuePauseRecord?
        do {
            shared = try await context.store.queuePause()
        } catch {
            return  // the database is away: the pause known here stands (claims fail meanwhile anyway)
        }
        let next = shared.map { QueuePause(category: $0.category, reason: $0.reason, since: $0.since, nextProbe: $0.nextProbe) }
        if let next, pause == nil {
            context.logger.warning("the queue is paused (by another node): \(next.reason)")
        } else if next == nil, pause != nil {
            context.logger.notice("the queue resumes: another node's job was accepted")
        }
        guard next != pause else { return }
        pause = next
        savePause()
    }

    /// Takes the shared probe: true when this node lets one job through now.
    private func takeProbe(now: Date, next: Date) async -> Bool {
        (try? await context.store.takeProbe(now: now, next: next)) ?? false
    }

    /// Slows the whole queue down after a 429.
    func slowDown(seconds: Double) {
        let until = context.clock().addingTimeInterval(seconds)
        if rateLimitedUntil.map({ $0 < until }) ?? true { rateLimitedUntil = until }
    }

    private func savePause() {
        QueuePause.save(pause, stateDirectory: context.configuration.stateDirectory)
    }

    /// Counts the jobs holding slots after a restart (`inFlight`: the tasks this node took over), and reads the
    /// queue's pause: probed at once after a restart (the operator may have fixed it).
    func restoreCounts(inFlight: Int) async throws {
        self.inFlight = inFlight
        var shared = try await context.store.queuePause()
        if shared == nil, let old = QueuePause.load(stateDirectory: context.configuration.stateDirectory) {
            // Paused by a version that kept the pause in a file only.
            shared = QueuePauseRecord(category: old.category, reason: old.reason, since: old.since, nextProbe: old.nextProbe)
        }
        if var record = shared {
            record.nextProbe = context.clock()
            try await context.store.pauseQueue(record)
            pause = QueuePause(category: record.category, reason: record.reason, since: record.since, nextProbe: record.nextProbe)
        } else {
            pause = nil
        }
        pauseReadAt = context.clock()
        savePause()
    }
}

/// Why the queue is paused; saved in the state directory so `hotfolder status` can show it.
struct QueuePause: Codable, Sendable, Equatable {
    var category: String
    var reason: String
    var since: Date
    var nextProbe: Date

    static func file(_ stateDirectory: String) -> String { stateDirectory + "/queue-pause.json" }

    static func save(_ pause: QueuePause?, stateDirectory: String) {
        let path = file(stateDirectory)
        guard let pause, let data = try? JSONEncoder.sorted.encode(pause) else {
            unlink(path)
            return
        }
        try? data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    static func load(stateDirectory: String) -> QueuePause? {
        guard let data = FileManager.default.contents(atPath: file(stateDirectory)) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(QueuePause.self, from: data)
    }
}

/// Limits how many operations of one kind run at once (uploads, downloads).
actor AsyncLimiter {
    private let limit: Int
    private var running = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) {
        self.limit = limit
    }

    /// Runs `body` when a place is free.
    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        defer { releasePlace() }
        return try await body()
    }

    private func acquire() async {
        if running < limit {
            running += 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func releasePlace() {
        if waiters.isEmpty {
            running -= 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}
