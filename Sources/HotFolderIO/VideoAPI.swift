// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

/// The asynchronous video API the service talks to: prepare images, create a task, poll it, cancel it,
/// download the result. Implemented by ``GatewayVideoAPI`` and ``ArkVideoAPI``.
///
/// Every method throws ``VideoAPIError`` only; its ``VideoAPIError/category`` says what the service should do.
public protocol VideoAPI: Sendable {
    /// A short name for logs and metadata (`gateway`, `ark`).
    var providerName: String { get }

    /// Turns a local image into a URL the `image_with_roles` of a request may carry
    /// (an upload URL on the gateway, reused for the same content until it expires; a data URL on Ark).
    func prepareImage(at path: String) async throws -> PreparedImage

    /// ``prepareImage(at:)`` for an image whose SHA-256 was taken when its drop was planned: a provider may then read
    /// the file only once, hashing the bytes as it sends them. The result is the same as ``prepareImage(at:)``'s,
    /// for whatever content the file has when it is sent.
    func prepareImage(at path: String, expectedSHA256: String?) async throws -> PreparedImage

    /// Submits a generation and returns the provider's task id.
    ///
    /// A `timedOut` or `connectionFailed` error here leaves the outcome unknown: the task may exist and be billed,
    /// so the service should mark the job uncertain rather than resubmit blindly.
    func createTask(_ request: GenerationRequest) async throws -> String

    /// Asks where a task stands.
    func task(id: String) async throws -> RemoteTask

    /// Cancels a task that has not started yet (Ark); the gateway has no cancel and throws `unsupported`.
    func cancelTask(id: String) async throws

    /// Downloads a result video to `destination`, through a temporary file in the same folder that is
    /// renamed into place only when complete; nothing is left behind when it fails. Returns the byte count.
    @discardableResult
    func download(from url: String, to destination: String) async throws -> Int64

    /// The body this provider sends for `request`, as JSON for the metadata file, image data left out.
    func recordedBody(for request: GenerationRequest) -> Data?

    /// Whether ``findLostTask(for:createdBetween:isRecorded:)`` can search the provider's task list.
    var canSearchLostTasks: Bool { get }

    /// Searches the provider's task list for a task that a create call with an unknown outcome may have made:
    /// same model and parameters, created within `createdBetween`, not already recorded for another job.
    func findLostTask(
        for request: GenerationRequest, createdBetween: ClosedRange<Date>, isRecorded: @Sendable (String) async -> Bool
    ) async throws -> JobLifecycle.LostTaskSearch
}

extension VideoAPI {
    /// By default the planned hash is not used: the file is checked and hashed, then sent.
    public func prepareImage(at path: String, expectedSHA256: String?) async throws -> PreparedImage {
        try await prepareImage(at: path)
    }

    /// The request itself (the gateway's shape) by default.
    public func recordedBody(for request: GenerationRequest) -> Data? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try? encoder.encode(request)
    }

    /// No task list by default (the gateway has none).
    public var canSearchLostTasks: Bool { false }

    /// No task list by default: ``JobLifecycle/LostTaskSearch/unsupported``.
    public func findLostTask(
        for request: GenerationRequest, createdBetween: ClosedRange<Date>, isRecorded: @Sendable (String) async -> Bool
    ) async throws -> JobLifecycle.LostTaskSearch {
        .unsupported
    }
}

/// A local image made ready for a request.
public struct PreparedImage: Sendable, Hashable {
    /// What to put in `image_with_roles[].url`.
    public var url: String
    /// SHA-256 of the image content, lowercase hex.
    public var sha256: String
    /// Whether an earlier upload was reused instead of uploading again.
    public var reused: Bool
    /// When `url` stops working, if it does.
    public var expiresAt: Date?

    /// Creates a value.
    public init(url: String, sha256: String, reused: Bool, expiresAt: Date?) {
        self.url = url
        self.sha256 = sha256
        self.reused = reused
        self.expiresAt = expiresAt
    }
}

/// The API call an error happened in, for messages and metrics.
public enum VideoAPIOperation: String, Sendable, Hashable, Codable {
    case upload, create, status, cancel, download

    /// A phrase that completes "… while …".
    var phrase: String {
        switch self {
        case .upload: "uploading an image"
        case .create: "creating a task"
        case .status: "asking for a task's status"
        case .cancel: "cancelling a task"
        case .download: "downloading a video"
        }
    }
}
