// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// Where a video API lives, the key, and the limits every call obeys.
public struct VideoAPIConfiguration: Sendable {
    /// Base URL without a trailing slash, e.g. the gateway's `https://…` or Ark's `https://…/api/v3`'s host part.
    public var baseURL: String
    /// The key sent as `Authorization: Bearer …`.
    public var apiKey: APIKey
    /// Seconds a JSON call (create, status, cancel) may take, answer included.
    public var requestTimeout: Double = 30
    /// Seconds an image upload may take.
    public var uploadTimeout: Double = 120
    /// Seconds until a download must have started answering (the body then streams with no overall limit
    /// beyond `downloadTimeout`).
    public var downloadTimeout: Double = 900
    /// Largest JSON answer read, in bytes.
    public var maxResponseBytes: Int = 1 << 20
    /// Largest video downloaded, in bytes.
    public var maxDownloadBytes: Int64 = 2 << 30
    /// Largest image sent, in bytes (the gateway's upload limit).
    public var maxImageBytes: Int64 = 20 * 1024 * 1024
    /// How long an upload URL lives when the server does not say (the gateway keeps uploads 72 h).
    public var uploadLifetime: Double = 72 * 3600
    /// An upload is reused only if it stays valid at least this much longer, so the API can still fetch it.
    public var uploadReuseMargin: Double = 3600

    /// Creates a configuration with the default limits.
    public init(baseURL: String, apiKey: APIKey) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
    }
}
