// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// Where a task on the video API stands, the same for every provider.
public enum RemoteTaskStatus: Sendable, Hashable, Codable {
    /// Accepted and waiting for a worker (gateway `pending`/`submitted`, Ark `queued`).
    case queued
    /// Being generated; `progress` is 0–100 when the provider reports it.
    case running(progress: Int?)
    /// Done; the video can be fetched from `videoURL` until `expiresAt` (when the provider says).
    case succeeded(videoURL: String, expiresAt: Date?)
    /// The provider gave up; `category` says whether another attempt makes sense.
    case failed(category: APIErrorCategory, message: String)
    /// Cancelled by a user.
    case cancelled
    /// The task (or its result) outlived the provider's retention.
    case expired

    /// Whether the task will not change any more.
    public var isTerminal: Bool {
        switch self {
        case .queued, .running: false
        case .succeeded, .failed, .cancelled, .expired: true
        }
    }

    /// A short stable name for logs and the database (`queued`, `running`, `succeeded`, …).
    public var name: String {
        switch self {
        case .queued: "queued"
        case .running: "running"
        case .succeeded: "succeeded"
        case .failed: "failed"
        case .cancelled: "cancelled"
        case .expired: "expired"
        }
    }
}

/// One answer to "how is task X doing?": the status plus the provider's estimate when it gives one.
public struct RemoteTask: Sendable, Hashable, Codable {
    /// The provider's task id (`task_01K…` on the gateway, `cgt-…` on Ark).
    public var id: String
    /// Where the task stands.
    public var status: RemoteTaskStatus
    /// The provider's `estimated_time` in seconds, when given.
    public var estimatedSeconds: Int?
    /// The output tokens the provider billed (Ark's `usage.completion_tokens`), once it says.
    public var completionTokens: Int?

    /// Creates a snapshot.
    public init(id: String, status: RemoteTaskStatus, estimatedSeconds: Int? = nil, completionTokens: Int? = nil) {
        self.id = id
        self.status = status
        self.estimatedSeconds = estimatedSeconds
        self.completionTokens = completionTokens
    }
}
