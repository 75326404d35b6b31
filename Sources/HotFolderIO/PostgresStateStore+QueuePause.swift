// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import PostgresNIO

// The queue's pause on PostgreSQL: one row every node reads; each change is one statement (as
// SQLiteStateStore+QueuePause.swift).
extension PostgresStateStore: QueueControl {
    public func queuePause() async throws -> QueuePauseRecord? {
        try await call("read the queue's pause") { connection in
            try await self.rows(connection, "SELECT category, reason, since, next_probe FROM queue_pause WHERE id = 1")
                .first.map(Self.decodePause)
        }
    }

    @discardableResult
    public func pauseQueue(_ pause: QueuePauseRecord) async throws -> Bool {
        try await call("pause the queue") { connection in
            // `xmax = 0` only for a row this statement inserted: the queue was running.
            let rows = try await self.rows(
                connection,
                """
                INSERT INTO queue_pause (id, category, reason, since, next_probe)
                VALUES (1, \(pause.category), \(pause.reason), \(pause.since.timeIntervalSince1970), \(pause.nextProbe.timeIntervalSince1970))
                ON CONFLICT (id) DO UPDATE SET category = excluded.category, reason = excluded.reason,
                    next_probe = excluded.next_probe
                RETURNING (xmax = 0)
                """)
            return try rows.first?[0].decode(Bool.self) ?? false
        }
    }

    @discardableResult
    public func resumeQueue() async throws -> QueuePauseRecord? {
        try await call("resume the queue") { connection in
            try await self.rows(connection, "DELETE FROM queue_pause RETURNING category, reason, since, next_probe")
                .first.map(Self.decodePause)
        }
    }

    public func takeProbe(now: Date, next: Date) async throws -> Bool {
        try await call("take the queue's probe") { connection in
            try await self.execute(
                connection,
                """
                UPDATE queue_pause SET next_probe = \(next.timeIntervalSince1970)
                WHERE next_probe <= \(now.timeIntervalSince1970) RETURNING id
                """) == 1
        }
    }

    static func decodePause(_ row: PostgresRandomAccessRow) throws -> QueuePauseRecord {
        QueuePauseRecord(
            category: try row[0].decode(String.self), reason: try row[1].decode(String.self),
            since: Date(timeIntervalSince1970: try row[2].decode(Double.self)),
            nextProbe: Date(timeIntervalSince1970: try row[3].decode(Double.self)))
    }
}
