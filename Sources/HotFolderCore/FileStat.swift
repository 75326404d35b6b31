// SPDX-License-Identifier: GPL-2.0-or-later

/// What `lstat` says about a directory entry, reduced to what the hot folder needs.
public struct FileStat: Sendable, Hashable, Codable {
    /// The kind of entry (symlinks are never followed).
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A regular file: the only kind that can become ready.
        case regular
        /// A directory.
        case directory
        /// A symbolic link (never followed by the watcher).
        case symlink
        /// A named pipe.
        case fifo
        /// A socket, device or anything else.
        case other
    }

    /// Entry kind.
    public var kind: Kind
    /// Device number.
    public var device: UInt64
    /// Inode number.
    public var inode: UInt64
    /// Size in bytes.
    public var size: Int64
    /// Modification time in nanoseconds since the epoch.
    public var mtimeNanoseconds: Int64

    /// Creates a stat record.
    public init(kind: Kind, device: UInt64, inode: UInt64, size: Int64, mtimeNanoseconds: Int64) {
        self.kind = kind
        self.device = device
        self.inode = inode
        self.size = size
        self.mtimeNanoseconds = mtimeNanoseconds
    }

    /// The identity used to emit an unchanged file only once: device, inode, size and mtime.
    public var identity: FileIdentity {
        FileIdentity(device: device, inode: inode, size: size, mtimeNanoseconds: mtimeNanoseconds)
    }
}

/// Identifies one version of one file: if any part changes, the file counts as new.
public struct FileIdentity: Sendable, Hashable, Codable {
    /// Device number.
    public var device: UInt64
    /// Inode number.
    public var inode: UInt64
    /// Size in bytes.
    public var size: Int64
    /// Modification time in nanoseconds since the epoch.
    public var mtimeNanoseconds: Int64

    /// Creates an identity.
    public init(device: UInt64, inode: UInt64, size: Int64, mtimeNanoseconds: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.mtimeNanoseconds = mtimeNanoseconds
    }
}
