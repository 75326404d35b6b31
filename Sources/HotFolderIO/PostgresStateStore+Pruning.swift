// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import PostgresNIO

/// History pruning on PostgreSQL, with the semantics of ``SQLiteStateStore/pruneHistory(before:now:limit:)``: one
/// bounded `DELETE` per call, whose inputs, tasks, events and spend go by `ON DELETE CASCADE` (each of those foreign
/// keys is indexed, so the cascade reads only the pruned jobs' rows). Deliveries have no foreign key to the job and
/// stay until ``pruneDeliveries(before:)``, as in SQLite.
extension PostgresStateStore: HistoryPruning {
    @discardableResult
    public func pruneHistory(before cutoff: Date, now: Date, limit: Int) async throws -> Int {
        try await call("prune old history") { connection in
            // SKIP LOCKED: two nodes pruning at once take different jobs instead of waiting for each other.
            try await self.execute(
                connection,
                """
                DELETE FROM job WHERE id IN (
                    SELECT id FROM job
                    WHERE state IN ('done', 'invalid', 'failed', 'cancelled') AND updated_at < \(cutoff.timeIntervalSince1970)
                        AND pending_disposal IS NULL
                        AND NOT EXISTS (SELECT 1 FROM input_file WHERE input_file.job_id = job.id AND input_file.inode <> -1)
                    ORDER BY updated_at LIMIT \(max(1, limit))
                    FOR UPDATE SKIP LOCKED)
                RETURNING id
                """)
        }
    }
}
