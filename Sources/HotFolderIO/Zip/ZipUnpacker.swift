// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import ZIPFoundation
#if canImport(Glibc)
import Glibc
#endif

/// Unpacks a ZIP archive dropped into the inbox into a folder beside it, named after it, so the watcher sees a
/// whole folder appear: the entries are written into a hidden temporary folder (`.<name>.unzip-XXXXXX`, which the
/// watcher ignores) and it is renamed into place when complete.
///
/// Only regular files and folders are written, each created new (`O_EXCL | O_NOFOLLOW`) under the temporary
/// folder; links are never created or followed, and an entry is streamed to disk, never held in memory whole.
/// A hostile archive (see ``ZipArchiveCheck``) is refused before anything is written.
public struct ZipUnpacker: Sendable {
    /// What became of an archive.
    public enum Outcome: Sendable, Hashable {
        /// Unpacked into `folder` (absolute), holding `files` files.
        case unpacked(folder: String, files: Int)
        /// Not unpacked; nothing was left behind.
        case refused(ZipRefusal)
        /// Unpacked before into `folder` (absolute), but the service stopped before the archive was moved away:
        /// not unpacked again (its jobs would be made, and paid for, twice).
        case unpackedBefore(folder: String)
    }

    /// A hidden file in each unpacked folder naming the archive it came from (device, inode, size, modification
    /// time and name), removed by ``finish(folder:)`` once the archive has left the inbox.
    public static let markerName = ".hotfolder-unpacked-from"

    /// The archive's identity as the marker records it; nil when it cannot be read.
    static func stamp(of archivePath: String) -> String? {
        guard let stat = FileSystemProbe.lstat(archivePath) else { return nil }
        let identity = stat.identity
        return "\(identity.device) \(identity.inode) \(identity.size) \(identity.mtimeNanoseconds) \((archivePath as NSString).lastPathComponent)\n"
    }

    /// The folder this very archive was unpacked into before, if its marker is still there.
    func unpackedBefore(_ archivePath: String, stem: String, stamp: String) -> String? {
        let directory = (archivePath as NSString).deletingLastPathComponent
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            guard name == stem || (name.hasPrefix(stem + "-") && Int(name.dropFirst(stem.count + 1)) != nil) else { continue }
            let marker = directory + "/" + name + "/" + Self.markerName
            if let data = FileManager.default.contents(atPath: marker), String(decoding: data, as: UTF8.self) == stamp {
                return directory + "/" + name
            }
        }
        return nil
    }

    /// Removes the marker once the archive is gone from the inbox.
    public static func finish(folder: String) {
        unlink(folder + "/" + markerName)
    }

    public var limits: ZipLimits

    public init(limits: ZipLimits = ZipLimits()) {
        self.limits = limits
    }

    /// Whether a file name is a ZIP archive to unpack (`.zip`, any case).
    public static func isArchive(_ name: String) -> Bool {
        name.lowercased().hasSuffix(".zip") && name.count > 4
    }

    /// Unpacks `archivePath` beside itself into `<name>/` (`<name>-2/`, … when taken, never replacing anything).
    ///
    /// - Throws: an ``OutboxError`` when the folder cannot be written (disk full, permissions); the temporary folder
    ///   is removed. A refused or unreadable archive is an ``Outcome/refused(_:)``, not an error.
    public func unpack(_ archivePath: String) throws -> Outcome {
        let planned: [ZipArchiveCheck.Planned]
        let infos: [ZipEntryInfo]
        do {
            infos = try ZipDirectoryReader.entries(ofArchive: archivePath, limits: limits)
            switch ZipArchiveCheck.check(infos, limits: limits) {
            case .success(let entries): planned = entries
            case .failure(let refusal): return .refused(refusal)
            }
        } catch let refusal as ZipRefusal {
            return .refused(refusal)
        } catch {
            return .refused(.unreadable(reason: "\(error)"))
        }
        let archive: Archive
        let entries: [ZIPFoundation.Entry]
        do {
            archive = try Archive(url: URL(fileURLWithPath: archivePath), accessMode: .read)
            entries = Array(archive)
        } catch {
            return .refused(.unreadable(reason: "\(error)"))
        }
        guard entries.count == infos.count else { return .refused(.unreadable(reason: "its entries cannot all be read")) }

        let directory = (archivePath as NSString).deletingLastPathComponent
        let archiveName = (archivePath as NSString).lastPathComponent
        let stem = String(archiveName.dropLast(4))
        guard let stamp = Self.stamp(of: archivePath) else { return .refused(.unreadable(reason: "it is gone")) }
        if let folder = unpackedBefore(archivePath, stem: stem, stamp: stamp) { return .unpackedBefore(folder: folder) }
        removeStaleTemporaryFolders(in: directory, for: stem)
        let temporary = try makeTemporaryFolder(in: directory, for: stem)
        var files = 0
        do {
            var written: UInt64 = 0
            for item in planned {
                let target = temporary + "/" + item.path
                if item.isDirectory {
                    try makeFolders(item.path, under: temporary)
                    continue
                }
                let parent = FileNameRules.folder(of: item.path)  // NSString traps on a one-character name
                if !parent.isEmpty { try makeFolders(parent, under: temporary) }
                try write(entries[item.index], of: archive, to: target, declared: item.size, total: &written)
                files += 1
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            if let refusal = error as? ZipRefusal { return .refused(refusal) }
            if let outbox = error as? OutboxError { throw outbox }
            return .refused(.unreadable(reason: "\(error)"))
        }
        do {
            try FileOperations.writeAtomically(Data(stamp.utf8), to: temporary + "/" + Self.markerName, replace: false)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        FileOperations.syncDirectory(of: temporary + "/x")
        // rename() never replaces a folder that holds anything, and an empty one replaced in the moment between
        // the check and the rename loses nothing; a file of that name makes it fail (ENOTDIR), then the next name.
        var placed: String?
        _ = try OutputNaming.uniqueStem(for: stem) { candidate in
            let destination = directory + "/" + candidate
            if FileOperations.exists(destination) { return true }
            if rename(temporary, destination) == 0 {
                placed = destination
                return false
            }
            if errno == ENOTEMPTY || errno == EEXIST || errno == ENOTDIR { return true }
            let code = errno
            try? FileManager.default.removeItem(atPath: temporary)
            throw OutboxError.from(errno: code, operation: "rename into place", path: destination)
        }
        guard let placed else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw OutboxError.noFreeName(directory: directory, name: stem)
        }
        FileOperations.syncDirectory(of: placed)
        return .unpacked(folder: placed, files: files)
    }

    /// Removes temporary folders an earlier unpack of this archive left when the service stopped half-way (the
    /// archive is still in the inbox, so it is unpacked again from the start).
    private func removeStaleTemporaryFolders(in directory: String, for stem: String) {
        let prefix = ".\(stem).unzip-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where name.hasPrefix(prefix) && name.count == prefix.count + 6 && FileOperations.isDirectory(directory + "/" + name) {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }

    /// Creates `.<stem>.unzip-XXXXXX` in `directory` (mode 0700 while it is written, 0755 once renamed).
    private func makeTemporaryFolder(in directory: String, for stem: String) throws -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        for _ in 0..<100 {
            let random = String((0..<6).map { _ in alphabet.randomElement()! })
            let path = directory + "/.\(stem).unzip-\(random)"
            if mkdir(path, 0o755) == 0 { return path }
            if errno != EEXIST { throw OutboxError.from(errno: errno, operation: "create the folder", path: path) }
        }
        throw OutboxError.noFreeName(directory: directory, name: ".\(stem).unzip")
    }

    /// Creates each folder of the relative `path` under `root` that is missing; an existing non-folder fails.
    private func makeFolders(_ path: String, under root: String) throws {
        var current = root
        for component in path.split(separator: "/") {
            current += "/\(component)"
            if mkdir(current, 0o755) == 0 { continue }
            let code = errno
            guard code == EEXIST, FileOperations.isDirectory(current) else {
                if code == EEXIST || code == ENOTDIR { throw ZipRefusal.duplicate(entry: path) }
                throw OutboxError.from(errno: code, operation: "create the folder", path: current)
            }
        }
    }

    /// Streams one entry into a new regular file, checking its size against the directory's and the total limit
    /// as it goes (a forged size in the directory does not let a bomb through) and its CRC-32 at the end.
    private func write(_ entry: ZIPFoundation.Entry, of archive: Archive, to target: String, declared: UInt64, total: inout UInt64) throws {
        var count: UInt64 = 0
        var sum = total
        let limit = limits.maxBytes
        let name = entry.path
        try FileOperations.createExclusive(target, mode: 0o644) { descriptor, path in
            _ = try archive.extract(entry, bufferSize: 64 * 1024, skipCRC32: false) { data in
                count += UInt64(data.count)
                sum += UInt64(data.count)
                if count > declared {
                    throw ZipRefusal.unreadable(reason: "the entry \"\(name)\" is larger than the archive says")
                }
                if sum > limit { throw ZipRefusal.tooLarge(bytes: sum, limit: limit) }
                try FileOperations.writeAll(descriptor, data, path: path)
            }
        }
        total = sum
    }
}
