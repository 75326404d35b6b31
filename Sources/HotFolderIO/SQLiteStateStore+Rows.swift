// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore

// Rows are read by column index from explicit column lists: fast, and a schema change that breaks the mapping
// shows up in the store tests at once.
extension SQLiteStateStore {
    static let jobColumns = """
        job.id, job.name, job.lane, job.state, job.failureCategory, job.failureMessage, job.priority, \
        job.createdAt, job.updatedAt, job.specJSON, job.attempts, job.nextAttemptAt, job.outputPath, \
        job.counters, job.pendingDisposal, job.specVersion
        """

    static func decodeJob(_ row: Row) throws -> StoredJob {
        StoredJob(
            id: try uuid(row[0], table: "job"),
            name: row[1],
            lane: row[2],
            state: try state(row[3], table: "job", column: "state")!,
            failureCategory: row[4],
            failureMessage: row[5],
            priority: row[6],
            createdAt: date(row[7]),
            updatedAt: date(row[8]),
            specJSON: row[9] ?? Data(),
            attempts: row[10],
            nextAttemptAt: optionalDate(row[11]),
            outputPath: row[12],
            counters: decodeCounters(row[13]),
            pendingDisposal: (row[14] as String?).flatMap(JobLifecycle.InputDisposal.init(rawValue:)),
            specVersion: row[15]
        )
    }

    /// Counters as stored: `upload,create,status,download,task,links,searches` (written on every step, so no
    /// JSON coder). Missing or unreadable counters start at zero rather than stop the job.
    static func decodeCounters(_ text: String?) -> JobCounters {
        let values = (text ?? "").split(separator: ",").map { Int($0) ?? 0 }
        guard values.count == 7 else { return JobCounters() }
        return JobCounters(
            uploadFailures: values[0], createFailures: values[1], statusFailures: values[2], downloadFailures: values[3],
            taskFailures: values[4], linkRefreshes: values[5], lostTaskSearches: values[6])
    }

    static func encodeCounters(_ counters: JobCounters) -> String {
        [
            counters.uploadFailures, counters.createFailures, counters.statusFailures, counters.downloadFailures,
            counters.taskFailures, counters.linkRefreshes, counters.lostTaskSearches,
        ].map(String.init).joined(separator: ",")
    }

    static let taskColumns = """
        task.jobId, task.provider, task.taskId, task.status, task.progress, task.videoURL, task.expiresAt, \
        task.estimatedTime, task.errorMessage, task.resultJSON, task.submittedAt, task.updatedAt, task.pollCount, \
        task.nextPollAt, task.active
        """

    /// Decodes a task from the ``taskColumns`` starting at `offset`.
    static func decodeTask(_ row: Row, offset: Int = 0) throws -> StoredTask {
        StoredTask(
            jobID: try uuid(row[offset], table: "task"),
            provider: row[offset + 1],
            taskID: row[offset + 2],
            status: row[offset + 3],
            progress: row[offset + 4],
            videoURL: row[offset + 5],
            expiresAt: optionalDate(row[offset + 6]),
            estimatedTime: row[offset + 7],
            errorMessage: row[offset + 8],
            resultJSON: row[offset + 9],
            submittedAt: date(row[offset + 10]),
            updatedAt: date(row[offset + 11]),
            pollCount: row[offset + 12],
            nextPollAt: optionalDate(row[offset + 13]),
            isActive: row[offset + 14]
        )
    }

    static let inputColumns = "inputFile.path, inputFile.device, inputFile.inode, inputFile.size, inputFile.mtimeNs, inputFile.sha256"

    /// Decodes an input from the ``inputColumns`` starting at `offset`.
    static func decodeInput(_ row: Row, offset: Int = 0) -> StoredInput {
        let device: Int64 = row[offset + 1]
        let inode: Int64 = row[offset + 2]
        return StoredInput(
            path: row[offset],
            identity: InputIdentity(
                device: UInt64(bitPattern: device), inode: UInt64(bitPattern: inode), size: row[offset + 3],
                mtimeNs: row[offset + 4]),
            sha256: row[offset + 5]
        )
    }

    static func decodeEvent(_ row: Row) throws -> StoredEvent {
        let kind: String = row[3]
        return StoredEvent(
            id: row[0],
            jobID: try uuid(row[1], table: "event"),
            at: date(row[2]),
            kind: StoredEvent.Kind(rawValue: kind) ?? .note,
            fromState: try state(row[4], table: "event", column: "fromState"),
            toState: try state(row[5], table: "event", column: "toState"),
            message: row[6]
        )
    }

    // MARK: - Values

    static func uuid(_ text: String, table: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else {
            throw StateStoreError.corruptRow(table: table, column: "id", value: text)
        }
        return id
    }

    static func state(_ text: String?, table: String, column: String) throws -> JobState? {
        guard let text else { return nil }
        guard let state = JobState(rawValue: text) else {
            throw StateStoreError.corruptRow(table: table, column: column, value: text)
        }
        return state
    }

    static func date(_ seconds: Double) -> Date {
        Date(timeIntervalSince1970: seconds)
    }

    static func optionalDate(_ seconds: Double?) -> Date? {
        seconds.map(Date.init(timeIntervalSince1970:))
    }

    static func seconds(_ date: Date?) -> Double? {
        date?.timeIntervalSince1970
    }
}
