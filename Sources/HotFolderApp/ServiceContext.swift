// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Logging

/// What every part of the running service shares: folders, the store, the API, the rules and the log.
struct ServiceContext: Sendable {
    /// The inbox, absolute.
    let inbox: String
    /// Service folders inside the inbox (relative), never planned or watched.
    let excludedRelative: [String]
    let store: SQLiteStateStore
    let outbox: OutboxWriter
    let api: any VideoAPI
    let planner: DropPlanner
    let configuration: ServiceConfiguration
    let logger: Logger
    /// Seconds to wait after the last ready file before planning, so files dropped together form one job.
    let groupSettle: Double
    /// Told about every job outcome (tests and the demo listen to it).
    let observer: @Sendable (ServiceEvent) -> Void
    /// Wakes the dispatcher: new jobs, a free slot, a job back in the queue.
    let dispatchWake = WakeSignal()
    /// Wakes the poller: a new task to watch.
    let pollWake = WakeSignal()
    /// Makes each video's poster `<name>.jpg` (ffmpeg, looked up once).
    let posters = PosterMaker()

    /// Tells the dispatcher (and listeners) that jobs were queued.
    func jobsQueued() {
        dispatchWake.signal()
    }

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

extension Duration {
    /// The duration in seconds as a Double.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
