// SPDX-License-Identifier: GPL-2.0-or-later
import Crypto
import Foundation
import HotFolderCore
import NIOCore
import Synchronization
import _NIOFileSystem

/// A local image checked for sending: its format (by magic bytes), size and content hash, read in chunks.
struct LocalImage: Sendable {
    var path: String
    var format: ImageContentType
    var size: Int64
    var sha256: String

    /// Opens the image once, never following a symbolic link, checks and hashes it, and hands `body` the facts
    /// and the same open file: what was validated is what is sent, even if the path is swapped meanwhile.
    /// Without `hashing`, only its first bytes are read (its format) and `sha256` is empty: the caller hashes it.
    static func withChecked<T: Sendable>(
        path: String, maxBytes: Int64, hashing: Bool = true, _ body: (LocalImage, ReadFileHandle) async throws -> T
    ) async throws(VideoAPIError) -> T {
        do {
            let options = OpenOptions.Read(followSymbolicLinks: false, closeOnExec: true)
            return try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path), options: options) { handle in
                let image = try await inspect(handle, path: path, maxBytes: maxBytes, hashing: hashing)
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

    /// Checks the open file (type, size, format from its first bytes) and, with `hashing`, reads it once, in chunks,
    /// to hash it without holding it in memory.
    private static func inspect(_ handle: ReadFileHandle, path: String, maxBytes: Int64, hashing: Bool) async throws -> LocalImage {
        let info = try await handle.info()
        guard info.type == .regular else { throw VideoAPIError.unusableImage(path: path, reason: "it is not a regular file.") }
        guard info.size <= maxBytes else {
            throw VideoAPIError.unusableImage(path: path, reason: "it has \(info.size) bytes, more than the \(maxBytes)-byte limit.")
        }
        let head = try await handle.readChunk(fromAbsoluteOffset: 0, length: .bytes(16))
        guard let format = ImageContentType.sniff(head.readableBytesView) else {
            throw VideoAPIError.unusableImage(path: path, reason: "it is not a JPEG, PNG, WebP or GIF image.")
        }
        let sha256 = hashing ? try await Self.sha256(of: handle, size: info.size) : ""
        return LocalImage(path: path, format: format, size: info.size, sha256: sha256)
    }

    /// The SHA-256 of the open file's first `size` bytes, read in chunks.
    static func sha256(of handle: ReadFileHandle, size: Int64) async throws -> String {
        var hash = Crypto.SHA256()
        for try await chunk in handle.readChunks(in: 0..<size, chunkLength: .kibibytes(256)) {
            chunk.withUnsafeReadableBytes { hash.update(bufferPointer: $0) }
        }
        return hash.finalize().hexString
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
    /// Receives the SHA-256 of the file bytes sent, when set.
    let digest: SentDigest?

    init(boundary: String, fileName: String, contentType: String, chunks: FileChunks, digest: SentDigest? = nil) {
        let safeName = fileName.replacingOccurrences(of: "\"", with: "_")
        prefix = ByteBuffer(
            string: "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(safeName)\"\r\n"
                + "Content-Type: \(contentType)\r\n\r\n")
        self.chunks = chunks
        suffix = ByteBuffer(string: "\r\n--\(boundary)--\r\n")
        self.digest = digest
    }

    /// Total body length for a file of `fileSize` bytes.
    func length(fileSize: Int64) -> Int64 { Int64(prefix.readableBytes + suffix.readableBytes) + fileSize }

    func makeAsyncIterator() -> Iterator { Iterator(body: self) }

    struct Iterator: AsyncIteratorProtocol {
        let body: MultipartFileBody
        var stage = 0
        var file: FileChunks.AsyncIterator?
        /// This pass's hash of the file bytes (a body sent again starts a new pass).
        var hash = Crypto.SHA256()
        var hashed: Int64 = 0

        init(body: MultipartFileBody) { self.body = body }

        mutating func next() async throws -> ByteBuffer? {
            switch stage {
            case 0:
                stage = 1
                file = body.chunks.makeAsyncIterator()
                return body.prefix
            case 1:
                if let chunk = try await file?.next() {
                    if body.digest != nil {
                        chunk.withUnsafeReadableBytes { hash.update(bufferPointer: $0) }
                        hashed += Int64(chunk.readableBytes)
                    }
                    return chunk
                }
                body.digest?.finish(hash, bytes: hashed)
                stage = 2
                return body.suffix
            default:
                return nil
            }
        }
    }
}

/// The SHA-256 of the file part of a ``MultipartFileBody``, set when a pass sent the whole file.
final class SentDigest: Sendable {
    private let size: Int64
    private let value = Mutex<String?>(nil)

    init(size: Int64) { self.size = size }

    /// The hex hash of the bytes sent; nil until a pass reached the end of the file.
    var sha256: String? { value.withLock { $0 } }

    func finish(_ hash: Crypto.SHA256, bytes: Int64) {
        guard bytes == size else { return }  // the file shrank: the body fails on its declared length
        let hex = hash.finalize().hexString
        value.withLock { $0 = hex }
    }
}
