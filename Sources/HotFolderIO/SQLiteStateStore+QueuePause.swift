// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB

// The queue's pause on SQLite: one row, each method one transaction (as PostgresStateStore+QueuePause.swift).
extension SQLiteStateStore: QueueControl {
    public func queuePause() async throws -> QueuePauseRecord? {
        try await Blocking.run { try self.read("read the queue's pause") { db in try Self.fetchPause(db) } }
    }

    @discardableResult
    public func pauseQueue(_ pause: QueuePauseRecord) async throws -> Bool {
        try await writeAsync("pause the queue") { db in
            let wasRunning = try Self.fetchPause(db) == nil
            try db.cachedStatement(
                sql: """
                    INSERT INTO queue_pause (id, category, reason, since, next_probe) VALUES (1, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET category = excluded.category, reason = excluded.reason,
                        next_probe = excluded.next_probe
                    """
            ).execute(arguments: [pause.category, pause.reason, pause.since.timeIntervalSince1970, pause.nextProbe.timeIntervalSince1970])
            return wasRunning
        }
    }

    @discardableResult
    public func resumeQueue() async throws -> QueuePauseRecord? {
        try await writeAsync("resume the queue") { db in
            let pause = try Self.fetchPause(db)
            try db.execute(sql: "DELETE FROM queue_pause")
            return pause
        }
    }

    public func takeProbe(now: Date, next: Date) async throws -> Bool {
        try await writeAsync("take the queue's probe") { db in
            try db.cachedStatement(sql: "UPDATE queue_pause SET next_probe = ? WHERE next_probe <= ?")
                .execute(arguments: [next.timeIntervalSince1970, now.timeIntervalSince1970])
            return db.changesCount == 1
        }
    }

    static func fetchPause(_ db: Database) throws -> QueuePauseRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT category, reason, since, next_probe FROM queue_pause WHERE id = 1"))
            .map { row in
                QueuePauseRecord(category: row[0], reason: row[1], since: date(row[2]), nextProbe: date(row[3]))
            }
    }
}
