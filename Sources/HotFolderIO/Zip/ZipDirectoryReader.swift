// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

/// Reads a ZIP archive's central directory (only the end of the file) into ``ZipEntryInfo`` values: the
/// attributes ZIPFoundation keeps to itself (the Unix file type, the encryption flag) decide what is unpacked.
enum ZipDirectoryReader {
    /// The entries in central-directory order.
    ///
    /// - Throws: ``ZipRefusal/unreadable(reason:)`` for a file that is not a readable ZIP, and
    ///   ``ZipRefusal/tooManyEntries(count:limit:)`` before reading a directory larger than `limits` allow.
    static func entries(ofArchive path: String, limits: ZipLimits) throws -> [ZipEntryInfo] {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ZipRefusal.unreadable(reason: "it cannot be opened") }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let tailLength = min(size, 65_557)
        try handle.seek(toOffset: size - tailLength)
        let tail = [UInt8](try handle.read(upToCount: Int(tailLength)) ?? Data())
        guard tail.count >= 22,
            let eocd = stride(from: tail.count - 22, through: 0, by: -1).first(where: { tail.le32($0) == 0x0605_4b50 })
        else { throw ZipRefusal.unreadable(reason: "it is not a ZIP archive (no central directory)") }
        var count = UInt64(tail.le16(eocd + 10))
        var directorySize = UInt64(tail.le32(eocd + 12))
        var directoryOffset = UInt64(tail.le32(eocd + 16))
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // ZIP64: the locator sits just before the classic record and points at the 64-bit one.
            guard eocd >= 20, tail.le32(eocd - 20) == 0x0706_4b50 else {
                throw ZipRefusal.unreadable(reason: "its ZIP64 directory record is missing")
            }
            try handle.seek(toOffset: tail.le64(eocd - 12))
            let record = [UInt8](try handle.read(upToCount: 56) ?? Data())
            guard record.count == 56, record.le32(0) == 0x0606_4b50 else {
                throw ZipRefusal.unreadable(reason: "its ZIP64 directory record is damaged")
            }
            count = record.le64(32)
            directorySize = record.le64(40)
            directoryOffset = record.le64(48)
        }
        if count > UInt64(limits.maxEntries) { throw ZipRefusal.tooManyEntries(count: Int(clamping: count), limit: limits.maxEntries) }
        // 1,000 entries with long names are well under a megabyte; a larger directory is a damaged or hostile file.
        guard directorySize <= 16 << 20, directoryOffset <= size, directorySize <= size - directoryOffset else {
            throw ZipRefusal.unreadable(reason: "its central directory is damaged")
        }
        try handle.seek(toOffset: directoryOffset)
        let directory = [UInt8](try handle.read(upToCount: Int(directorySize)) ?? Data())
        var entries: [ZipEntryInfo] = []
        var at = 0
        for _ in 0..<count {
            guard at + 46 <= directory.count, directory.le32(at) == 0x0201_4b50 else {
                throw ZipRefusal.unreadable(reason: "its central directory is damaged")
            }
            let versionMadeBy = directory.le16(at + 4)
            let flags = directory.le16(at + 8)
            let method = directory.le16(at + 10)
            var compressed = UInt64(directory.le32(at + 20))
            var uncompressed = UInt64(directory.le32(at + 24))
            let nameLength = Int(directory.le16(at + 28))
            let extraLength = Int(directory.le16(at + 30))
            let commentLength = Int(directory.le16(at + 32))
            let attributes = directory.le32(at + 38)
            let nameStart = at + 46
            guard nameStart + nameLength + extraLength + commentLength <= directory.count else {
                throw ZipRefusal.unreadable(reason: "its central directory is damaged")
            }
            let nameBytes = directory[nameStart..<nameStart + nameLength]
            let name = String(decoding: nameBytes, as: UTF8.self)
            if uncompressed == 0xFFFF_FFFF || compressed == 0xFFFF_FFFF {
                var extra = nameStart + nameLength
                let end = extra + extraLength
                while extra + 4 <= end {
                    let id = directory.le16(extra)
                    let length = Int(directory.le16(extra + 2))
                    if id == 0x0001 {
                        var field = extra + 4
                        if uncompressed == 0xFFFF_FFFF, field + 8 <= end {
                            uncompressed = directory.le64(field)
                            field += 8
                        }
                        if compressed == 0xFFFF_FFFF, field + 8 <= end { compressed = directory.le64(field) }
                        break
                    }
                    extra += 4 + length
                }
            }
            entries.append(
                ZipEntryInfo(
                    name: name, kind: ZipEntryInfo.kind(name: name, versionMadeBy: versionMadeBy, externalAttributes: attributes),
                    uncompressedSize: uncompressed, compressedSize: compressed,
                    isEncrypted: flags & 1 != 0 || method == 99))
            at = nameStart + nameLength + extraLength + commentLength
        }
        return entries
    }
}

extension [UInt8] {
    fileprivate func le16(_ at: Int) -> UInt16 { UInt16(self[at]) | UInt16(self[at + 1]) << 8 }
    fileprivate func le32(_ at: Int) -> UInt32 { UInt32(le16(at)) | UInt32(le16(at + 2)) << 16 }
    fileprivate func le64(_ at: Int) -> UInt64 { UInt64(le32(at)) | UInt64(le32(at + 4)) << 32 }
}
