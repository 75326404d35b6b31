// SPDX-License-Identifier: GPL-2.0-or-later
import HotFolderCore

/// A generation task as the emulator keeps it. Its state is computed from timestamps when read, so
/// thousands of tasks cost no timers.
struct EmulatorTask: Sendable {
    /// Which protocol created the task (it decides the status names and the JSON shape).
    enum Provider: Sendable { case gateway, ark }

    /// The state at a given time.
    enum Phase: Sendable, Equatable {
        case pending
        case processing(progress: Int)
        case completed(at: Double)
        case failed(at: Double)
        case cancelled(at: Double)
    }

    /// Why a task fails when it would complete.
    enum Failure: Sendable {
        /// The `moderation` fault: a sensitive-content error.
        case moderation
        /// The `always_fail` fault: an error code clients do not know.
        case internalError

        /// The provider's error code.
        var code: String {
            switch self {
            case .moderation: "OutputVideoSensitiveContentDetected"
            case .internalError: "InternalServiceError"
            }
        }

        /// The provider's error message.
        var message: String {
            switch self {
            case .moderation:
                "The request failed because the output video may contain sensitive information. Request id: emulator"
            case .internalError: "The service encountered an unexpected internal error."
            }
        }

        /// The gateway's error `type`.
        var gatewayType: String {
            switch self {
            case .moderation: "content_policy"
            case .internalError: "server_error"
            }
        }
    }

    let id: String
    /// Order of creation (1, 2, …), which sorts Ark's task list newest first.
    let number: Int
    let provider: Provider
    let model: String
    let prompt: String
    let duration: Int
    let resolution: Resolution
    let ratio: AspectRatio
    let seed: Int64
    /// Image URLs by role, as sent.
    let images: [ImageRole: String]
    let createdAt: Double
    let queueSeconds: Double
    /// Seconds of processing: the configured run time, or the slow one under the `slow_task` fault.
    let runSeconds: Double
    /// Set by the `moderation` and `always_fail` faults: the task fails when it would complete.
    let failure: Failure?
    /// The `expire_early` fault: the result URL is already expired when fetched.
    let expiresEarly: Bool
    /// The `cdn_flaky` fault: how many downloads of the video fail before one succeeds.
    let cdnFailures: Int
    /// Ark's tier (`default`, `flex`) and how long the task may wait, as asked.
    var serviceTier = "default"
    var executionExpiresAfter = 172_800
    /// Downloads of the video asked for so far (the `cdn_flaky` fault fails the first ones).
    var downloads = 0
    var cancelledAt: Double?

    var size: VideoSize { VideoSize.of(resolution, ratio) }
    var finishesAt: Double { createdAt + queueSeconds + runSeconds }

    func phase(at now: Double) -> Phase {
        if let cancelledAt { return .cancelled(at: cancelledAt) }
        if now < createdAt + queueSeconds { return .pending }
        if now < finishesAt {
            let fraction = (now - createdAt - queueSeconds) / runSeconds
            return .processing(progress: min(99, max(1, Int(fraction * 100))))
        }
        return failure == nil ? .completed(at: finishesAt) : .failed(at: finishesAt)
    }

    /// Output tokens, as Ark bills them.
    var tokens: Int { size.tokens(durationSeconds: duration) }
}
