// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Hummingbird
import NIOCore
import _NIOFileSystem

/// Result videos under `/files/{task}.mp4` and uploaded images under `/uploads/{name}`: pre-signed links,
/// so no key is checked, but they expire.
extension EmulatorRoutes {
    /// `GET /files/{task}.mp4`: the rendered video, 403 once expired; the `cdn_flaky` fault fails a task's first
    /// downloads (503, then a cut body, alternately), the `truncate` fault cuts a body short.
    func video(_ request: Request, _ context: EmulatorContext) async throws -> Response {
        state.count(Endpoint.video)
        record(request, endpoint: Endpoint.video, body: nil, bytes: 0)
        let name = context.parameters.get("name") ?? ""
        let id = name.hasSuffix(".mp4") ? String(name.dropLast(4)) : name
        guard let task = state.task(id), case .completed(let completedAt) = task.phase(at: state.now) else {
            return EmulatorRoutes.error(.notFound, code: "NoSuchKey", message: "The specified key does not exist.", type: "not_found")
        }
        if task.expiresEarly || state.now > completedAt + state.configuration.resultLifetime {
            return EmulatorRoutes.error(.forbidden, code: "AccessDenied", message: "Request has expired.", type: "expired")
        }
        let attempt = state.countDownload(id)
        let flaky = attempt < task.cdnFailures
        if flaky && attempt.isMultiple(of: 2) {
            return EmulatorRoutes.error(
                .serviceUnavailable, code: "ServiceUnavailable", message: "The edge node is temporarily unavailable.",
                type: "cdn_error")
        }
        let spec = VideoRenderer.Spec(
            size: task.size, duration: task.duration, prompt: task.prompt,
            firstFrame: task.images[.firstFrame].flatMap(localImage), lastFrame: task.images[.lastFrame].flatMap(localImage))
        let file = await renderer.video(for: spec)
        // NIOFileSystem reads on its own thread pool, never on the event loop.
        let bytes = try await ByteBuffer(contentsOf: FilePath(file.path), maximumSizeAllowed: .gibibytes(1))
        var headers: HTTPFields = [.contentType: "video/mp4", .contentLength: "\(bytes.readableBytes)"]
        headers[.cacheControl] = "private, max-age=86400"
        if flaky || state.roll(.truncate) {
            let channel = context.channel
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody(contentLength: bytes.readableBytes) { writer in
                    try await writer.write(bytes.getSlice(at: 0, length: bytes.readableBytes / 2)!)
                    // Drop the connection with half the promised bytes sent.
                    try? await channel.close()
                    throw CancellationError()
                })
        }
        state.bump { $0.videosServed += 1 }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: bytes))
    }

    /// `GET /uploads/{name}`: an uploaded image, until its 72 h are over.
    func uploadedImage(_ request: Request, _ context: EmulatorContext) async throws -> Response {
        state.count(Endpoint.image)
        let name = context.parameters.get("name") ?? ""
        guard let upload = state.upload(name) else {
            return EmulatorRoutes.error(.notFound, code: "NoSuchKey", message: "The specified key does not exist.", type: "not_found")
        }
        guard state.now <= upload.createdAt + state.configuration.uploadLifetime else {
            return EmulatorRoutes.error(.forbidden, code: "AccessDenied", message: "Request has expired.", type: "expired")
        }
        let bytes = try await ByteBuffer(contentsOf: FilePath(upload.path), maximumSizeAllowed: .mebibytes(64))
        return Response(status: .ok, headers: [.contentType: upload.contentType], body: .init(byteBuffer: bytes))
    }

    /// The local file behind an image URL a task was given: one of our uploads, or a decoded data URL.
    /// External URLs are not fetched (the emulator works offline); such tasks render the prompt only.
    func localImage(_ url: String) -> String? {
        if let range = url.range(of: "/uploads/") {
            return state.upload(String(url[range.upperBound...]))?.path
        }
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ","),
            let data = Data(base64Encoded: String(url[url.index(after: comma)...]))
        else { return nil }
        let path = state.directory.appendingPathComponent("inline-\(SHA256.hex(of: data).prefix(16))").path
        if !FileManager.default.fileExists(atPath: path) {
            try? data.write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        return path
    }
}
