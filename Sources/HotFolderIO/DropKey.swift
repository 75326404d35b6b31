// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

/// What makes a drop the same drop on every node: each file's inbox-relative path, size, modification time and
/// content hash.
///
/// Not the device and inode: they differ between two machines mounting the same share. The key is the SHA-256 of
/// the files' facts in path order, so it has a fixed length whatever the drop holds.
public struct DropKey: Sendable, Hashable, CustomStringConvertible {
    /// One file of the drop.
    public struct File: Sendable, Hashable {
        /// The path relative to the inbox.
        public var relativePath: String
        /// Its size in bytes.
        public var size: Int64
        /// Its modification time, nanoseconds since 1970.
        public var mtimeNs: Int64
        /// Its content's SHA-256, lowercase hex.
        public var sha256: String

        /// Creates a file's facts.
        public init(relativePath: String, size: Int64, mtimeNs: Int64, sha256: String) {
            self.relativePath = relativePath
            self.size = size
            self.mtimeNs = mtimeNs
            self.sha256 = sha256
        }
    }

    /// The key as stored: 64 lowercase hex digits.
    public let value: String

    /// The key of a drop made of `files` (in any order).
    public init(files: [File]) {
        let lines = files.sorted { $0.relativePath < $1.relativePath }.map { file in
            // NUL cannot occur in a path, so no two different drops share a text.
            "\(file.relativePath)\u{0}\(file.size)\u{0}\(file.mtimeNs)\u{0}\(file.sha256)"
        }
        value = SHA256.hex(of: Array(lines.joined(separator: "\n").utf8))
    }

    /// The key of job `name` (`lane/name`) made of `files`: a drop that makes several jobs (a manifest's rows, an
    /// image's variants) registers one key per job.
    public init(job name: String, files: [File]) {
        let lines = ["job\u{0}" + name] + files.sorted { $0.relativePath < $1.relativePath }.map { file in
            "\(file.relativePath)\u{0}\(file.size)\u{0}\(file.mtimeNs)\u{0}\(file.sha256)"
        }
        value = SHA256.hex(of: Array(lines.joined(separator: "\n").utf8))
    }

    /// A key as stored (read back from the database).
    public init(value: String) {
        self.value = value
    }

    /// The key's value.
    public var description: String { value }
}
