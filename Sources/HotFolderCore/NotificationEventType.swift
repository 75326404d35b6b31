// SPDX-License-Identifier: GPL-2.0-or-later

/// What a notification is about (DESIGN §7 "Telling people"): the `type` of its payload and of the
/// `X-Hotfolder-Event` header.
public enum NotificationEventType: String, Sendable, Hashable, Codable, CaseIterable {
    /// A job's video, metadata and log are in the outbox.
    case jobDone = "job.done"
    /// A job failed (an invalid drop too, with the category `invalid`).
    case jobFailed = "job.failed"
    /// A job's create call has an unknown outcome: it may have been billed.
    case jobUncertain = "job.uncertain"
    /// A budget or time window holds a job.
    case jobHeld = "job.held"
    /// A job in flight made no progress for `stall_after`.
    case jobStalled = "job.stalled"
    /// The queue paused: the API refused the key or the balance ran out.
    case queuePaused = "queue.paused"
    /// The queue works again.
    case queueResumed = "queue.resumed"
    /// A budget crossed one of its warning thresholds.
    case budgetThreshold = "budget.threshold"
    /// A budget is spent: jobs are held until it resets.
    case budgetExhausted = "budget.exhausted"
    /// The morning report was written.
    case reportReady = "report.ready"
    /// The inbox (or the share it lives on) went away.
    case watchUnreachable = "watch.unreachable"
    /// The service started.
    case serviceStarted = "service.started"
    /// The service is stopping.
    case serviceStopping = "service.stopping"

    /// Whether the event concerns one job (and its payload carries a `job` object).
    public var isJobEvent: Bool { rawValue.hasPrefix("job.") }

    /// The event a job's move into `state` causes, if any.
    public static func forTransition(to state: JobState) -> NotificationEventType? {
        switch state {
        case .done: .jobDone
        case .failed, .invalid: .jobFailed
        case .uncertain: .jobUncertain
        case .held: .jobHeld
        default: nil
        }
    }
}
