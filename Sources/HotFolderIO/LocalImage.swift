// SPDX-License-Identifier: GPL-2.0-or-later
import Crypto
import Foundation
import HotFolderCore
import NIOCore
import _NIOFileSystem

/// A local image checked for sending: its format (by magic bytes), size and content hash, read in chunks.
struct LocalImage: Sendable {
    var path: String
    var format: ImageContentType
    var size: Int64
    var sha256: String

    /// Opens the image once, never following a symbolic link, checks and hashes it, and hands `body` the facts
    /// and the same open file: what was validated is what is sent, even if the path is swapped meanwhile.
    static func withChecked<T: Sendable>(
        path: String, maxBytes: Int64, _ body: (LocalImage, ReadFileHandle) async throws -> T
    ) async throws(VideoAPIError) -> T {
        do {
            let options = OpenOptions.Read(followSymbolicLinks: false, closeOnExec: true)
            return try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path), options: options) { handle in
                let image = try await inspect(handle, path: path, maxBytes: maxBytes)
                return try await body(image, handle)
            }
        } catch let error as VideoAPIError {
            throw error
        } catch {
            throw .unusableImage(path: path, reason: "it cannot be read, or is a symbolic link (\(error)).")
        }
    }

    /// Checks and hashes the image at `path` (see ``withChecked(path:maxBytes:_:)``).
    static func inspect(path: String, maxBytes: Int64) async throws(VideoAPIError) -> LocalImage {
        try await withChecked(path: path, maxBytes: maxBytes) { image, _ in image }
    }

    /// Reads the open file once, in chunks, to check it and hash it without holding it in memory.
    private static func inspect(_ handle: ReadFileHandle, path: String, maxBytes: Int64) async throws -> LocalImage {
        let info = try await handle.info()
        guard info.type == .regular else { throw VideoAPIError.unusableImage(path: path, reason: "it is not a regular file.") }
        guard info.size <= maxBytes else {
            throw VideoAPIError.unusableImage(path: path, reason: "it has \(info.size) bytes, more than the \(maxBytes)-byte limit.")
        }
        var hash = Crypto.SHA256()
        var format: ImageContentType?
        var first = true
        for try await chunk in handle.readChunks(in: 0..<info.size, chunkLength: .kibibytes(256)) {
            chunk.withUnsafeReadableBytes { hash.update(bufferPointer: $0) }
            if first {
                format = ImageContentType.sniff(chunk.readableBytesView)
                first = false
            }
        }
        guard let format else {
            throw VideoAPIError.unusableImage(path: path, reason: "it is not a JPEG, PNG, WebP or GIF image.")
        }
        return LocalImage(path: path, format: format, size: info.size, sha256: hash.finalize().hexString)
    }

    /// The open file as a `data:` URL for Ark (bounded by the size checked when it was opened).
    func dataURL(from handle: ReadFileHandle) async throws -> String {
        let buffer = try await handle.readToEnd(fromAbsoluteOffset: 0, maximumSizeAllowed: .bytes(size + 1))
        return "data:\(format.mimeType);base64," + Data(buffer.readableBytesView).base64EncodedString()
    }
}

/// A multipart/form-data body with one `file` field whose content streams from disk.
struct MultipartFileBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let prefix: ByteBuffer
    let chunks: FileChunks
    let suffix: ByteBuffer

    init(boundary: String, fileName: String, contentType: String, chunks: FileChunks) {
        let safeName = fileName.replacingOccurrences(of: "\"", with: "_")
        prefix = ByteBuffer(
            string: "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(safeName)\"\r\n"
                + "Content-Type: \(contentType)\r\n\r\n")
        self.chunks = chunks
        suffix = ByteBuffer(string: "\r\n--\(boundary)--\r\n")
    }

    /// Total body length for a file of `fileSize` bytes.
    func length(fileSize: Int64) -> Int64 { Int64(prefix.readableBytes + suffix.readableBytes) + fileSize }

    func makeAsyncIterator() -> Iterator { Iterator(body: self) }

    struct Iterator: AsyncIteratorProtocol {
        let body: MultipartFileBody
        var stage = 0
        var file: FileChunks.AsyncIterator?

        init(body: MultipartFileBody) { self.body = body }

        mutating func next() async throws -> ByteBuffer? {
            switch stage {
            case 0:
                stage = 1
                file = body.chunks.makeAsyncIterator()
                return body.prefix
            case 1:
                if let chunk = try await file?.next() { return chunk }
                stage = 2
                return body.suffix
            default:
                return nil
            }
        }
    }
}
