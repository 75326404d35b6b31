// SPDX-License-Identifier: GPL-2.0-or-later

/// Counters the emulator keeps, in Swift (``SeedanceEmulator/stats``) and at `GET /_emulator/stats`.
public struct EmulatorStats: Sendable, Codable, Equatable {
    /// Requests received, by endpoint name (`gateway.upload`, `gateway.create`, `gateway.status`,
    /// `ark.create`, `ark.status`, `ark.list`, `ark.delete`, `files.video`, `files.upload`).
    public var requestsByEndpoint: [String: Int] = [:]
    /// Tasks created (both protocols), including those whose create answer was lost.
    public var tasksCreated: Int = 0
    /// Tasks that succeeded by now, the ones a provider bills (deleted ones included).
    public var tasksSucceeded: Int = 0
    /// Tasks that failed by now (moderation, `always_fail`), which are not billed.
    public var tasksFailed: Int = 0
    /// Output tokens of the succeeded tasks, what Ark bills.
    public var tokensBilled: Int = 0
    /// Tasks created whose create answer the client never got (`created_then_502`, `created_then_reset`,
    /// `no_task_id`).
    public var createAnswersLost: Int = 0
    /// Images stored by the upload endpoint.
    public var imagesUploaded: Int = 0
    /// Videos served whole (downloads a fault cut short or refused are not counted).
    public var videosServed: Int = 0
    /// Videos rendered by ffmpeg (renders are cached, so this is at most the distinct videos asked for).
    public var videosRendered: Int = 0
    /// Faults injected, by fault name.
    public var faultsInjected: [String: Int] = [:]
    /// `ffmpeg` or `bundled`.
    public var videoSource: String = "bundled"

    /// Requests received for one endpoint name.
    public func requests(_ endpoint: String) -> Int { requestsByEndpoint[endpoint, default: 0] }

    /// Adds a task's outcome at `now` to the success, failure and token counters.
    mutating func settle(_ task: EmulatorTask, at now: Double) {
        switch task.phase(at: now) {
        case .completed:
            tasksSucceeded += 1
            tokensBilled += task.tokens
        case .failed:
            tasksFailed += 1
        case .pending, .processing, .cancelled:
            break
        }
    }

    enum CodingKeys: String, CodingKey {
        case requestsByEndpoint = "requests_by_endpoint", tasksCreated = "tasks_created"
        case tasksSucceeded = "tasks_succeeded", tasksFailed = "tasks_failed", tokensBilled = "tokens_billed"
        case createAnswersLost = "create_answers_lost"
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
