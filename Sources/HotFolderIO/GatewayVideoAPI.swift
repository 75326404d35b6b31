// SPDX-License-Identifier: GPL-2.0-or-later
import AsyncHTTPClient
import Foundation
import HotFolderCore
import Logging
import NIOCore
import NIOFoundationCompat
import _NIOFileSystem

/// The Seedance gateway (`spec/seedance-api.md` §1–4): uploads, `POST /v1/videos/generations`,
/// `GET /v1/tasks/{id}`, no cancel.
public struct GatewayVideoAPI: VideoAPI {
    /// Always `gateway`.
    public var providerName: String { "gateway" }

    private let transport: HTTPTransport
    private let uploadCache: any UploadCache
    private let now: @Sendable () -> Date

    /// Creates a client; `httpClient` is shared and owned by the caller, who shuts it down.
    public init(
        httpClient: HTTPClient, configuration: VideoAPIConfiguration,
        uploadCache: any UploadCache = InMemoryUploadCache(), logger: Logger = Logger(label: "hotfolder.gateway"),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        transport = HTTPTransport(client: httpClient, configuration: configuration, logger: logger, provider: "gateway")
        self.uploadCache = uploadCache
        self.now = now
    }

    /// Uploads the image (multipart field `file`, streamed from disk) unless the same content was uploaded
    /// before and its URL is still valid.
    public func prepareImage(at path: String) async throws -> PreparedImage {
        let configuration = transport.configuration
        return try await LocalImage.withChecked(path: path, maxBytes: configuration.maxImageBytes) { image, handle in
            let margin = now().addingTimeInterval(configuration.uploadReuseMargin)
            if let cached = await uploadCache.upload(sha256: image.sha256, validAt: margin) {
                transport.logger.debug("reusing upload", metadata: ["sha256": "\(image.sha256)"])
                return PreparedImage(url: cached.url, sha256: image.sha256, reused: true, expiresAt: cached.expiresAt)
            }
            // The same open file that was checked and hashed is streamed.
            let (url, expiresAt) = try await upload(handle, image, fileName: image.sha256, digest: nil)
            await uploadCache.store(CachedUpload(sha256: image.sha256, url: url, expiresAt: expiresAt))
            return PreparedImage(url: url, sha256: image.sha256, reused: false, expiresAt: expiresAt)
        }
    }

    /// Like ``prepareImage(at:)``, reading the file once when `expectedSHA256` (the hash taken when the drop was
    /// planned) is still its content: the bytes are hashed as they are streamed, and the upload is cached under the hash
    /// of what was sent. A still-valid upload of that content is reused once the file is hashed and found to be it.
    /// Content that is not the planned one (rewritten in place, keeping its size and time) is sent and cached as what
    /// it is, as ``prepareImage(at:)`` would: never under the planned hash. Nil or empty: ``prepareImage(at:)``.
    public func prepareImage(at path: String, expectedSHA256: String?) async throws -> PreparedImage {
        guard let expected = expectedSHA256, !expected.isEmpty else { return try await prepareImage(at: path) }
        let configuration = transport.configuration
        return try await LocalImage.withChecked(path: path, maxBytes: configuration.maxImageBytes, hashing: false) { image, handle in
            let margin = now().addingTimeInterval(configuration.uploadReuseMargin)
            if let cached = await uploadCache.upload(sha256: expected, validAt: margin) {
                let actual = try await LocalImage.sha256(of: handle, size: image.size)
                if actual == expected {
                    transport.logger.debug("reusing upload", metadata: ["sha256": "\(expected)"])
                    return PreparedImage(url: cached.url, sha256: expected, reused: true, expiresAt: cached.expiresAt)
                }
                if let other = await uploadCache.upload(sha256: actual, validAt: margin) {
                    return PreparedImage(url: other.url, sha256: actual, reused: true, expiresAt: other.expiresAt)
                }
            }
            let digest = SentDigest(size: image.size)
            let (url, expiresAt) = try await upload(handle, image, fileName: expected, digest: digest)
            // Set once the whole file went into the body (always before a success answer); else hashed again.
            let sent: String
            if let streamed = digest.sha256 { sent = streamed } else { sent = try await LocalImage.sha256(of: handle, size: image.size) }
            if sent != expected {
                transport.logger.warning("\(path): its content changed after the job was planned (same size and time); the content sent is the new one", metadata: ["sha256": "\(sent)"])
            }
            await uploadCache.store(CachedUpload(sha256: sent, url: url, expiresAt: expiresAt))
            return PreparedImage(url: url, sha256: sent, reused: false, expiresAt: expiresAt)
        }
    }

    /// Streams the open file to `POST /v1/uploads/images` (multipart field `file`); returns the URL and its expiry.
    private func upload(
        _ handle: ReadFileHandle, _ image: LocalImage, fileName: String, digest: SentDigest?
    ) async throws -> (url: String, expiresAt: Date) {
        let configuration = transport.configuration
        let boundary = "hotfolder-\(UUID().uuidString)"
        let body = MultipartFileBody(
            boundary: boundary, fileName: "\(fileName.prefix(16)).\(image.format.fileExtension)",
            contentType: image.format.mimeType, chunks: handle.readChunks(in: 0..<image.size, chunkLength: .kibibytes(256)),
            digest: digest)
        let answer = try await transport.send(
            .upload, method: .POST, path: "/v1/uploads/images",
            body: .stream(body, length: .known(body.length(fileSize: image.size))),
            contentType: "multipart/form-data; boundary=\(boundary)", timeout: configuration.uploadTimeout)
        let uploaded = try decode(GatewayResponses.Uploaded.self, answer, .upload)
        guard let url = uploaded.url, !url.isEmpty else {
            throw VideoAPIError.malformedResponse(operation: .upload, reason: "the answer has no url.")
        }
        return (url, uploaded.expiresAt ?? now().addingTimeInterval(configuration.uploadLifetime))
    }

    /// `POST /v1/videos/generations`; returns `data[0].task_id`.
    public func createTask(_ request: GenerationRequest) async throws -> String {
        let json = try JSONEncoder().encode(request)
        let answer = try await transport.send(.create, method: .POST, path: "/v1/videos/generations", json: json)
        let created = try decode(GatewayResponses.Created.self, answer, .create)
        try checkBodyCode(created.code, answer, .create)
        guard let id = created.taskID, !id.isEmpty else {
            throw VideoAPIError.malformedResponse(operation: .create, reason: "the answer has no data[0].task_id.")
        }
        return id
    }

    /// `GET /v1/tasks/{id}`.
    public func task(id: String) async throws -> RemoteTask {
        let answer = try await transport.send(.status, method: .GET, path: "/v1/tasks/\(pathComponent(id))")
        let info = try decode(GatewayResponses.TaskInfo.self, answer, .status)
        try checkBodyCode(info.code, answer, .status)
        let status = try TaskStatusWord.status(
            word: info.status, progress: info.progress, videoURL: info.videoURL, expiresAt: info.expiresAt,
            error: info.error)
        return RemoteTask(id: info.id ?? id, status: status, estimatedSeconds: info.estimatedTime.map { Int($0) })
    }

    /// The gateway documents no cancel endpoint; always throws ``VideoAPIError/unsupported(operation:provider:)``.
    public func cancelTask(id: String) async throws {
        throw VideoAPIError.unsupported(operation: .cancel, provider: providerName)
    }

    /// Streams the video to a temporary file beside `destination` and renames it into place when complete.
    @discardableResult
    public func download(from url: String, to destination: String) async throws -> Int64 {
        try await VideoDownloader(transport: transport).download(from: url, to: destination)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ answer: HTTPTransport.Answer, _ operation: VideoAPIOperation) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: answer.body)
        } catch {
            throw VideoAPIError.malformedResponse(operation: operation, reason: "the body is not the expected JSON.")
        }
    }

    /// The gateway also reports errors in the body's `code`, sometimes with HTTP 200.
    private func checkBodyCode(_ code: Int?, _ answer: HTTPTransport.Answer, _ operation: VideoAPIOperation) throws {
        guard let code, code != 200, code != 0 else { return }
        let status = (400..<600).contains(code) ? code : 500
        if operation == .create, status >= 500, status != 503 {
            // An internal error reported after the request was taken: a task may exist.
            throw VideoAPIError.answerLost(
                operation: operation, status: code,
                reason: transport.configuration.apiKey.redact(ErrorDetail.parse(answer.body).message ?? "internal error"))
        }
        let (category, message) = ErrorClassifier.classify(status: status, headers: answer.headers, body: answer.body)
        throw VideoAPIError.rejected(
            operation: operation, status: code, category: category,
            message: transport.configuration.apiKey.redact(message))
    }
}

/// Percent-encodes a task id for use as one path segment.
func pathComponent(_ id: String) -> String {
    id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_."))) ?? id
}
