// SPDX-License-Identifier: GPL-2.0-or-later

/// What kind of failure a video API call ended in, which decides what the service does next.
///
/// The categories come from issue 4: the service pauses the queue for `auth` and `quota`, backs off for
/// `rateLimited` and `transient`, and fails the job for `invalidRequest`, `moderation` and `expired`.
public enum APIErrorCategory: Sendable, Hashable, Codable {
    /// The key was refused (401/403): pause everything and tell the operator.
    case auth
    /// The account has no balance or quota left (402, "insufficient balance"): pause the queue.
    case quota
    /// Too many requests (429); `retryAfter` is the server's `Retry-After` in seconds when it sent one.
    case rateLimited(retryAfter: Double?)
    /// Timeouts, connection errors, 408, 5xx, malformed answers: retry with bounded exponential backoff.
    case transient
    /// The server rejected the request (400/422): fail the job with the server's message.
    case invalidRequest
    /// A sensitive-content failure: fail the job and never retry the same input.
    case moderation
    /// The result URL is gone: the video can no longer be downloaded.
    case expired

    /// What the service should do about a failure of this category.
    public var action: APIErrorAction {
        switch self {
        case .auth, .quota: .pauseQueue
        case .rateLimited(let retryAfter): .retry(notBeforeSeconds: retryAfter)
        case .transient: .retry(notBeforeSeconds: nil)
        case .invalidRequest, .moderation, .expired: .failJob
        }
    }

    /// Whether the same call may be tried again later.
    public var isRetryable: Bool {
        if case .retry = action { return true }
        return false
    }

    /// Whether the failure concerns the account rather than the job, so the whole queue should pause.
    public var pausesQueue: Bool { action == .pauseQueue }

    /// A short stable name for logs, error files and the database (`rate_limited`, …).
    public var name: String {
        switch self {
        case .auth: "auth"
        case .quota: "quota"
        case .rateLimited: "rate_limited"
        case .transient: "transient"
        case .invalidRequest: "invalid_request"
        case .moderation: "moderation"
        case .expired: "expired"
        }
    }
}

/// The reaction the service owes an API failure.
public enum APIErrorAction: Sendable, Hashable {
    /// Stop submitting until an operator fixes the account (key or balance).
    case pauseQueue
    /// Try again with exponential backoff and jitter, never sooner than `notBeforeSeconds` when given.
    case retry(notBeforeSeconds: Double?)
    /// Give up on this job and report the reason.
    case failJob
}
