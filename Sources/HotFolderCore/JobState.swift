// SPDX-License-Identifier: GPL-2.0-or-later

/// Where a job is in its life (DESIGN §4), stored in the state database by its raw value.
///
/// The happy path is `ready → (uploading) → submitting → submitted → running → downloading → done`.
/// Side exits: `invalid` (rejected before any money is spent), `failed` (with a category kept beside the state),
/// `uncertain` (a create call whose outcome is unknown; never resubmitted silently), `held` (budget or time
/// window) and `cancelled`. The legal moves are listed in ``transitions``; the store refuses any other.
/// What moves a job, and when, is decided by ``JobLifecycle``.
public enum JobState: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// Complete, valid and waiting in the queue.
    case ready
    /// Input images are being uploaded.
    case uploading
    /// Committed just before the create call: the outcome of that call is not known yet.
    case submitting
    /// The create call returned a task id.
    case submitted
    /// The remote task is running.
    case running
    /// The video is being downloaded into the outbox.
    case downloading
    /// The video, its metadata and log are in the outbox.
    case done
    /// The drop could not become a valid request; nothing was spent.
    case invalid
    /// The job failed; the category says why (transient, moderation, expired, …).
    case failed
    /// The create call may or may not have created a task (crash or timeout while `submitting`).
    case uncertain
    /// Waiting for a budget or a time window.
    case held
    /// Cancelled by an operator.
    case cancelled

    /// The raw value, as stored and shown.
    public var description: String { rawValue }

    /// Whether nothing more happens to the job by itself.
    ///
    /// Only an explicit retry moves a `failed` or `cancelled` job back to `ready`; `done` and `invalid` are final
    /// (an invalid drop is retried by moving its folder back into the inbox, which makes a new job).
    public var isTerminal: Bool {
        switch self {
        case .done, .invalid, .failed, .cancelled: true
        default: false
        }
    }

    /// Whether a node is working on the job (`uploading` … `downloading`): it holds a lease, and is taken over by
    /// another node when that lease ends.
    public var isWorking: Bool {
        switch self {
        case .uploading, .submitting, .submitted, .running, .downloading: true
        default: false
        }
    }

    /// Whether a remote task exists for the job and must be polled or downloaded (also after a restart).
    public var isInFlight: Bool {
        switch self {
        case .submitted, .running, .downloading: true
        default: false
        }
    }

    /// The states a job in this state may move to.
    public var successors: Set<JobState> {
        JobState.transitions[self] ?? []
    }

    /// Whether moving from this state to `next` is legal. Staying in the same state is not a transition.
    public func canTransition(to next: JobState) -> Bool {
        successors.contains(next)
    }

    /// Whether moving from `from` to `to` is legal.
    public static func isLegal(from: JobState, to: JobState) -> Bool {
        from.canTransition(to: to)
    }

    /// The transition table: for each state, the states it may move to.
    ///
    /// Every state that is not final may be `cancelled` or `failed` (a local error such as a missing input).
    /// `uploading` and `submitting` fall back to `ready` to retry after a transient error; `submitting` becomes
    /// `uncertain` when the create call's outcome is unknown, and `uncertain` goes back to `submitting` only when
    /// resubmission is allowed (or to `submitted` when the task is found after all).
    public static let transitions: [JobState: Set<JobState>] = [
        .ready: [.uploading, .submitting, .held, .invalid, .failed, .cancelled],
        .uploading: [.ready, .submitting, .held, .invalid, .failed, .cancelled],
        .submitting: [.submitted, .ready, .uncertain, .invalid, .failed, .cancelled],
        // A task that failed on the provider's side for a passing reason is retried as a new task.
        .submitted: [.running, .downloading, .ready, .failed, .cancelled],
        .running: [.downloading, .ready, .failed, .cancelled],
        .downloading: [.done, .failed, .cancelled],
        .done: [],
        .invalid: [],
        .failed: [.ready],
        .uncertain: [.submitting, .submitted, .ready, .failed, .cancelled],
        .held: [.ready, .failed, .cancelled],
        .cancelled: [.ready],
    ]
}
