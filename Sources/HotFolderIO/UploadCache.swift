// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// Remembers which image contents were already uploaded, so a retry reuses the URL instead of uploading again.
///
/// Keyed by the SHA-256 of the content; the SQLite store implements it for persistence across restarts.
public protocol UploadCache: Sendable {
    /// The upload of this content that is still valid at `now`, if any.
    func upload(sha256: String, validAt now: Date) async -> CachedUpload?
    /// Records an upload.
    func store(_ upload: CachedUpload) async
}

/// An image upload that can be reused until it expires.
public struct CachedUpload: Sendable, Hashable, Codable {
    /// SHA-256 of the image content, lowercase hex.
    public var sha256: String
    /// The URL the upload endpoint returned.
    public var url: String
    /// When the URL stops working (the gateway keeps uploads 72 h).
    public var expiresAt: Date

    /// Creates a record.
    public init(sha256: String, url: String, expiresAt: Date) {
        self.sha256 = sha256
        self.url = url
        self.expiresAt = expiresAt
    }
}

/// An ``UploadCache`` in memory, for tests and for runs without a state database.
public actor InMemoryUploadCache: UploadCache {
    private var uploads: [String: CachedUpload] = [:]

    /// Creates an empty cache.
    public init() {}

    /// The upload of this content that is still valid at `now`, if any.
    public func upload(sha256: String, validAt now: Date) -> CachedUpload? {
        guard let upload = uploads[sha256], upload.expiresAt > now else { return nil }
        return upload
    }

    /// Records an upload, replacing an older one of the same content.
    public func store(_ upload: CachedUpload) {
        uploads[upload.sha256] = upload
    }
}
