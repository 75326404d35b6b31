// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

/// The notification outbox: events written with the change that caused them, then delivered at least once to each
/// target that wants them, by whichever node takes the delivery.
///
/// A job's event (`job.done`, `job.failed`, …) is written by ``LifecycleWriting/commit(_:_:lease:outputPath:task:budget:)``
/// in the commit's own transaction, one row per configured target whose filter accepts it: a commit that fails (its
/// lease lost, its state moved on) writes none. The names differ from ``SQLiteStateStore``'s synchronous methods
/// (`nextNotification(target:)`, …) so that a call never resolves to the blocking one by accident.
public protocol NotificationOutbox: Sendable {
    /// Sets the targets deliveries are written for, the `instance` named in every payload, and a function called
    /// after each transaction that wrote deliveries (it wakes this node's dispatcher). Call once, at start, on every
    /// node with the same routes.
    func configureNotifications(_ routes: [NotificationRoute], instance: String, onEnqueue: (@Sendable () -> Void)?)

    /// Writes a service-level event (`queue.paused`, `budget.threshold`, …) for every target that wants it, in one
    /// transaction; returns the event's id, or nil when no target wants it (nothing was written).
    @discardableResult
    func recordNotification(
        type: NotificationEventType, fields: [String: NotificationField], job: NotificationPayload.Job?
    ) async throws -> String?

    /// Takes the oldest delivery still to make to `target` when it is due at `now`, leasing it until
    /// `now + leaseFor`: no other node gets it meanwhile, and it comes back by itself once the lease ends (a node
    /// that died while sending it). Nil when nothing is due, or when the oldest is being sent by another node:
    /// deliveries to one target go in the order they were written, so a later one never overtakes it.
    func claimNotification(target: String, leaseFor: TimeInterval, now: Date) async throws -> StoredNotification?

    /// When the oldest delivery still to make to `target` is due (or its lease ends), nil when none is left: how
    /// long the dispatcher may sleep.
    func nextNotificationAttempt(target: String) async throws -> Date?

    /// Records that the target took the delivery (the last failure, if any, stays for the record).
    func recordDelivered(_ rowID: Int64, attempts: Int, at time: Date) async throws

    /// Records a failed attempt: tried again at `next`, or abandoned at `time` when `next` is nil.
    func recordDeliveryFailed(_ rowID: Int64, attempts: Int, error: String, next: Date?, at time: Date) async throws

    /// Gives up the deliveries still to make to targets not in `targets` (they would wait forever); returns how many.
    @discardableResult
    func abandonDeliveries(exceptTargets targets: [String], at time: Date) async throws -> Int

    /// Deletes delivered and abandoned deliveries written before `cutoff`; returns how many.
    @discardableResult
    func pruneDeliveries(before cutoff: Date) async throws -> Int

    /// Deliveries still to make and given up, per target, for `status`.
    func deliveryCounts() async throws -> [NotificationCounts]

    /// Every delivery of an event, or of all events when `eventID` is nil, oldest first (for tests and tools).
    func deliveries(eventID: String?) async throws -> [StoredNotification]
}

/// Forgets old history so the database stops growing with every job ever made.
public protocol HistoryPruning: Sendable {
    /// Deletes at most `limit` finished jobs (`done`, `invalid`, `failed`, `cancelled`) last changed before `cutoff`
    /// whose inputs are no longer held and whose disposal is finished, oldest first, with their inputs, tasks,
    /// events and spend; returns how many jobs went. Call again while it returns `limit`: each call is one short
    /// transaction, so a large backlog never holds the writers up for long.
    ///
    /// Deliveries are not a job's history: they go with ``NotificationOutbox/pruneDeliveries(before:)``.
    ///
    /// - Parameter now: the time expired cached uploads are measured against (SQLite's upload cache).
    @discardableResult
    func pruneHistory(before cutoff: Date, now: Date, limit: Int) async throws -> Int
}
