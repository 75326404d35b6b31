// SPDX-License-Identifier: GPL-2.0-or-later
import Crypto
import Glibc
import HotFolderCore

/// Content hashes of inbox files, read in chunks so a large image never sits in memory whole.
public enum FileDigest {
    /// Why a file could not be hashed.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// The file.
        public var path: String
        /// The `errno` of the failed call.
        public var errno: Int32
        /// One sentence.
        public var description: String { "cannot read \(path): \(String(cString: strerror(errno)))" }
    }

    /// The lowercase hex SHA-256 of a regular file; symlinks are not followed and FIFOs never block.
    public static func sha256(ofFile path: String) throws(Failure) -> String {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(path: path, errno: errno) }
        defer { close(fd) }
        var hash = Crypto.SHA256()
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(path: path, errno: errno)
            }
            if count == 0 { break }
            buffer.withUnsafeBytes { hash.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
        return hash.finalize().hexString
    }
}

extension Crypto.SHA256.Digest {
    /// Lowercase hex, as stored and shown.
    var hexString: String {
        var text = ""
        text.reserveCapacity(64)
        for byte in self {
            text.append(Self.hexDigits[Int(byte >> 4)])
            text.append(Self.hexDigits[Int(byte & 0x0F)])
        }
        return text
    }

    private static let hexDigits = Array("0123456789abcdef")
}
