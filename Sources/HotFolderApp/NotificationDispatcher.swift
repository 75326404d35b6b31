// SPDX-License-Identifier: GPL-2.0-or-later
import AsyncHTTPClient
import Foundation
import HotFolderCore
import HotFolderIO
import Logging
import ServiceLifecycle
import Synchronization

/// Delivers the notifications the store wrote, at least once, to webhooks and commands (DESIGN §7).
///
/// Each target has its own loop: it takes the target's oldest delivery still to make, waits until it is due,
/// tries it, and records the outcome (delivered; tried again with backoff; given up a day after the event).
/// So deliveries to one target keep their order, and a slow or failing target never delays the others.
/// Loops are woken when the store writes deliveries (after the commit) and otherwise look again every few
/// seconds. A second loop writes `job.stalled` events. On shutdown, deliveries already due get a short time to
/// go out; whatever is left is delivered after the next start, because it is all in the database.
public final class NotificationDispatcher: Service, Sendable {
    /// A configured target with what delivering to it needs.
    struct Target: Sendable {
        let target: NotifyTarget
        let key: String
        let label: String
        /// The shared secret (trimmed file content), read once at start; never logged or stored.
        let secret: Data?
        let wake = WakeSignal()
    }

    let targets: [Target]
    let store: any ServiceStore
    let logger: Logger
    let policy: NotificationRetryPolicy
    let clock: @Sendable () -> Date
    /// The longest a loop sleeps without a wake-up (another process may have written deliveries).
    let idleInterval: Double
    /// How long a job in flight may go without progress before `job.stalled`.
    let stallAfter: Double
    /// How often stalled jobs are looked for.
    let stallCheckInterval: Double
    /// How long deliveries already due may still go out once a shutdown began.
    let drainTime: Double
    private let stopping = Atomic<Bool>(false)
    private let stopWake = WakeSignal()
    private let stallWake = WakeSignal()

    /// Creates a dispatcher for `targets`, reading their secret files now, and tells the store which targets to
    /// write deliveries for (with `instance`, default the host name). Deliveries still pending for targets no
    /// longer configured are given up.
    ///
    /// - Parameters:
    ///   - clock: the time deliveries are due by and stalls are measured with (tests move it by hand).
    ///   - idleInterval: the longest sleep without a wake-up, in real seconds.
    ///   - drainTime: how long deliveries already due may still go out after ``stop()``.
    ///   - stallCheckInterval: real seconds between two looks for stalled jobs (default: a quarter of
    ///     `stallAfter`, at most a minute).
    /// - Throws: ``NotificationError/secretUnreadable(path:)`` when a secret file cannot be read.
    public init(
        targets: [NotifyTarget], store: any ServiceStore, logger: Logger, instance: String? = nil,
        stallAfter: Duration = .seconds(1800), policy: NotificationRetryPolicy = NotificationRetryPolicy(),
        clock: @escaping @Sendable () -> Date = { Date() }, idleInterval: Double = 5, drainTime: Double = 5,
        stallCheckInterval: Double? = nil
    ) throws {
        var resolved: [Target] = []
        for target in targets where !resolved.contains(where: { $0.key == target.key }) {
            var secret: Data?
            if let path = target.secretFile {
                guard let data = FileManager.default.contents(atPath: path) else { throw NotificationError.secretUnreadable(path: path) }
                let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                guard !text.isEmpty else { throw NotificationError.secretUnreadable(path: path) }
                secret = Data(text.utf8)
            }
            resolved.append(Target(target: target, key: target.key, label: target.label, secret: secret))
        }
        self.targets = resolved
        self.store = store
        self.logger = logger
        self.policy = policy
        self.clock = clock
        self.idleInterval = idleInterval
        self.stallAfter = stallAfter.seconds
        self.stallCheckInterval = stallCheckInterval ?? min(60, max(0.05, stallAfter.seconds / 4))
        self.drainTime = drainTime
        let wakes = resolved.map(\.wake)
        store.configureNotifications(
            resolved.map { $0.target.route }, instance: instance ?? ProcessInfo.processInfo.hostName,
            onEnqueue: { for wake in wakes { wake.signal() } })
            }

    /// Runs until a graceful shutdown (then drains for a moment) or cancellation.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await runLoops()
        } onGracefulShutdown: {
            self.stop()
        }
    }

    /// Ends the loops: deliveries due now still go out for at most ``drainTime`` seconds, the rest wait for the
    /// next start.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        stopWake.signal()
        stallWake.signal()
        for target in targets { target.wake.signal() }
    }

    /// Wakes every target's loop (the store does so after writing deliveries).
    public func wake() {
        for target in targets { target.wake.signal() }
    }

    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// How long a node holds a delivery it is making: the attempt's time limit and a margin. A node that dies
    /// meanwhile leaves it to be made (again) once this has passed.
    static func lease(of target: Target) -> TimeInterval {
        target.target.timeout.seconds * 2 + 30
    }

    /// The delivery loops, the stall check and the shutdown's time limit; returns when all are done.
    public func runLoops() async {
        let removed = (try? await store.abandonDeliveries(exceptTargets: targets.map(\.key), at: clock())) ?? 0
        if removed > 0 {
            logger.warning("gave up \(removed) notification(s) for targets no longer in the configuration")
        }
        guard !targets.isEmpty else { return }
        if let pruned = try? await store.pruneDeliveries(before: clock().addingTimeInterval(-30 * 86400)), pruned > 0 {
            logger.info("removed \(pruned) notification(s) older than 30 days")
        }
        // Made here, not in `init`: a client must be shut down, and the service may fail between the two.
        var httpClient: HTTPClient?
        if targets.contains(where: { if case .url = $0.target.destination { true } else { false } }) {
            var configuration = HTTPClient.Configuration()
            // A webhook that redirects is answered as a failure, not followed (a POST must not turn into a GET).
            configuration.redirectConfiguration = .disallow
            httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        }
        let client = httpClient
        await withTaskGroup(of: Bool.self) { group in
            for target in targets {
                group.addTask {
                    await self.deliverLoop(target, client: client)
                    return false
                }
            }
            group.addTask {
                await self.stallLoop()
                return false
            }
            group.addTask {
                // The shutdown's time limit: once it is over, requests still under way are cancelled.
                while !self.isStopping, !Task.isCancelled { await self.stopWake.wait(timeout: 60) }
                try? await Task.sleep(for: .seconds(self.drainTime))
                return true
            }
            var loops = targets.count + 1
            while let isTimeLimit = await group.next() {
                if isTimeLimit { break }
                loops -= 1
                if loops == 0 { break }
            }
            group.cancelAll()
        }
        // The singleton event loop group stays; the client's connections are closed.
        try? await client?.shutdown()
    }

    // MARK: - Loops

    /// Delivers one target's events in order until stopped (then only those already due).
    private func deliverLoop(_ target: Target, client: HTTPClient?) async {
        while !Task.isCancelled {
            let now = clock()
            let next: StoredNotification?
            do {
                next = try await store.claimNotification(target: target.key, leaseFor: Self.lease(of: target), now: now)
            } catch {
                logger.error("notifications to \(target.label): cannot read the next one: \(error)")
                if isStopping { return }
                await target.wake.wait(timeout: idleInterval)
                continue
            }
            guard let row = next else {
                // Nothing due (or the oldest is with another node): sleep until the oldest is due or its lease ends.
                if isStopping { return }
                let due = (try? await store.nextNotificationAttempt(target: target.key)) ?? nil
                await target.wake.wait(timeout: due.map { min(idleInterval, max(0.01, $0.timeIntervalSince(now))) } ?? idleInterval)
                continue
            }
            let outcome = await deliver(row, to: target, client: client)
            if Task.isCancelled, case .failed = outcome {
                // Cut off by the shutdown: given back (not counted as an attempt), so the next start sends it at once
                // rather than after the claim's lease. Recorded outside this cancelled task.
                let store = self.store
                await Task {
                    try? await store.recordDeliveryFailed(row.rowID, attempts: row.attempts, error: "cut off by the shutdown", next: now, at: now)
                }.value
                return
            }
            if await !record(outcome, of: row, target: target) {
                // The database refused the outcome: wait rather than send the same event in a tight loop.
                await target.wake.wait(timeout: idleInterval)
            }
        }
    }

    /// Writes the attempt's outcome; false when the database refused it.
    private func record(_ outcome: DeliveryOutcome, of row: StoredNotification, target: Target) async -> Bool {
        let now = clock()
        let attempts = row.attempts + 1
        do {
            switch outcome {
            case .delivered:
                try await store.recordDelivered(row.rowID, attempts: attempts, at: now)
                logger.debug("notification \(row.type.rawValue) \(row.eventID) delivered to \(target.label)")
            case .failed(let reason):
                switch policy.afterFailure(attempts: attempts, createdAt: row.createdAt, now: now) {
                case .retry(let at):
                    try await store.recordDeliveryFailed(row.rowID, attempts: attempts, error: reason, next: at, at: now)
                    logger.warning(
                        "notification \(row.type.rawValue) to \(target.label) failed (\(reason)); trying again in \(Int(at.timeIntervalSince(now).rounded(.up))) s")
                case .abandon:
                    try await store.recordDeliveryFailed(row.rowID, attempts: attempts, error: reason, next: nil, at: now)
                    logger.warning(
                        "notification \(row.type.rawValue) \(row.eventID) to \(target.label) given up after \(attempts) attempts over \(Int(policy.giveUpAfter / 3600)) h; last error: \(reason)")
                }
            }
        } catch {
            logger.error("notifications to \(target.label): cannot record an attempt: \(error)")
            return false
        }
        return true
    }

    /// Looks for stalled jobs now and then, until stopped.
    private func stallLoop() async {
        var nextPrune = clock().addingTimeInterval(86400)
        while !isStopping, !Task.isCancelled {
            let now = clock()
            do {
                let stalled = try await store.checkStalled(after: stallAfter, now: now, limit: 100)
                if stalled > 0 { logger.warning("\(stalled) job(s) made no progress for \(Int(stallAfter / 60)) min") }
            } catch {
                logger.error("cannot look for stalled jobs: \(error)")
            }
            if now >= nextPrune {
                nextPrune = now.addingTimeInterval(86400)
                _ = try? await store.pruneDeliveries(before: now.addingTimeInterval(-30 * 86400))
            }
            await stallWake.wait(timeout: stallCheckInterval)
        }
    }
}

/// Why notifications cannot be set up; never holds a secret.
public enum NotificationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A target's `secret_file` cannot be read or is empty.
    case secretUnreadable(path: String)

    /// The error as one sentence.
    public var description: String {
        switch self {
        case .secretUnreadable(let path):
            "Cannot read the webhook secret file \(path) (or it is empty); check `notify.secret_file` and the file's owner."
        }
    }
}

/// What one attempt came to.
enum DeliveryOutcome: Sendable, Hashable {
    /// The receiver took it (2xx, or exit status 0).
    case delivered
    /// It did not; why, in words without secrets.
    case failed(String)
}
