// SPDX-License-Identifier: GPL-2.0-or-later
import Glibc
import HotFolderCore

/// The names in one folder and what `fstatat` last said about each, kept between poll scans.
///
/// Names are raw bytes in one buffer (NUL after each), sorted bytewise, so a scan compares and stats them
/// without making a `String` per file; a `String` is made only for an entry that is new or changed.
struct FolderListing: Sendable {
    /// One name in the folder.
    struct Record: Sendable {
        /// Offset of the name's first byte in ``FolderListing/names``.
        var start: Int32
        /// Length of the name in bytes (without the NUL).
        var length: Int32
        /// The entry's `lstat` at the last scan (for a folder: only its kind).
        var stat: FileStat
        /// False when the consumer forgot this entry: it is reported again at the next scan even if unchanged.
        var reported: Bool
        /// An excluded folder, or a name that is not UTF-8: kept so the listing stays complete, never entered or reported.
        var skipped: Bool
        /// Scanner-clock seconds when ``stat`` was first seen as it is (the file settles once it stays so).
        var changedAt: Double = 0
    }

    /// Every name, each followed by a NUL.
    var names: [UInt8] = []
    /// The entries, sorted by name bytes.
    var records: [Record] = []
    /// The folder's own mtime when it was last listed (nanoseconds), and its inode.
    var mtime: Int64 = .min
    var inode: UInt64 = 0
    /// Monotonic seconds when the current mtime was first seen, and when the folder was last listed.
    var mtimeFirstSeen: Double = 0
    var listedAt: Double = 0

    /// Whether the cached names may be reused for a folder whose `fstat` is `current`: same inode and mtime,
    /// and the last listing started at least `margin` seconds after this mtime was first seen, so a change
    /// made within the same timestamp tick (1 ns to 2 s, by file system) as the one that set it is not missed.
    func isUnchanged(_ current: FileStat, margin: Double) -> Bool {
        current.mtimeNanoseconds == mtime && current.inode == inode && listedAt - mtimeFirstSeen >= margin
    }

    /// The name of `record` as raw bytes, passed to `body` as a NUL-terminated C string.
    func withName<T>(_ record: Record, _ body: (UnsafePointer<CChar>) -> T) -> T {
        names.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { body($0 + Int(record.start)) }
        }
    }

    /// The name of `record` as a `String`, or nil when it is not valid UTF-8.
    func name(_ record: Record) -> String? {
        let bytes = names[Int(record.start)..<Int(record.start + record.length)]
        return String(validating: bytes, as: UTF8.self)
    }

    /// Reads the names of the open folder `fd` (which it closes), sorted bytewise; `.`/`..` left out.
    ///
    /// Returns nil and leaves `errno` set when the folder cannot be read.
    static func read(_ fd: Int32) -> (names: [UInt8], records: [Record], types: [UInt8], inodes: [UInt64])? {
        guard let dir = fdopendir(fd) else {
            close(fd)
            return nil
        }
        defer { closedir(dir) }
        var names: [UInt8] = []
        var records: [Record] = []
        var types: [UInt8] = []
        var inodes: [UInt64] = []
        errno = 0
        while let entry = readdir(dir) {
            let type = entry.pointee.d_type
            let appended = withUnsafeBytes(of: &entry.pointee.d_name) { raw -> Bool in
                let length = strlen(raw.baseAddress!.assumingMemoryBound(to: CChar.self))
                if length == 1 && raw[0] == 0x2E || length == 2 && raw[0] == 0x2E && raw[1] == 0x2E { return false }
                records.append(
                    Record(start: Int32(names.count), length: Int32(length), stat: Self.unknown, reported: false, skipped: false))
                names.append(contentsOf: raw[0..<length])
                names.append(0)
                return true
            }
            if appended {
                types.append(type)
                inodes.append(UInt64(entry.pointee.d_ino))
            }
        }
        // Sort records (and their d_types and d_inos) by name bytes, so two listings merge in one pass.
        let order = names.withUnsafeBufferPointer { buffer in
            records.indices.sorted { compare(buffer, records[$0], buffer, records[$1]) < 0 }
        }
        return (names, order.map { records[$0] }, order.map { types[$0] }, order.map { inodes[$0] })
    }

    /// Bytewise order of two names (possibly from different buffers).
    static func compare(_ a: UnsafeBufferPointer<UInt8>, _ ra: Record, _ b: UnsafeBufferPointer<UInt8>, _ rb: Record) -> Int32 {
        let common = Int(min(ra.length, rb.length))
        let order = memcmp(a.baseAddress! + Int(ra.start), b.baseAddress! + Int(rb.start), common)
        if order != 0 { return order }
        return ra.length == rb.length ? 0 : (ra.length < rb.length ? -1 : 1)
    }

    /// A placeholder stat for an entry not examined yet.
    static let unknown = FileStat(kind: .other, device: 0, inode: 0, size: -1, mtimeNanoseconds: .min)
}
