// SPDX-License-Identifier: GPL-2.0-or-later
import AsyncHTTPClient
import Foundation
import HotFolderCore
import NIOCore
import NIOHTTP1
import _NIOFileSystem

#if canImport(Glibc)
    import Glibc
#endif

/// Downloads a result video safely: into `.NAME.RANDOM.part` beside the destination (hidden and `.part`,
/// so the watcher ignores it), checking status, content type, length and the MP4 signature; the temporary
/// file is renamed into place only when complete and removed on any failure.
struct VideoDownloader: Sendable {
    let transport: HTTPTransport

    /// Content types a video download may carry (CDNs often label MP4s as octet streams).
    static let acceptedContentTypes = ["video/", "application/octet-stream", "binary/octet-stream"]

    func download(from url: String, to destination: String) async throws -> Int64 {
        let configuration = transport.configuration
        let shownURL = VideoDownloader.withoutQuery(url)
        let destinationPath = FilePath(destination)
        let directory = destinationPath.removingLastComponent()
        let temporary = directory.appending(".\(destinationPath.lastComponent?.string ?? "video").\(TemporaryFiles.mark)\(UUID().uuidString.prefix(8)).part")
        // Result URLs are pre-signed CDN links: they get no Authorization header, so the key never leaves for them.
        let request = HTTPClientRequest(url: url)
        do {
            let bytes = try await withTimeout(configuration.downloadTimeout) { [transport, request] in
                let response = try await transport.client.execute(
                    request, timeout: .milliseconds(Int64(configuration.downloadTimeout * 1000)))
                try VideoDownloader.check(response, url: shownURL, limit: configuration.maxDownloadBytes)
                let expected = response.headers.first(name: "Content-Length").flatMap { Int64($0) }
                let written = try await VideoDownloader.write(response.body, to: temporary, url: shownURL, limit: configuration.maxDownloadBytes)
                if let expected, written != expected {
                    throw VideoAPIError.downloadFailed(
                        url: shownURL, category: .transient,
                        reason: "the connection ended after \(written) of \(expected) bytes.")
                }
                return written
            }
            // link() never replaces: a video already at `destination` (another job's, or a person's) stays.
            guard link(temporary.string, destination) == 0 else {
                let code = errno
                let reason = code == EEXIST ? "a file with that name is already there; it is left untouched." : String(cString: strerror(code))
                throw VideoAPIError.fileSystem(path: destination, reason: reason)
            }
            unlink(temporary.string)
            return bytes
        } catch {
            _ = try? await FileSystem.shared.removeItem(at: temporary, strategy: .platformDefault, recursively: false)
            throw map(error, url: shownURL, destination: destination)
        }
    }

    private static func check(_ response: HTTPClientResponse, url: String, limit: Int64) throws {
        let status = Int(response.status.code)
        switch status {
        case 200:
            break
        case 401, 403, 404, 410:
            throw VideoAPIError.downloadFailed(url: url, category: .expired, reason: "the server answered HTTP \(status); the link has expired.")
        case 408, 429, 500...599:
            throw VideoAPIError.downloadFailed(url: url, category: .transient, reason: "the server answered HTTP \(status).")
        default:
            throw VideoAPIError.downloadFailed(url: url, category: .transient, reason: "the server answered HTTP \(status) instead of 200.")
        }
        let type = response.headers.first(name: "Content-Type")?.lowercased() ?? ""
        if !type.isEmpty, !acceptedContentTypes.contains(where: { type.hasPrefix($0) }) {
            throw VideoAPIError.downloadFailed(url: url, category: .transient, reason: "the answer is \(type), not a video.")
        }
        if let length = response.headers.first(name: "Content-Length").flatMap({ Int64($0) }), length > limit {
            throw VideoAPIError.downloadFailed(url: url, category: .transient, reason: "the video has \(length) bytes, more than the \(limit)-byte limit.")
        }
    }

    private static func write(_ body: HTTPClientResponse.Body, to path: FilePath, url: String, limit: Int64) async throws -> Int64 {
        try await FileSystem.shared.withFileHandle(forWritingAt: path, options: .newFile(replaceExisting: false)) { handle in
            var writer = handle.bufferedWriter()
            var written: Int64 = 0
            var head: [UInt8] = []
            for try await chunk in body {
                if head.count < 12 { head += chunk.readableBytesView.prefix(12 - head.count) }
                written += Int64(chunk.readableBytes)
                if written > limit {
                    throw VideoAPIError.downloadFailed(url: url, category: .transient, reason: "the video is larger than the \(limit)-byte limit.")
                }
                try await writer.write(contentsOf: chunk)
            }
            try await writer.flush()
            guard written > 0 else {
                throw VideoAPIError.downloadFailed(url: url, category: .transient, reason: "the answer was empty.")
            }
            // An MP4 starts with a box whose type, at offset 4, is `ftyp`.
            guard head.count >= 8, Array(head[4..<8]) == Array("ftyp".utf8) else {
                throw VideoAPIError.downloadFailed(url: url, category: .transient, reason: "the answer is not an MP4 file.")
            }
            try await handle.synchronize()
            return written
        }
    }

    private func map(_ error: any Error, url: String, destination: String) -> VideoAPIError {
        switch error {
        case let error as VideoAPIError:
            return error
        case is TimeoutError:
            return .timedOut(operation: .download, seconds: transport.configuration.downloadTimeout)
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout:
            return .timedOut(operation: .download, seconds: transport.configuration.downloadTimeout)
        case let error as FileSystemError:
            return .fileSystem(path: destination, reason: error.message)
        default:
            return .downloadFailed(
                url: url, category: .transient,
                reason: "the connection broke (\(transport.configuration.apiKey.redact(String(describing: error)))).")
        }
    }

    /// The URL without its query, which may hold a signature that does not belong in logs.
    static func withoutQuery(_ url: String) -> String {
        url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
    }
}
