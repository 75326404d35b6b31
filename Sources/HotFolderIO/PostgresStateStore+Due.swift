// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import PostgresNIO

// Work that comes due by time: held and uncertain jobs (claimed like queued ones, so one node handles each), and the
// status calls of the tasks a node holds.
extension PostgresStateStore {
    public func claimDue(
        node: String, in states: Set<JobState>, limit: Int, leaseFor: TimeInterval, now: Date
    ) async throws -> [LeasedJob] {
        guard !states.isEmpty else { return [] }
        let seconds = now.timeIntervalSince1970
        let until = now.addingTimeInterval(leaseFor)
        let names = states.map(\.rawValue).sorted()
        return try await call("claim jobs due") { connection in
            let rows = try await self.rows(
                connection,
                """
                WITH picked AS (
                    SELECT id, lease_owner AS previous FROM job
                    WHERE state = ANY(\(names)) AND next_attempt_at IS NOT NULL AND next_attempt_at <= \(seconds)
                        AND (lease_until IS NULL OR lease_until < \(seconds))
                    ORDER BY next_attempt_at, seq
                    LIMIT \(limit)
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE job SET lease_owner = \(node), lease_until = \(until.timeIntervalSince1970),
                    lease_generation = job.lease_generation + 1
                FROM picked WHERE job.id = picked.id
                RETURNING \(unescaped: Self.jobColumns), job.lease_generation, picked.previous, job.seq
                """)
            return try rows.map { row in
                (claim: try Self.leasedJob(row, node: node, until: until), seq: try row[18].decode(Int64.self))
            }.sorted {
                ($0.claim.job.nextAttemptAt ?? .distantPast, $0.seq) < ($1.claim.job.nextAttemptAt ?? .distantPast, $1.seq)
            }.map(\.claim)
        }
    }

    public func tasksDue(node: String, now: Date, limit: Int) async throws -> [InFlightTask] {
        try await call("list a node's tasks due") { connection in
            try await self.rows(
                connection,
                """
                SELECT \(unescaped: Self.taskColumns), job.state, job.name, job.lane, job.output_path
                FROM job JOIN task ON task.job_id = job.id AND task.active
                WHERE job.lease_owner = \(node) AND job.state IN ('submitted', 'running', 'downloading')
                    AND (task.next_poll_at IS NULL OR task.next_poll_at <= \(now.timeIntervalSince1970))
                ORDER BY task.next_poll_at NULLS FIRST, task.id
                LIMIT \(limit)
                """
            ).map { row in
                let state = try row[15].decode(String.self)
                guard let jobState = JobState(rawValue: state) else {
                    throw StateStoreError.corruptRow(table: "job", column: "state", value: state)
                }
                return InFlightTask(
                    task: try Self.decodeTask(row), jobState: jobState, name: try row[16].decode(String.self),
                    lane: try row[17].decode(String.self), outputPath: try row[18].decode(String?.self))
            }
        }
    }
}
