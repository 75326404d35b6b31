// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore

/// The embedded store as a ``NotificationOutbox`` and ``HistoryPruning``: the synchronous methods of
/// SQLiteStateStore+Notifications.swift and +Holds.swift, run on the blocking thread pool.
///
/// A claim's lease is the delivery's `nextAttemptAt` moved to the lease's end, in the claim's (immediate, so
/// serialised) write transaction: no schema change, and a delivery whose sender died comes back when it ends.
extension SQLiteStateStore: NotificationOutbox, HistoryPruning {
    @discardableResult
    public func recordNotification(
        type: NotificationEventType, fields: [String: NotificationField], job: NotificationPayload.Job?
    ) async throws -> String? {
        try await Blocking.run { try self.enqueueNotification(type: type, fields: fields, job: job) }
    }

    public func claimNotification(target: String, leaseFor: TimeInterval, now: Date) async throws -> StoredNotification? {
        try await Blocking.run {
            try self.write("claim a notification") { db in
                guard var head = try Self.oldestPendingNotification(db, target: target),
                    let due = head.nextAttemptAt, due <= now
                else { return nil }
                head.nextAttemptAt = now.addingTimeInterval(leaseFor)
                try db.cachedStatement(sql: "UPDATE notification SET nextAttemptAt = ? WHERE id = ?")
                    .execute(arguments: [Self.seconds(head.nextAttemptAt), head.rowID])
                return head
            }
        }
    }

    public func nextNotificationAttempt(target: String) async throws -> Date? {
        try await Blocking.run { try self.nextNotification(target: target)?.nextAttemptAt }
    }

    public func recordDelivered(_ rowID: Int64, attempts: Int, at time: Date) async throws {
        try await Blocking.run { try self.markNotificationDelivered(rowID, attempts: attempts, at: time) }
    }

    public func recordDeliveryFailed(_ rowID: Int64, attempts: Int, error: String, next: Date?, at time: Date) async throws {
        try await Blocking.run {
            try self.markNotificationFailed(rowID, attempts: attempts, error: error, next: next, at: time)
        }
    }

    @discardableResult
    public func abandonDeliveries(exceptTargets targets: [String], at time: Date) async throws -> Int {
        try await Blocking.run { try self.abandonNotifications(exceptTargets: targets, at: time) }
    }

    @discardableResult
    public func pruneDeliveries(before cutoff: Date) async throws -> Int {
        try await Blocking.run { try self.pruneNotifications(before: cutoff) }
    }

    public func deliveryCounts() async throws -> [NotificationCounts] {
        try await Blocking.run { try self.notificationCounts() }
    }

    public func deliveries(eventID: String?) async throws -> [StoredNotification] {
        try await Blocking.run { try self.notifications(eventID: eventID) }
    }

    @discardableResult
    public func pruneHistory(before cutoff: Date, now: Date, limit: Int) async throws -> Int {
        try await Blocking.run { try self.pruneHistory(before: cutoff, now: Optional(now), limit: limit) }
    }

    /// The oldest delivery still to make to `target`, due or not.
    static func oldestPendingNotification(_ db: Database, target: String) throws -> StoredNotification? {
        try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT \(notificationColumns) FROM notification INDEXED BY notification_pending
                    WHERE target = ? AND nextAttemptAt IS NOT NULL ORDER BY id LIMIT 1
                    """),
            arguments: [target]
        ).map(decodeNotification)
    }
}
