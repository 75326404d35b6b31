// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import PostgresNIO

/// What a transaction writes into the outbox, and what it tells this node once it commits: SQLite's
/// `publishAfterCommit`, for a store whose transactions are async closures. A transaction collects the events in an
/// ``AfterCommit`` it returns; the caller hands it to ``announce(_:_:)`` only after `COMMIT` succeeded, so the live
/// feed never shows a change that rolled back, and the dispatcher is never woken before its delivery is visible.
extension PostgresStateStore {
    /// Events a transaction made, told after it commits.
    struct AfterCommit: Sendable {
        /// Notification payloads for the live feed.
        var payloads: [NotificationPayload] = []
        /// Job changes for the live feed (`job.state`).
        var changes: [LiveJobChange] = []
        /// Whether delivery rows were written (the dispatcher is woken).
        var wroteDeliveries = false
    }

    /// Publishes a committed transaction's events and wakes the dispatcher when it wrote deliveries.
    func announce(_ after: AfterCommit, _ routing: NotificationRouting.State) {
        for payload in after.payloads { liveFeed.publish(payload) }
        for change in after.changes { liveFeed.publish(name: "job.state") { change.json } }
        if after.wroteDeliveries, let onEnqueue = routing.onEnqueue { onEnqueue() }
    }

    static let notificationColumns = """
        id, event_id, type, target, label, body, created_at, attempts, next_attempt_at, delivered_at, abandoned_at, \
        last_error
        """

    static func decodeNotification(_ row: PostgresRandomAccessRow) throws -> StoredNotification {
        let type = try row[2].decode(String.self)
        guard let eventType = NotificationEventType(rawValue: type) else {
            throw StateStoreError.corruptRow(table: "notification", column: "type", value: type)
        }
        func date(_ index: Int) throws -> Date? {
            try row[index].decode(Double?.self).map(Date.init(timeIntervalSince1970:))
        }
        return StoredNotification(
            rowID: try row[0].decode(Int64.self), eventID: try row[1].decode(String.self), type: eventType,
            target: try row[3].decode(String.self), label: try row[4].decode(String.self),
            body: try row[5].decode(Data?.self) ?? Data(),
            createdAt: Date(timeIntervalSince1970: try row[6].decode(Double.self)), attempts: try row[7].decode(Int.self),
            nextAttemptAt: try date(8), deliveredAt: try date(9), abandonedAt: try date(10),
            lastError: try row[11].decode(String?.self))
    }

    /// Inside a transaction: one delivery row per target that wants `payload`; true when any was written.
    func insertNotification(
        _ connection: PostgresConnection, _ payload: NotificationPayload, _ routing: NotificationRouting.State
    ) async throws -> Bool {
        let body = try payload.encoded()
        let time = payload.time.timeIntervalSince1970
        var wrote = false
        for route in routing.routes where route.filter.accepts(payload.type) {
            try await connection.query(
                """
                INSERT INTO notification (event_id, type, target, label, body, created_at, attempts, next_attempt_at)
                VALUES (\(payload.id), \(payload.type.rawValue), \(route.key), \(route.label), \(body), \(time), 0, \(time))
                """, logger: logger)
            wrote = true
        }
        return wrote
    }

    /// Inside a commit: writes the job event its move into `state` causes, for every target that wants it, and
    /// collects it and the job's change for the live feed.
    func enqueueJobNotification(
        _ connection: PostgresConnection, _ job: StoredJob, to state: JobState, now: Date,
        routing: NotificationRouting.State, into after: inout AfterCommit
    ) async throws {
        if liveFeed.hasSubscribers {
            after.changes.append(
                LiveJobChange(id: job.id.lowercasedString, name: job.name, lane: job.lane, state: job.state.rawValue))
        }
        guard let type = NotificationEventType.forTransition(to: state) else { return }
        let wanted = routing.routes.contains(where: { $0.filter.accepts(type) })
        guard wanted || liveFeed.hasSubscribers else { return }
        // What its create calls spent or still reserve (settled at the billed figure); none: the estimate.
        let recorded = try await rows(
            connection, "SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM spend WHERE job_id = \(job.id)")
        var spent: Double?
        if let row = recorded.first, try row[0].decode(Int.self) > 0 { spent = try row[1].decode(Double.self) }
        let payload = NotificationPayload(
            type: type, time: now, instance: routing.instance, job: SQLiteStateStore.notificationJob(job, cost: spent))
        after.payloads.append(payload)
        if wanted, try await insertNotification(connection, payload, routing) { after.wroteDeliveries = true }
    }
}
