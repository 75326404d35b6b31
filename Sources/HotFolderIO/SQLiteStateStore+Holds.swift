// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore

/// Which jobs hold which inbox files: a held file never starts another job; a released one (moved to
/// `failed/`) does when it is dropped again.
extension SQLiteStateStore {
    /// Every input still held by a job, with the job's id.
    public func heldInputs() throws -> [(UUID, StoredInput)] {
        try read("list held inputs") { db in
            try Row.fetchAll(db, sql: "SELECT jobId, path, device, inode, size, mtimeNs, sha256 FROM inputFile WHERE inode != -1").compactMap { row in
                guard let id = UUID(uuidString: row[0]) else { return nil }
                let identity = InputIdentity(
                    device: UInt64(bitPattern: row[2]), inode: UInt64(bitPattern: row[3]), size: row[4], mtimeNs: row[5])
                return (id, StoredInput(path: row[1], identity: identity, sha256: row[6]))
            }
        }
    }

    /// Gives a job's inputs back (its files went to `failed/`), so dropping them again makes a new job.
    public func releaseInputs(ofJob jobID: UUID) throws {
        try write("release inputs") { db in
            try db.execute(sql: "UPDATE inputFile SET device = -1, inode = -1 WHERE jobId = ?", arguments: [jobID.uuidString.lowercased()])
        }
    }

    /// The job's input paths that another job which is not finished also uses (a manifest shared by its
    /// rows, an image shared by variants): those must stay in the inbox.
    public func inputsSharedWithLiveJobs(_ jobID: UUID) throws -> [String] {
        let finished = JobState.allCases.filter { $0.isTerminal && $0 != .failed }.map { "'\($0.rawValue)'" }.joined(separator: ",")
        return try read("find shared inputs") { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT i.path FROM inputFile i
                    JOIN inputFile o ON o.device = i.device AND o.inode = i.inode AND o.size = i.size
                        AND o.mtimeNs = i.mtimeNs AND o.jobId != i.jobId
                    JOIN job j ON j.id = o.jobId
                    WHERE i.jobId = ? AND i.inode != -1 AND j.state NOT IN (\(finished), 'failed')
                    """,
                arguments: [jobID.uuidString.lowercased()])
        }
    }
}
