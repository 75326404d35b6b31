// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import PostgresNIO

/// The notification outbox on PostgreSQL, with the semantics of SQLiteStateStore+Notifications.swift: a job's event
/// is written in its commit's transaction, one row per target that wants it; deliveries to one target go in the
/// order they were written. Several nodes take deliveries: a claim locks the target's oldest pending row with
/// `FOR UPDATE SKIP LOCKED` and leases it by moving its `next_attempt_at` to the lease's end, so no other node sends
/// it meanwhile, and it comes back by itself when the node sending it dies.
extension PostgresStateStore: NotificationOutbox {
    public func configureNotifications(
        _ routes: [NotificationRoute], instance: String, onEnqueue: (@Sendable () -> Void)? = nil
    ) {
        notificationRouting.configure(routes, instance: instance, onEnqueue: onEnqueue)
    }

    @discardableResult
    public func recordNotification(
        type: NotificationEventType, fields: [String: NotificationField], job: NotificationPayload.Job?
    ) async throws -> String? {
        let routing = notificationRouting.current
        let payload = NotificationPayload(type: type, time: clock(), instance: routing.instance, job: job, fields: fields)
        guard routing.routes.contains(where: { $0.filter.accepts(type) }) else {
            liveFeed.publish(payload)
            return nil
        }
        let wrote = try await transaction("record a \(type.rawValue) notification") { connection in
            try await self.insertNotification(connection, payload, routing)
        }
        announce(AfterCommit(payloads: [payload], wroteDeliveries: wrote), routing)
        return payload.id
    }

    public func claimNotification(target: String, leaseFor: TimeInterval, now: Date) async throws -> StoredNotification? {
        let until = now.addingTimeInterval(leaseFor).timeIntervalSince1970
        return try await transaction("claim a notification") { connection in
            // The head only, due and not locked by another claim: skipping to the next row would send it first.
            // FOR UPDATE re-checks `next_attempt_at` on the newest row version, so a head another node claimed or
            // delivered since this statement's snapshot is not taken again.
            guard
                var head = try await self.rows(
                    connection,
                    """
                    SELECT \(unescaped: Self.notificationColumns) FROM notification
                    WHERE id = (SELECT min(id) FROM notification WHERE target = \(target) AND next_attempt_at IS NOT NULL)
                        AND next_attempt_at <= \(now.timeIntervalSince1970)
                    FOR UPDATE SKIP LOCKED
                    """
                ).first.map(Self.decodeNotification)
            else { return nil }
            try await connection.query(
                "UPDATE notification SET next_attempt_at = \(until) WHERE id = \(head.rowID)", logger: self.logger)
            head.nextAttemptAt = Date(timeIntervalSince1970: until)
            return head
        }
    }

    public func nextNotificationAttempt(target: String) async throws -> Date? {
        try await call("read the next notification time") { connection in
            try await self.rows(
                connection,
                """
                SELECT next_attempt_at FROM notification WHERE target = \(target) AND next_attempt_at IS NOT NULL
                ORDER BY id LIMIT 1
                """
            ).first.map { Date(timeIntervalSince1970: try $0[0].decode(Double.self)) }
        }
    }

    public func recordDelivered(_ rowID: Int64, attempts: Int, at time: Date) async throws {
        try await call("record a delivered notification") { connection in
            try await connection.query(
                """
                UPDATE notification SET attempts = \(attempts), delivered_at = \(time.timeIntervalSince1970),
                    next_attempt_at = NULL
                WHERE id = \(rowID)
                """, logger: self.logger)
        }
    }

    public func recordDeliveryFailed(_ rowID: Int64, attempts: Int, error: String, next: Date?, at time: Date) async throws {
        let abandoned = next == nil ? time.timeIntervalSince1970 : nil
        try await call("record a failed notification") { connection in
            try await connection.query(
                """
                UPDATE notification SET attempts = \(attempts), last_error = \(String(error.prefix(500))),
                    next_attempt_at = \(next?.timeIntervalSince1970), abandoned_at = \(abandoned)
                WHERE id = \(rowID)
                """, logger: self.logger)
        }
    }

    @discardableResult
    public func abandonDeliveries(exceptTargets targets: [String], at time: Date) async throws -> Int {
        try await call("give up notifications of removed targets") { connection in
            try await self.execute(
                connection,
                """
                UPDATE notification SET next_attempt_at = NULL, abandoned_at = \(time.timeIntervalSince1970),
                    last_error = 'the target is no longer configured'
                WHERE next_attempt_at IS NOT NULL AND NOT (target = ANY(\(targets)))
                RETURNING id
                """)
        }
    }

    @discardableResult
    public func pruneDeliveries(before cutoff: Date) async throws -> Int {
        try await transaction("prune old notifications") { connection in
            let deleted = try await self.execute(
                connection,
                """
                DELETE FROM notification WHERE next_attempt_at IS NULL AND created_at < \(cutoff.timeIntervalSince1970)
                RETURNING id
                """)
            // The stalls told before then go too, as in SQLite.
            try await connection.query(
                "DELETE FROM notification_stall WHERE at < \(cutoff.timeIntervalSince1970)", logger: self.logger)
            return deleted
        }
    }

    public func deliveryCounts() async throws -> [NotificationCounts] {
        try await call("count notifications") { connection in
            try await self.rows(
                connection,
                """
                SELECT target, MAX(label), COUNT(next_attempt_at), COUNT(abandoned_at)
                FROM notification GROUP BY target ORDER BY MAX(label), target
                """
            ).map { row in
                NotificationCounts(
                    target: try row[0].decode(String.self), label: try row[1].decode(String.self),
                    pending: try row[2].decode(Int.self), abandoned: try row[3].decode(Int.self))
            }
        }
    }

    public func deliveries(eventID: String?) async throws -> [StoredNotification] {
        try await call("list notifications") { connection in
            try await self.rows(
                connection,
                """
                SELECT \(unescaped: Self.notificationColumns) FROM notification
                WHERE \(eventID)::text IS NULL OR event_id = \(eventID) ORDER BY id
                """
            ).map(Self.decodeNotification)
        }
    }
}
