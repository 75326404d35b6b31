// SPDX-License-Identifier: GPL-2.0-or-later

/// Counters the emulator keeps, in Swift (``SeedanceEmulator/stats``) and at `GET /_emulator/stats`.
public struct EmulatorStats: Sendable, Codable, Equatable {
    /// Requests received, by endpoint name (`gateway.upload`, `gateway.create`, `gateway.status`,
    /// `ark.create`, `ark.status`, `ark.delete`, `files.video`, `files.upload`).
    public var requestsByEndpoint: [String: Int] = [:]
    /// Tasks created (both protocols).
    public var tasksCreated: Int = 0
    /// Images stored by the upload endpoint.
    public var imagesUploaded: Int = 0
    /// Videos served completely or partly.
    public var videosServed: Int = 0
    /// Videos rendered by ffmpeg (renders are cached, so this is at most the distinct videos asked for).
    public var videosRendered: Int = 0
    /// Faults injected, by fault name.
    public var faultsInjected: [String: Int] = [:]
    /// `ffmpeg` or `bundled`.
    public var videoSource: String = "bundled"

    /// Requests received for one endpoint name.
    public func requests(_ endpoint: String) -> Int { requestsByEndpoint[endpoint, default: 0] }

    enum CodingKeys: String, CodingKey {
        case requestsByEndpoint = "requests_by_endpoint", tasksCreated = "tasks_created"
        case imagesUploaded = "images_uploaded", videosServed = "videos_served", videosRendered = "videos_rendered"
        case faultsInjected = "faults_injected", videoSource = "video_source"
    }
}

/// One request the emulator received, recorded for tests (the `Authorization` header is left out).
public struct ReceivedRequest: Sendable, Codable, Equatable {
    /// `GET`, `POST`, …
    public var method: String
    /// Path and query.
    public var path: String
    /// Endpoint name, as in ``EmulatorStats/requestsByEndpoint``.
    public var endpoint: String
    /// Headers, lowercased names, without `authorization`.
    public var headers: [String: String]
    /// The body when it was JSON, as text.
    public var bodyJSON: String?
    /// The body size in bytes.
    public var bodyBytes: Int
    /// When the request was recorded (its body read), in seconds since 1970; benchmarks match it against drops.
    public var receivedAt: Double = 0
}
