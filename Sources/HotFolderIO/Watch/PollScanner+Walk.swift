// SPDX-License-Identifier: GPL-2.0-or-later
import Glibc
import HotFolderCore

extension PollScanner {
    /// One scan: visits folders depth first, one open descriptor per level.
    struct Walk {
        let scanner: PollScanner
        var folders: [String: FolderListing]
        let emit: (WatchSignal) -> Void
        let problem: (DirectoryWalker.Problem) -> Void
        /// The scanner's clock at the start of this scan, and the scan's number (which settled files take their turn).
        let now: Double
        let number: UInt64
        var summary = Summary()

        /// Whether a file need not be examined this scan: settled, reported, and not its turn.
        func waits(_ record: FolderListing.Record) -> Bool {
            let every = UInt64(scanner.settledEvery)
            return every > 1 && record.reported && now - record.changedAt >= scanner.settledAfter
                && (record.stat.inode &+ number) % every != 0
        }

        /// Where a folder's entries live: `root/relative/`.
        func prefix(_ relative: String) -> String {
            let base = scanner.root == "/" ? "" : scanner.root
            return relative.isEmpty ? base + "/" : base + "/" + relative + "/"
        }

        /// Visits the folder `relative` open as `fd` (the caller closes it) and everything below it.
        mutating func visit(relative: String, fd: Int32, depth: Int) {
            var info = stat()
            guard fstat(fd, &info) == 0 else { return }
            let current = FileStat(info)
            var listing = folders.removeValue(forKey: relative) ?? FolderListing()
            // The folder's own times are taken when it is visited: its listing must start `mtimeMargin` after its mtime was first seen.
            let visitedAt = scanner.clock()
            if current.mtimeNanoseconds != listing.mtime || current.inode != listing.inode { listing.mtimeFirstSeen = visitedAt }
            let prefix = prefix(relative)
            if !(scanner.skipUnchangedFolders && listing.isUnchanged(current, margin: scanner.mtimeMargin)
                && restat(&listing, fd: fd, prefix: prefix))
            {
                guard relist(&listing, fd: fd, prefix: prefix, relative: relative) else {
                    folders[relative] = listing
                    return
                }
                listing.listedAt = visitedAt
                summary.foldersRead += 1
            } else {
                summary.foldersReused += 1
            }
            (listing.mtime, listing.inode) = (current.mtimeNanoseconds, current.inode)
            let subfolders = listing.records.filter { $0.stat.kind == .directory && !$0.skipped }
            summary.files += listing.records.count { $0.stat.kind != .directory }
            let names = subfolders.map { listing.withName($0) { String(cString: $0) } }
            folders[relative] = listing
            for name in names {
                let child = relative.isEmpty ? name : relative + "/" + name
                guard depth < scanner.maxDepth else { continue }
                let childFD = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
                guard childFD >= 0 else {
                    let code = errno
                    if code == EACCES || code == EPERM { problem(DirectoryWalker.Problem(path: prefix + name, errno: code)) }
                    // Replaced or removed since the listing: the parent changed, so it is read again next time.
                    if code == ENOENT || code == ENOTDIR || code == ELOOP { folders[relative]?.mtime = .min }
                    continue
                }
                visit(relative: child, fd: childFD, depth: depth + 1)
                close(childFD)
            }
        }

        /// Examines the cached names again; false (nothing emitted) when one is gone or changed kind, so the
        /// folder changed after its mtime was read and must be read again.
        mutating func restat(_ listing: inout FolderListing, fd: Int32, prefix: String) -> Bool {
            var info = stat()
            for index in listing.records.indices {
                let record = listing.records[index]
                if record.skipped || record.stat.kind == .directory || waits(record) { continue }
                summary.examined += 1
                guard listing.withName(record, { fstatat(fd, $0, &info, AT_SYMLINK_NOFOLLOW) }) == 0 else { return false }
                let found = FileStat(info)
                if found.kind != record.stat.kind && (found.kind == .directory || record.stat.kind == .directory) { return false }
                if found != record.stat { listing.records[index].changedAt = now }
                if found != record.stat || !record.reported {
                    listing.records[index].stat = found
                    listing.records[index].reported = true
                    report(listing, listing.records[index], prefix: prefix)
                }
            }
            return true
        }

        /// Reads the folder's names again and merges them with the cached ones; false when it cannot be read.
        mutating func relist(_ listing: inout FolderListing, fd: Int32, prefix: String, relative: String) -> Bool {
            let copy = dup(fd)
            guard copy >= 0, let read = FolderListing.read(copy) else {
                let code = errno
                if code == EACCES || code == EPERM { problem(DirectoryWalker.Problem(path: String(prefix.dropLast()), errno: code)) }
                return false
            }
            var fresh = FolderListing()
            fresh.names = read.names
            fresh.records.reserveCapacity(read.records.count)
            var info = stat()
            var old = 0
            let oldRecords = listing.records
            for (index, var record) in read.records.enumerated() {
                // Entries gone before this one (names sort the same in both listings).
                while old < oldRecords.count, compare(listing, oldRecords[old], fresh, record) < 0 {
                    gone(listing, oldRecords[old], prefix: prefix, relative: relative)
                    old += 1
                }
                var previous: FolderListing.Record?
                if old < oldRecords.count, compare(listing, oldRecords[old], fresh, record) == 0 {
                    previous = oldRecords[old]
                    old += 1
                }
                if Int(read.types[index]) == Int(DT_DIR) {
                    record.stat = FileStat(kind: .directory, device: 0, inode: 0, size: 0, mtimeNanoseconds: 0)
                } else if let previous, previous.stat.kind != .directory, previous.stat.inode == read.inodes[index],
                    !previous.skipped, waits(previous)
                {
                    record.stat = previous.stat  // the same settled file (same inode), not its turn
                } else {
                    summary.examined += 1
                    guard fresh.withName(record, { fstatat(fd, $0, &info, AT_SYMLINK_NOFOLLOW) }) == 0 else { continue }  // gone meanwhile
                    record.stat = FileStat(info)
                    if record.stat.kind == .directory { record.stat = FileStat(kind: .directory, device: 0, inode: 0, size: 0, mtimeNanoseconds: 0) }
                }
                record.changedAt = previous.map { $0.stat == record.stat ? $0.changedAt : now } ?? now
                let kindChanged = previous.map { ($0.stat.kind == .directory) != (record.stat.kind == .directory) } ?? false
                if let previous, kindChanged {
                    gone(listing, previous, prefix: prefix, relative: relative)  // a file became a folder or back
                } else if let previous {
                    record.reported = previous.reported
                    record.skipped = previous.skipped
                    if record.stat.kind == .directory || (record.stat == previous.stat && previous.reported) || previous.skipped {
                        fresh.records.append(record)
                        continue
                    }
                }
                if previous == nil || kindChanged {
                    record.skipped = isSkipped(fresh, record, prefix: prefix)
                }
                if !record.skipped && record.stat.kind != .directory {
                    record.reported = true
                    report(fresh, record, prefix: prefix)
                }
                fresh.records.append(record)
            }
            while old < oldRecords.count {
                gone(listing, oldRecords[old], prefix: prefix, relative: relative)
                old += 1
            }
            fresh.mtimeFirstSeen = listing.mtimeFirstSeen
            listing = fresh
            return true
        }

        private func compare(_ a: FolderListing, _ ra: FolderListing.Record, _ b: FolderListing, _ rb: FolderListing.Record) -> Int32 {
            a.names.withUnsafeBufferPointer { bufferA in
                b.names.withUnsafeBufferPointer { bufferB in FolderListing.compare(bufferA, ra, bufferB, rb) }
            }
        }

        /// A name that is not UTF-8, or an excluded folder.
        private func isSkipped(_ listing: FolderListing, _ record: FolderListing.Record, prefix: String) -> Bool {
            guard let name = listing.name(record) else { return true }
            return record.stat.kind == .directory && scanner.isExcluded(prefix + name)
        }

        private mutating func report(_ listing: FolderListing, _ record: FolderListing.Record, prefix: String) {
            guard let name = listing.name(record) else { return }
            summary.changed += 1
            emit(.scanned(path: prefix + name, stat: record.stat))
        }

        /// An entry that is no longer there: a file is reported removed, a folder removed with its subtree.
        private mutating func gone(_ listing: FolderListing, _ record: FolderListing.Record, prefix: String, relative: String) {
            guard !record.skipped, let name = listing.name(record) else { return }
            summary.removed += 1
            if record.stat.kind == .directory {
                let child = relative.isEmpty ? name : relative + "/" + name
                folders = folders.filter { $0.key != child && !$0.key.hasPrefix(child + "/") }
                emit(.removedTree(directory: prefix + name))
            } else if record.reported {
                emit(.removed(path: prefix + name))
            }
        }
    }
}
