// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore

/// Notifications are written to the database with the state change that caused them (a job's move into
/// `done`, `failed`, `uncertain`, `held`; an invalid drop), one row per event and target, then delivered at least
/// once by the service. With no target configured nothing is written and a commit costs nothing extra.
extension SQLiteStateStore {
    /// Sets the targets deliveries are written for, the `instance` name in every payload, and a function called
    /// after each transaction that wrote deliveries (it wakes the dispatcher). Call once, at start.
    public func configureNotifications(
        _ routes: [NotificationRoute], instance: String, onEnqueue: (@Sendable () -> Void)? = nil
    ) {
        notificationRouting.configure(routes, instance: instance, onEnqueue: onEnqueue)
    }

    /// The targets deliveries are written for.
    public var notificationRoutes: [NotificationRoute] { notificationRouting.current.routes }

    /// Writes a service-level event (`queue.paused`, `budget.threshold`, `report.ready`, …) for every target that
    /// wants it, in one transaction.
    ///
    /// - Parameters:
    ///   - fields: the event's details, as top-level keys of the payload (`["budget": "daily", "spent": 12.5]`).
    ///   - job: the job object, for `job.*` events raised outside a commit.
    /// - Returns: the event's id, or nil when no target wants it (nothing was written).
    @discardableResult
    public func enqueueNotification(
        type: NotificationEventType, fields: [String: NotificationField] = [:], job: NotificationPayload.Job? = nil
    ) throws -> String? {
        let routing = notificationRouting.current
        let payload = NotificationPayload(type: type, time: clock(), instance: routing.instance, job: job, fields: fields)
        liveFeed.publish(payload)
        guard routing.routes.contains(where: { $0.filter.accepts(type) }) else { return nil }
        try write("record a \(type.rawValue) notification") { db in
            try insertNotification(db, payload, routing)
        }
        return payload.id
    }

    /// Inside a transaction (a budget reservation, say): writes a service-level or job event with the change
    /// that caused it, for every target that wants it. Returns the event's id, or nil when no target wants it.
    @discardableResult
    func enqueueNotification(
        in db: Database, type: NotificationEventType, fields: [String: NotificationField] = [:],
        job: NotificationPayload.Job? = nil, now: Date
    ) throws -> String? {
        let routing = notificationRouting.current
        let payload = NotificationPayload(type: type, time: now, instance: routing.instance, job: job, fields: fields)
        publishAfterCommit(db) { $0.publish(payload) }
        guard routing.routes.contains(where: { $0.filter.accepts(type) }) else { return nil }
        try insertNotification(db, payload, routing)
        return payload.id
    }

    /// Inside a commit: writes the job event its move into `state` causes, if any target wants it.
    ///
    /// - Parameter cost: the job's cost in US dollars; nil uses the estimate of its description.
    func enqueueJobNotification(_ db: Database, _ job: StoredJob, to state: JobState, cost: Double? = nil, now: Date) throws {
        guard let type = NotificationEventType.forTransition(to: state) else { return }
        let routing = notificationRouting.current
        let wanted = routing.routes.contains(where: { $0.filter.accepts(type) })
        guard wanted || liveFeed.hasSubscribers else { return }
        // What its create calls spent or still reserve (settled at the billed figure); none: the estimate.
        let recorded = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM spend WHERE jobId = ?"),
            arguments: [job.id.lowercasedString])
        let spent: Double? = (recorded?[0] as Int? ?? 0) > 0 ? recorded?[1] : nil
        guard wanted else {
            // Only the live feed wants it: the payload (which decodes the job's whole description) is built when a
            // client takes the event, off this writer thread, and not at all for events a burst pushes out unread.
            let (id, instance) = (UUID().uuidString.lowercased(), routing.instance)
            publishAfterCommit(db) { feed in
                feed.publish(type: type) {
                    NotificationPayload(
                        id: id, type: type, time: now, instance: instance, job: Self.notificationJob(job, cost: cost ?? spent))
                }
            }
            return
        }
        let payload = NotificationPayload(
            type: type, time: now, instance: routing.instance, job: Self.notificationJob(job, cost: cost ?? spent))
        publishAfterCommit(db) { $0.publish(payload) }
        try insertNotification(db, payload, routing)
    }

    /// The payload's job object for a stored job.
    ///
    /// - Parameter cost: the settled cost when known; nil uses the estimate of the job's description.
    public static func notificationJob(_ job: StoredJob, cost: Double? = nil) -> NotificationPayload.Job {
        let facts = try? JSONDecoder().decode(SpecFacts.self, from: job.specJSON)
        var error: NotificationPayload.Failure?
        if job.state == .invalid {
            error = NotificationPayload.Failure(category: "invalid", message: job.failureMessage ?? "")
        } else if let category = job.failureCategory {
            error = NotificationPayload.Failure(category: category, message: job.failureMessage ?? "")
        }
        return NotificationPayload.Job(
            id: job.id.lowercasedString, name: job.name, lane: job.lane, state: job.state.rawValue,
            model: facts?.request?.model, prompt: facts?.request?.prompt, cost: cost ?? facts?.estimate?.cost,
            video: job.state == .done ? job.outputPath.map { $0 + ".mp4" } : nil, error: error)
    }

    /// The few fields of a stored job description a notification shows (the rest is not decoded).
    private struct SpecFacts: Decodable {
        struct Request: Decodable {
            var model: String?
            var prompt: String?
        }
        struct Estimate: Decodable {
            var cost: Double?
        }
        var request: Request?
        var estimate: Estimate?
    }

    func insertNotification(_ db: Database, _ payload: NotificationPayload, _ routing: NotificationRouting.State) throws {
        let body = try payload.encoded()
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO notification (eventId, type, target, label, body, createdAt, attempts, nextAttemptAt)
                VALUES (?, ?, ?, ?, ?, ?, 0, ?)
                """)
        var wrote = false
        for route in routing.routes where route.filter.accepts(payload.type) {
            let time = payload.time.timeIntervalSince1970
            try insert.execute(arguments: [payload.id, payload.type.rawValue, route.key, route.label, body, time, time])
            wrote = true
        }
        // After the commit, never before: a dispatcher woken earlier would find nothing and sleep.
        if wrote, let onEnqueue = routing.onEnqueue {
            db.afterNextTransaction(onCommit: { _ in onEnqueue() })
        }
    }

    // MARK: - Delivery

    static let notificationColumns = """
        id, eventId, type, target, label, body, createdAt, attempts, nextAttemptAt, deliveredAt, abandonedAt, lastError
        """

    static func decodeNotification(_ row: Row) throws -> StoredNotification {
        let type: String = row[2]
        guard let eventType = NotificationEventType(rawValue: type) else {
            throw StateStoreError.corruptRow(table: "notification", column: "type", value: type)
        }
        return StoredNotification(
            rowID: row[0], eventID: row[1], type: eventType, target: row[3], label: row[4], body: row[5] ?? Data(),
            createdAt: date(row[6]), attempts: row[7], nextAttemptAt: optionalDate(row[8]),
            deliveredAt: optionalDate(row[9]), abandonedAt: optionalDate(row[10]), lastError: row[11])
    }

    /// The oldest delivery still to make to `target` (deliveries to one target go in the order they were written),
    /// due or not.
    public func nextNotification(target: String) throws -> StoredNotification? {
        try read("read the next notification") { db in
            try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT \(Self.notificationColumns) FROM notification INDEXED BY notification_pending
                        WHERE target = ? AND nextAttemptAt IS NOT NULL ORDER BY id LIMIT 1
                        """),
                arguments: [target]
            ).map(Self.decodeNotification)
        }
    }

    /// Records that the target took the delivery (the last failure, if any, stays for the record).
    public func markNotificationDelivered(_ rowID: Int64, attempts: Int, at time: Date) throws {
        try write("record a delivered notification") { db in
            try db.cachedStatement(
                sql: "UPDATE notification SET attempts = ?, deliveredAt = ?, nextAttemptAt = NULL WHERE id = ?"
            ).execute(arguments: [attempts, time.timeIntervalSince1970, rowID])
        }
    }

    /// Records a failed attempt: tried again at `next`, or abandoned at `time` when `next` is nil.
    public func markNotificationFailed(_ rowID: Int64, attempts: Int, error: String, next: Date?, at time: Date) throws {
        try write("record a failed notification") { db in
            try db.cachedStatement(
                sql: "UPDATE notification SET attempts = ?, lastError = ?, nextAttemptAt = ?, abandonedAt = ? WHERE id = ?"
            ).execute(arguments: [
                attempts, String(error.prefix(500)), Self.seconds(next), next == nil ? time.timeIntervalSince1970 : nil, rowID,
            ])
        }
    }

    /// Gives up the deliveries still to make to targets no longer configured (they would wait forever).
    /// - Returns: how many were given up.
    @discardableResult
    public func abandonNotifications(exceptTargets targets: [String], at time: Date) throws -> Int {
        try write("give up notifications of removed targets") { db in
            try db.execute(
                sql: """
                    UPDATE notification SET nextAttemptAt = NULL, abandonedAt = ?,
                        lastError = 'the target is no longer configured'
                    WHERE nextAttemptAt IS NOT NULL AND target NOT IN \(Self.list(targets))
                    """,
                arguments: [time.timeIntervalSince1970])
            return db.changesCount
        }
    }

    /// Every delivery of an event, or of all events when `eventID` is nil, oldest first (for tests and tools).
    public func notifications(eventID: String? = nil) throws -> [StoredNotification] {
        try read("list notifications") { db in
            if let eventID {
                return try Row.fetchAll(
                    db, sql: "SELECT \(Self.notificationColumns) FROM notification WHERE eventId = ? ORDER BY id",
                    arguments: [eventID]
                ).map(Self.decodeNotification)
            }
            return try Row.fetchAll(db, sql: "SELECT \(Self.notificationColumns) FROM notification ORDER BY id")
                .map(Self.decodeNotification)
        }
    }

    /// Deliveries still to make and given up, per target, for `status`.
    public func notificationCounts() throws -> [NotificationCounts] {
        try read("count notifications") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT target, MAX(label), SUM(nextAttemptAt IS NOT NULL), SUM(abandonedAt IS NOT NULL)
                    FROM notification GROUP BY target ORDER BY MAX(label), target
                    """
            ).map { row in NotificationCounts(target: row[0], label: row[1], pending: row[2], abandoned: row[3]) }
        }
    }

    /// Deletes delivered and abandoned deliveries older than `cutoff`.
    /// - Returns: how many were deleted.
    @discardableResult
    public func pruneNotifications(before cutoff: Date) throws -> Int {
        try write("prune old notifications") { db in
            try db.execute(
                sql: "DELETE FROM notification WHERE nextAttemptAt IS NULL AND createdAt < ?",
                arguments: [cutoff.timeIntervalSince1970])
            let deleted = db.changesCount
            try db.execute(sql: "DELETE FROM notificationStall WHERE at < ?", arguments: [cutoff.timeIntervalSince1970])
            return deleted
        }
    }

    // MARK: - Stalled jobs

    /// Writes a `job.stalled` event for each job in flight (uploading to downloading) whose state has not changed
    /// for `stallAfter` seconds, once per job and stall: a job that moves on and stalls again is told again.
    ///
    /// Reads only jobs in those states (an index range), never the whole history.
    /// - Returns: how many jobs were found stalled now.
    @discardableResult
    public func checkStalledJobs(stallAfter: Double, now: Date, limit: Int = 100) throws -> Int {
        let routing = notificationRouting.current
        guard routing.routes.contains(where: { $0.filter.accepts(.jobStalled) }) else { return 0 }
        let states = [JobState.uploading, .submitting, .submitted, .running, .downloading].map(\.rawValue)
        return try write("look for stalled jobs") { db in
            let stalled = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(Self.jobColumns) FROM job INDEXED BY job_queue
                        WHERE state IN \(Self.list(states)) AND updatedAt <= ?
                            AND NOT EXISTS (
                                SELECT 1 FROM notificationStall s WHERE s.jobId = job.id AND s.since = job.updatedAt)
                        ORDER BY updatedAt LIMIT ?
                        """),
                arguments: [now.timeIntervalSince1970 - stallAfter, limit]
            ).map(Self.decodeJob)
            for job in stalled {
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO notificationStall (jobId, since, at) VALUES (?, ?, ?)")
                    .execute(arguments: [job.id.lowercasedString, job.updatedAt.timeIntervalSince1970, now.timeIntervalSince1970])
                let minutes = Int((now.timeIntervalSince(job.updatedAt) / 60).rounded(.down))
                let payload = NotificationPayload(
                    type: .jobStalled, time: now, instance: routing.instance, job: Self.notificationJob(job),
                    fields: [
                        "stalled_since": .string(job.updatedAt.formatted(.iso8601)),
                        "message": .string("no progress for \(minutes) min while \(job.state.rawValue)"),
                    ])
                try insertNotification(db, payload, routing)
            }
            return stalled.count
        }
    }
}

extension SQLiteStateStore {
    /// The tables of migration `v3-notifications`: one row per event and target, and the stalls already told.
    static func registerNotificationTables(_ db: Database) throws {
        // A delivery is pending while nextAttemptAt is set; deliveredAt or abandonedAt says how it ended.
        // No foreign key to job: a delivery outlives the job's pruned history.
        try db.execute(
            sql: """
                CREATE TABLE notification (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    eventId TEXT NOT NULL,
                    type TEXT NOT NULL,
                    target TEXT NOT NULL,
                    label TEXT NOT NULL,
                    body BLOB NOT NULL,
                    createdAt REAL NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    nextAttemptAt REAL,
                    deliveredAt REAL,
                    abandonedAt REAL,
                    lastError TEXT,
                    UNIQUE (eventId, target)
                );
                CREATE INDEX notification_pending ON notification(target, id) WHERE nextAttemptAt IS NOT NULL;
                CREATE INDEX notification_created ON notification(createdAt);

                CREATE TABLE notificationStall (
                    jobId TEXT NOT NULL,
                    since REAL NOT NULL,
                    at REAL NOT NULL,
                    PRIMARY KEY (jobId, since)
                );
                """)
    }
}
