// SPDX-License-Identifier: GPL-2.0-or-later
import CInotifyTools
import Glibc
import HotFolderCore

/// Thin wrappers over `lstat`/`statfs` that never follow symlinks.
public enum FileSystemProbe {
    /// `lstat` of a path, or nil when it does not exist (or cannot be examined).
    public static func lstat(_ path: String) -> FileStat? {
        var st = stat()
        guard Glibc.lstat(path, &st) == 0 else { return nil }
        return FileStat(st)
    }

    /// Network and user-space file systems on which inotify misses changes made by other hosts.
    public enum FileSystemKind: Sendable, Equatable, CustomStringConvertible {
        /// A local file system: inotify sees every change.
        case local(String)
        /// A network or FUSE file system: changes from other hosts produce no events.
        case remote(String)

        /// The file system's short name, e.g. `ext4` or `nfs`.
        public var description: String {
            switch self {
            case .local(let name), .remote(let name): name
            }
        }

        /// Whether inotify cannot be trusted here.
        public var needsPolling: Bool {
            if case .remote = self { return true }
            return false
        }

        /// Whether a folder's mtime changes whenever a name is added, removed or renamed in it, as seen from this
        /// host, so poll mode may skip reading a folder whose mtime did not change.
        ///
        /// True for local file systems and NFS (the server sets the folder's mtime on every change; a client's
        /// attribute cache delays it exactly as it delays a fresh listing). False for SMB/CIFS (some servers,
        /// among them older Samba set-ups and NAS firmware, leave a folder's mtime alone when another client adds
        /// a file), FUSE (up to each implementation) and the other network file systems, which are not checked.
        public var trustsFolderMtime: Bool {
            switch self {
            case .local: true
            case .remote(let name): name == "nfs"
            }
        }
    }

    // statfs f_type magic numbers (linux/magic.h and the file systems' own headers).
    private static let remoteMagic: [UInt: String] = [
        0x6969: "nfs", 0x517B: "smb", 0xFF53_4D42: "cifs", 0xFE53_4D42: "smb2",
        0x6573_5546: "fuse", 0x0102_1997: "9p", 0x00C3_6400: "ceph", 0x5346_414F: "afs",
        0x564C: "ncp", 0x7375_7245: "coda", 0x0BD0_0BD0: "lustre", 0x1373: "devfs-remote",
        0x4749_4653: "gpfs", 0xAAD7_AAEA: "panfs", 0x0BAD_1DEA: "vxfs-remote",
    ]
    private static let localMagic: [UInt: String] = [
        0xEF53: "ext4", 0x5846_5342: "xfs", 0x9123_683E: "btrfs", 0x0102_1994: "tmpfs",
        0x794C_7630: "overlayfs", 0x2FC1_2FC1: "zfs", 0x4D44: "vfat", 0x2011_BAB0: "exfat",
        0x5346_544E: "ntfs", 0xF2F5_2010: "f2fs", 0x3153_464A: "jfs", 0x5265_4973: "reiserfs",
    ]

    /// Identifies the file system holding `path`, or nil if `statfs` fails.
    public static func fileSystemKind(of path: String) -> FileSystemKind? {
        let magic = UInt(cit_fs_magic(path))
        guard magic != 0 else { return nil }
        if let name = remoteMagic[magic] { return .remote(name) }
        return .local(localMagic[magic] ?? "0x" + String(magic, radix: 16))
    }
}

extension FileStat {
    /// Converts a C `stat` record.
    init(_ st: stat) {
        let kind: Kind
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        case S_IFIFO: kind = .fifo
        default: kind = .other
        }
        self.init(
            kind: kind, device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
            mtimeNanoseconds: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
    }
}
