// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore

/// The reads the morning report makes: only index ranges, never every job ever made.
extension SQLiteStateStore {
    /// Jobs that reached a final state (done, failed, invalid, cancelled) in `start..<end`, oldest first, at most
    /// `limit`. By the `updatedAt` index: a finished job is not changed again, so its update time is when it ended.
    public func jobsFinished(from start: Date, to end: Date, limit: Int = 10_000) throws -> [StoredJob] {
        let terminal = JobState.allCases.filter(\.isTerminal).map(\.rawValue)
        return try read("read the jobs finished in the report's period") { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(Self.jobColumns) FROM job INDEXED BY job_updated
                        WHERE updatedAt >= ? AND updatedAt < ? AND state IN \(Self.list(terminal))
                        ORDER BY updatedAt, rowid LIMIT ?
                        """),
                arguments: [start.timeIntervalSince1970, end.timeIntervalSince1970, limit]
            ).map(Self.decodeJob)
        }
    }
}
