// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// Why the queue is paused (the API refused the key, or the balance ran out), shared by every node.
public struct QueuePauseRecord: Sendable, Hashable, Codable {
    /// `auth` or `quota`.
    public var category: String
    /// What the operator reads (never the key itself).
    public var reason: String
    /// When the pause began.
    public var since: Date
    /// When one job may next be let through to find out whether the account works again.
    public var nextProbe: Date

    /// Creates a pause record.
    public init(category: String, reason: String, since: Date, nextProbe: Date) {
        self.category = category
        self.reason = reason
        self.since = since
        self.nextProbe = nextProbe
    }
}

/// The queue's pause, one for all nodes: a refused key or an empty balance stops every node's create calls, one job
/// at a time probes whether the account works again, and the node whose job gets through resumes the queue for all.
public protocol QueueControl: Sendable {
    /// The pause in force, or nil while the queue runs.
    func queuePause() async throws -> QueuePauseRecord?

    /// Pauses the queue for every node. A pause already in force keeps its `since` and takes the new reason and next
    /// probe. Returns true when the queue was running (the caller announces the pause: once, whichever node).
    @discardableResult
    func pauseQueue(_ pause: QueuePauseRecord) async throws -> Bool

    /// Ends the pause; returns it, or nil when the queue was running (another node ended it and announced it).
    @discardableResult
    func resumeQueue() async throws -> QueuePauseRecord?

    /// When the queue is paused and its next probe is due at `now`, moves the next probe to `next` and returns true:
    /// this node lets one job through. Two nodes asking at once get one true.
    func takeProbe(now: Date, next: Date) async throws -> Bool
}
