// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB

// The upload cache: an image's content hash → the URL the API can fetch, until it expires. The API clients use it
// so the same image (a lane's shared reference, a retried job) is uploaded once per URL lifetime.
extension SQLiteStateStore {
    /// The cached URL for this content, if it is still valid `margin` seconds after `now`.
    ///
    /// The margin leaves time for the task to fetch the image after the create call.
    public func cachedUpload(sha256: String, now: Date? = nil, margin: TimeInterval = 600) throws -> CachedUpload? {
        let limit = (now ?? clock()).addingTimeInterval(margin).timeIntervalSince1970
        return try read("read the upload cache") { db in
            try Row.fetchOne(
                db, sql: "SELECT sha256, url, expiresAt FROM upload WHERE sha256 = ? AND expiresAt > ?",
                arguments: [sha256, limit]
            ).map { row in
                CachedUpload(sha256: row[0], url: row[1], expiresAt: Self.date(row[2]))
            }
        }
    }

    /// Remembers (or replaces) the URL of an uploaded image.
    public func cacheUpload(_ upload: CachedUpload) throws {
        let now = clock()
        try write("write the upload cache") { db in
            try db.execute(
                sql: """
                    INSERT INTO upload (sha256, url, expiresAt, createdAt) VALUES (?, ?, ?, ?)
                    ON CONFLICT (sha256) DO UPDATE SET url = excluded.url, expiresAt = excluded.expiresAt,
                        createdAt = excluded.createdAt
                    """,
                arguments: [upload.sha256, upload.url, upload.expiresAt.timeIntervalSince1970, now.timeIntervalSince1970])
        }
    }

    /// Deletes cache entries that expired before `now`; returns how many.
    @discardableResult
    public func purgeExpiredUploads(now: Date? = nil) throws -> Int {
        let now = now ?? clock()
        return try write("purge the upload cache") { db in
            try db.execute(sql: "DELETE FROM upload WHERE expiresAt <= ?", arguments: [now.timeIntervalSince1970])
            return db.changesCount
        }
    }
}

/// The state database is the gateway client's upload cache, so a retry after a restart reuses uploads.
extension SQLiteStateStore: UploadCache {
    /// The cached upload for this content, if its URL is still valid at `now`.
    public func upload(sha256: String, validAt now: Date) async -> CachedUpload? {
        try? cachedUpload(sha256: sha256, now: now, margin: 0)
    }

    /// Remembers an upload (best effort: a failure only costs a second upload later).
    public func store(_ upload: CachedUpload) async {
        try? cacheUpload(upload)
    }
}
