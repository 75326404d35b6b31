// SPDX-License-Identifier: GPL-2.0-or-later
import HotFolderCore

/// Everything that can go wrong talking to a video API, with enough context to read as one sentence.
///
/// Messages taken from servers are redacted of the API key before they are stored here.
public enum VideoAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The server answered with an error status; `message` is its own explanation.
    case rejected(operation: VideoAPIOperation, status: Int, category: APIErrorCategory, message: String)
    /// No answer arrived in time.
    case timedOut(operation: VideoAPIOperation, seconds: Double)
    /// The connection failed or broke (refused, reset, closed early).
    case connectionFailed(operation: VideoAPIOperation, reason: String)
    /// The answer was bigger than the limit for its kind.
    case responseTooLarge(operation: VideoAPIOperation, limit: Int)
    /// The answer could not be understood (bad JSON, missing task id, success without a video URL, …).
    case malformedResponse(operation: VideoAPIOperation, reason: String)
    /// The provider has no such operation (the gateway cannot cancel).
    case unsupported(operation: VideoAPIOperation, provider: String)
    /// A local image could not be used (missing, unreadable, not JPEG/PNG/WebP/GIF, too large).
    case unusableImage(path: String, reason: String)
    /// A download did not produce a complete video file; `category` is `expired` for a gone URL.
    case downloadFailed(url: String, category: APIErrorCategory, reason: String)
    /// Writing the downloaded file failed.
    case fileSystem(path: String, reason: String)
    /// The request never reached the video API (connection refused, no route, connect timeout).
    case notSent(operation: VideoAPIOperation, reason: String)
    /// The request reached the API but its answer was lost or not the API's own (a proxy's 502 page, an empty
    /// body): whatever it asked for may have happened.
    case answerLost(operation: VideoAPIOperation, status: Int?, reason: String)

    /// What the service should make of it.
    public var category: APIErrorCategory {
        switch self {
        case .rejected(_, _, let category, _): category
        case .timedOut, .connectionFailed, .responseTooLarge, .malformedResponse, .fileSystem, .notSent, .answerLost:
            .transient
        case .unsupported, .unusableImage: .invalidRequest
        case .downloadFailed(_, let category, _): category
        }
    }

    /// One sentence saying what happened.
    public var description: String {
        switch self {
        case .rejected(let operation, let status, let category, let message):
            "The video API refused \(operation.phrase) with HTTP \(status) (\(category.name)): \(message)"
        case .timedOut(let operation, let seconds):
            "The video API did not answer within \(formatSeconds(seconds)) while \(operation.phrase)."
        case .connectionFailed(let operation, let reason):
            "The connection to the video API failed while \(operation.phrase): \(reason)"
        case .responseTooLarge(let operation, let limit):
            "The video API's answer while \(operation.phrase) was larger than the \(limit)-byte limit."
        case .malformedResponse(let operation, let reason):
            "The video API's answer while \(operation.phrase) could not be understood: \(reason)"
        case .unsupported(let operation, let provider):
            "The \(provider) API does not support \(operation.phrase)."
        case .unusableImage(let path, let reason):
            "The image \(path) cannot be sent: \(reason)"
        case .downloadFailed(let url, let category, let reason):
            "Downloading the video from \(url) failed (\(category.name)): \(reason)"
        case .fileSystem(let path, let reason):
            "Writing \(path) failed: \(reason)"
        case .notSent(let operation, let reason):
            "The request never reached the video API while \(operation.phrase): \(reason)"
        case .answerLost(let operation, let status, let reason):
            "The video API's answer while \(operation.phrase) was lost\(status.map { " (HTTP \($0))" } ?? ""): \(reason)"
        }
    }

    /// Whether a failed create call provably created nothing, so sending it again cannot pay twice: the API
    /// refused it with its own answer (4xx, 429, a 503 with its JSON error), the request never reached the API,
    /// or it was refused locally. Anything else (timeouts, resets, a proxy's 5xx page, a 200 without a task id)
    /// may have created a task.
    public var createdNothing: Bool {
        switch self {
        case .rejected, .notSent, .unusableImage, .unsupported: true
        case .timedOut, .connectionFailed, .responseTooLarge, .malformedResponse, .downloadFailed, .fileSystem,
            .answerLost:
            false
        }
    }
}

private func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
}
