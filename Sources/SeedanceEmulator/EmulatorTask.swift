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

    let id: String
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
    let runSeconds: Double
    /// The `moderation` fault: the task fails when it would complete.
    let moderated: Bool
    /// The `expire_early` fault: the result URL is already expired when fetched.
    let expiresEarly: Bool
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
        return moderated ? .failed(at: finishesAt) : .completed(at: finishesAt)
    }

    /// Output tokens, as Ark bills them.
    var tokens: Int { size.tokens(durationSeconds: duration) }

    /// The moderation error a failed task reports.
    static let moderationCode = "OutputVideoSensitiveContentDetected"
    static let moderationMessage =
        "The request failed because the output video may contain sensitive information. Request id: emulator"
}
