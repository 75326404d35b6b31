// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import PostgresNIO

// Rows are read by column index from explicit column lists, as in SQLiteStateStore+Rows.swift.
extension PostgresStateStore {
    static let jobColumns = """
        job.id, job.name, job.lane, job.state, job.failure_category, job.failure_message, job.priority, \
        job.created_at, job.updated_at, job.spec_json, job.attempts, job.next_attempt_at, job.output_path, \
        job.counters, job.pending_disposal, job.spec_version
        """
    /// How many columns ``jobColumns`` names: extra columns follow from this index.
    static let jobColumnCount = 16

    static func decodeJob(_ row: PostgresRandomAccessRow) throws -> StoredJob {
        let state = try row[3].decode(String.self)
        guard let jobState = JobState(rawValue: state) else {
            throw StateStoreError.corruptRow(table: "job", column: "state", value: state)
        }
        return StoredJob(
            id: try row[0].decode(UUID.self),
            name: try row[1].decode(String.self),
            lane: try row[2].decode(String.self),
            state: jobState,
            failureCategory: try row[4].decode(String?.self),
            failureMessage: try row[5].decode(String?.self),
            priority: try row[6].decode(Int.self),
            createdAt: Date(timeIntervalSince1970: try row[7].decode(Double.self)),
            updatedAt: Date(timeIntervalSince1970: try row[8].decode(Double.self)),
            specJSON: try row[9].decode(Data?.self) ?? Data(),
            attempts: try row[10].decode(Int.self),
            nextAttemptAt: try row[11].decode(Double?.self).map(Date.init(timeIntervalSince1970:)),
            outputPath: try row[12].decode(String?.self),
            counters: SQLiteStateStore.decodeCounters(try row[13].decode(String?.self)),
            pendingDisposal: try row[14].decode(String?.self).flatMap(JobLifecycle.InputDisposal.init(rawValue:)),
            specVersion: try row[15].decode(Int.self)
        )
    }

    /// A claimed job from a claim's `RETURNING` row: ``jobColumns``, then the new generation and the previous owner.
    static func leasedJob(_ row: PostgresRandomAccessRow, node: String, until: Date) throws -> LeasedJob {
        let job = try decodeJob(row)
        return LeasedJob(
            job: job,
            lease: JobLease(jobID: job.id, owner: node, generation: try row[16].decode(Int64.self), until: until),
            previousOwner: try row[17].decode(String?.self))
    }

    /// The model and the prompt a job's description asks for (`request.model`, `request.prompt`), as SQLite's
    /// `json_extract` reads them: nil when the description is not JSON or has no such text.
    static func specFacts(_ specJSON: Data) -> (model: String?, prompt: String?) {
        guard let object = try? JSONSerialization.jsonObject(with: specJSON) as? [String: Any],
            let request = object["request"] as? [String: Any]
        else { return (nil, nil) }
        return (request["model"] as? String, request["prompt"] as? String)
    }

    static let filmColumns = "id, name, lane, folder, clips, state, output_path, message, updated_at"

    static func decodeFilm(_ row: PostgresRandomAccessRow) throws -> StoredFilm {
        StoredFilm(
            id: try row[0].decode(UUID.self), name: try row[1].decode(String.self), lane: try row[2].decode(String.self),
            folder: try row[3].decode(String.self), clips: try row[4].decode(Int.self),
            state: FilmState(rawValue: try row[5].decode(String.self)) ?? .failed,
            outputPath: try row[6].decode(String?.self), message: try row[7].decode(String?.self),
            updatedAt: Date(timeIntervalSince1970: try row[8].decode(Double.self)))
    }

    static let taskColumns = """
        task.job_id, task.provider, task.task_id, task.status, task.progress, task.video_url, task.expires_at, \
        task.estimated_time, task.error_message, task.result_json, task.submitted_at, task.updated_at, \
        task.poll_count, task.next_poll_at, task.active
        """

    static func decodeTask(_ row: PostgresRandomAccessRow) throws -> StoredTask {
        StoredTask(
            jobID: try row[0].decode(UUID.self),
            provider: try row[1].decode(String.self),
            taskID: try row[2].decode(String.self),
            status: try row[3].decode(String.self),
            progress: try row[4].decode(Int?.self),
            videoURL: try row[5].decode(String?.self),
            expiresAt: try row[6].decode(Double?.self).map(Date.init(timeIntervalSince1970:)),
            estimatedTime: try row[7].decode(Int?.self),
            errorMessage: try row[8].decode(String?.self),
            resultJSON: try row[9].decode(Data?.self),
            submittedAt: Date(timeIntervalSince1970: try row[10].decode(Double.self)),
            updatedAt: Date(timeIntervalSince1970: try row[11].decode(Double.self)),
            pollCount: try row[12].decode(Int.self),
            nextPollAt: try row[13].decode(Double?.self).map(Date.init(timeIntervalSince1970:)),
            isActive: try row[14].decode(Bool.self)
        )
    }

    /// The job (locked `FOR UPDATE` until the transaction ends) with its lease owner and generation, or nil.
    func lockJob(_ connection: PostgresConnection, _ id: UUID) async throws -> (StoredJob, owner: String?, generation: Int64)? {
        guard
            let row = try await rows(
                connection,
                "SELECT \(unescaped: Self.jobColumns), job.lease_owner, job.lease_generation FROM job WHERE id = \(id) FOR UPDATE"
            ).first
        else { return nil }
        return (try Self.decodeJob(row), try row[16].decode(String?.self), try row[17].decode(Int64.self))
    }

    /// Locks the job and checks the writer's lease: ``StateStoreError/leaseLost(job:owner:generation:)`` unless it
    /// is still the job's, ``StateStoreError/jobNotFound(_:)`` when there is no such job.
    func lockFenced(_ connection: PostgresConnection, _ id: UUID, lease: JobLease?) async throws -> StoredJob {
        // Another job's lease is no lease on this one, even with the same owner and generation.
        if let lease, lease.jobID != id {
            throw StateStoreError.leaseLost(job: id, owner: lease.owner, generation: lease.generation)
        }
        guard let (job, owner, generation) = try await lockJob(connection, id) else {
            throw StateStoreError.jobNotFound(id)
        }
        // Given back by a commit out of the working states, the lease still fences: only a claim raises the generation.
        if let lease, (owner != nil && owner != lease.owner) || generation != lease.generation {
            throw StateStoreError.leaseLost(job: id, owner: lease.owner, generation: lease.generation)
        }
        return job
    }

    /// The job's active task, locked until the transaction ends, or nil.
    func activeTask(_ connection: PostgresConnection, _ id: UUID, lock: Bool) async throws -> StoredTask? {
        try await rows(
            connection,
            """
            SELECT \(unescaped: Self.taskColumns) FROM task WHERE job_id = \(id) AND active
            ORDER BY id DESC LIMIT 1\(unescaped: lock ? " FOR UPDATE" : "")
            """
        ).first.map(Self.decodeTask)
    }

    func appendEvent(
        _ connection: PostgresConnection, jobID: UUID, at: Date, kind: StoredEvent.Kind, from: JobState?,
        to: JobState?, message: String?
    ) async throws {
        try await connection.query(
            """
            INSERT INTO event (job_id, at, kind, from_state, to_state, message)
            VALUES (\(jobID), \(at.timeIntervalSince1970), \(kind.rawValue), \(from?.rawValue), \(to?.rawValue), \(message))
            """, logger: logger)
    }
}
