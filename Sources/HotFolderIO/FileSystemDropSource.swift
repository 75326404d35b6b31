// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A part of the inbox to list: a folder's whole subtree, or only some groups (stems) of its files.
public struct ListingScope: Sendable, Hashable {
    /// The folder, relative to the inbox root ("" for the root).
    public var folder: String
    /// The stems (file names up to the first dot) whose files are listed; nil lists the whole subtree.
    public var stems: Set<String>?

    /// Creates a scope; without `stems` it is the folder's whole subtree.
    public init(folder: String, stems: Set<String>? = nil) {
        self.folder = folder
        self.stems = stems
    }
}

/// The inbox on disk as a ``DropSource``: `lstat`-based listing and size-limited, non-blocking reads.
///
/// Symbolic links are never followed while listing; a link is resolved with `realpath` and only read when
/// its target lies inside the inbox. Files are opened with `O_NONBLOCK | O_NOFOLLOW` and checked with
/// `fstat` before reading, so a FIFO or device never blocks and never gets read.
public struct FileSystemDropSource: DropSource {
    /// The inbox folder as given.
    public let root: String
    /// Stops a runaway listing (a huge or hostile tree) from exhausting memory.
    public var maxEntries = 200_000
    /// Deepest folder level whose contents are listed in full (the inbox root is level 0); keep it equal
    /// to ``DropLimits/maxFolderDepth``.
    ///
    /// Below it the walk goes on for only ``maxEntriesBelowDepth`` more entries: enough for the planner to
    /// refuse such files with an error (instead of never seeing them), while a runaway tree cannot fill memory.
    public var maxDepth = DropLimits().maxFolderDepth
    /// How many entries deeper than ``maxDepth`` one listing includes.
    public var maxEntriesBelowDepth = 1_000
    /// Folders (relative to the root) that are neither listed nor entered: the service's own folders
    /// when they sit inside the inbox.
    public var excludedFolders: Set<String> = []

    /// Errors of the listing itself.
    public enum ListingError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The inbox folder does not exist or is not a folder.
        case notAFolder(path: String)
        /// More entries than ``FileSystemDropSource/maxEntries``.
        case tooManyEntries(path: String, limit: Int)

        /// One sentence.
        public var description: String {
            switch self {
            case .notAFolder(let path): "the inbox \(path) does not exist or is not a folder"
            case .tooManyEntries(let path, let limit): "the inbox \(path) holds more than \(limit) files"
            }
        }
    }

    /// Creates a source for the folder at `root`.
    public init(root: String) {
        self.root = root
    }

    private var realRoot: String? {
        guard let resolved = realpath(root, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Lists the inbox recursively without following links; hidden and temporary folders are not entered,
    /// and folders deeper than ``maxDepth`` only until ``maxEntriesBelowDepth`` entries were found there.
    public func entries() throws -> [DropEntry] {
        guard let base = realRoot, Self.lstatKind(base)?.kind == .directory else {
            throw ListingError.notAFolder(path: root)
        }
        var result: [DropEntry] = []
        try walk(base: base, from: [("", 0)], into: &result)
        return result
    }

    /// Lists only what planning the given scopes needs: whole subtrees, or only the files of some groups
    /// (stems) of a folder; plus the folders above each and the `_defaults` files in all of them (their
    /// settings apply below them). A whole scope of "" is the whole inbox.
    ///
    /// A stem scope widens to the whole folder when the folder holds a manifest (its rows may name any
    /// file there) or is a shot folder (the folder is one job), so the planner sees the same groups
    /// either way. One drop then costs reading the names of its folder, not listing every file in it.
    public func entries(within scopes: [ListingScope]) throws -> [DropEntry] {
        var whole = Set(scopes.filter { $0.stems == nil }.map(\.folder))
        if whole.contains("") { return try entries() }
        guard let base = realRoot, Self.lstatKind(base)?.kind == .directory else {
            throw ListingError.notAFolder(path: root)
        }
        let isExcluded = { (folder: String) in
            self.excludedFolders.contains(where: { folder == $0 || folder.hasPrefix($0 + "/") })
        }
        var stemsByFolder: [String: Set<String>] = [:]
        for scope in scopes { if let stems = scope.stems { stemsByFolder[scope.folder, default: []].formUnion(stems) } }
        // Which names of each stem-scoped folder to list (decided before anything is listed, because a
        // folder may turn out to need a whole listing).
        var selected: [String: [String]] = [:]
        for (folder, stems) in stemsByFolder where !isExcluded(folder) {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? base : base + "/" + folder)
            else { continue }  // gone meanwhile
            if names.contains(where: FileNameRules.concernsWholeFolder) {
                whole.insert(folder)
            } else {
                selected[folder] = names.filter { name in
                    name.lowercased().hasPrefix("_defaults.") || FileNameRules.groupKeys(name).contains(where: stems.contains)
                }
            }
        }
        if whole.contains("") { return try entries() }
        // A folder inside a whole subtree is already part of it.
        let outermost = whole.filter { folder in !whole.contains { folder.hasPrefix($0 + "/") } }
        selected = selected.filter { folder, _ in !outermost.contains { folder == $0 || folder.hasPrefix($0 + "/") } }

        var result: [DropEntry] = []
        var listed = Set<String>()
        var defaultsRead = Set<String>()
        var starts: [(relative: String, depth: Int)] = []
        for folder in outermost.sorted() where !isExcluded(folder) {
            if appendAncestors(of: folder, base: base, listed: &listed, defaultsRead: &defaultsRead, into: &result) {
                starts.append((folder, folder.split(separator: "/").count))
            }
        }
        for (folder, names) in selected.sorted(by: { $0.key < $1.key }) {
            guard appendAncestors(of: folder, base: base, listed: &listed, defaultsRead: &defaultsRead, into: &result)
            else { continue }
            for name in names.sorted() {
                let relative = folder.isEmpty ? name : folder + "/" + name
                // Names of one folder are listed once each, so only the ancestors' entries need remembering: a set of
                // every selected name would cost as much as the listing in a folder of thousands of files.
                guard !listed.contains(relative), let info = Self.lstatKind(base + "/" + relative),
                    info.kind != .directory
                else { continue }
                var entry = DropEntry(path: relative, kind: info.kind, size: info.size, modified: info.modified)
                if info.kind == .symlink { entry.link = Self.resolveLink(base + "/" + relative, base: base) }
                if case .inside(_, _, let size)? = entry.link { entry.size = size }
                result.append(entry)
            }
        }
        try walk(base: base, from: starts, into: &result)
        return result
    }

    /// Appends the folders from the root down to `folder` and the `_defaults` files of those above it;
    /// false when `folder` is gone (or not a folder), so there is nothing to plan there. `defaultsRead` holds
    /// the folders already searched for `_defaults` files, so scopes that share ancestors (the inbox root
    /// above all of them) read each ancestor's names once.
    private func appendAncestors(
        of folder: String, base: String, listed: inout Set<String>, defaultsRead: inout Set<String>,
        into result: inout [DropEntry]
    ) -> Bool {
        var above = ""
        for component in folder.split(separator: "/").map(String.init) {
            let names = defaultsRead.insert(above).inserted
                ? (try? FileManager.default.contentsOfDirectory(atPath: above.isEmpty ? base : base + "/" + above)) ?? []
                : []
            for name in names.sorted() where name.lowercased().hasPrefix("_defaults.") {
                let relative = above.isEmpty ? name : above + "/" + name
                guard listed.insert(relative).inserted, let info = Self.lstatKind(base + "/" + relative) else { continue }
                result.append(DropEntry(path: relative, kind: info.kind, size: info.size, modified: info.modified))
            }
            let next = above.isEmpty ? component : above + "/" + component
            guard let info = Self.lstatKind(base + "/" + next), info.kind == .directory,
                !FileNameRules.isTemporaryOrHidden(component)
            else { return false }
            if listed.insert(next).inserted {
                result.append(DropEntry(path: next, kind: info.kind, size: info.size, modified: info.modified))
            }
            above = next
        }
        return true
    }

    /// Appends the entries below the `starts` folders (relative paths with their depths) to `result`.
    private func walk(base: String, from starts: [(relative: String, depth: Int)], into result: inout [DropEntry]) throws {
        var belowDepth = 0
        var pending = starts
        while let (folder, depth) = pending.popLast() {
            if depth > maxDepth && belowDepth >= maxEntriesBelowDepth { continue }
            let absolute = folder.isEmpty ? base : base + "/" + folder
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: absolute) else { continue }
            for name in names.sorted() {
                if depth > maxDepth {
                    guard belowDepth < maxEntriesBelowDepth else { break }
                    belowDepth += 1
                }
                let relative = folder.isEmpty ? name : folder + "/" + name
                if excludedFolders.contains(relative) { continue }
                let full = base + "/" + relative
                guard let info = Self.lstatKind(full) else { continue }
                var entry = DropEntry(path: relative, kind: info.kind, size: info.size, modified: info.modified)
                if info.kind == .symlink { entry.link = Self.resolveLink(full, base: base) }
                if case .inside(_, _, let size)? = entry.link { entry.size = size }
                result.append(entry)
                guard result.count <= maxEntries else { throw ListingError.tooManyEntries(path: root, limit: maxEntries) }
                if info.kind == .directory, !FileNameRules.isTemporaryOrHidden(name) {
                    pending.append((relative, depth + 1))
                }
            }
        }
    }

    /// Reads at most `maxBytes` bytes of a regular file inside the inbox.
    public func read(_ path: String, maxBytes: Int) throws -> [UInt8] {
        try withOpenFile(path) { fd, size in
            // One byte past the size: a file that grew since it was listed still shows as too large.
            try Self.read(fd, count: max(0, min(maxBytes, Int(size) + 1)), at: 0, path: path)
        }
    }

    /// Reads at most `maxBytes` bytes from the end of a regular file inside the inbox, and its size.
    public func readTail(_ path: String, maxBytes: Int) throws -> (bytes: [UInt8], size: Int64) {
        try withOpenFile(path) { fd, size in
            let count = max(0, min(Int64(maxBytes), size))
            return (try Self.read(fd, count: Int(count), at: size - count, path: path), size)
        }
    }

    /// Opens a regular file inside the inbox without blocking and passes its descriptor and size to `body`.
    private func withOpenFile<T>(_ path: String, _ body: (Int32, Int64) throws -> T) throws -> T {
        guard let base = realRoot else { throw DropReadError.unreadable(path: path, reason: "the inbox is gone") }
        let full = base + "/" + path
        guard let resolvedPointer = realpath(full, nil) else {
            throw DropReadError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        let resolved = String(cString: resolvedPointer)
        free(resolvedPointer)
        guard resolved.hasPrefix(base + "/") else { throw DropReadError.outsideInbox(path: path, target: resolved) }
        // Checked before opening: opening some devices has side effects even with O_NONBLOCK.
        guard Self.lstatKind(resolved)?.kind == .regular else { throw DropReadError.notRegularFile(path: path) }
        let fd = open(resolved, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw DropReadError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw DropReadError.notRegularFile(path: path)
        }
        return try body(fd, Int64(info.st_size))
    }

    /// Reads up to `count` bytes from `offset`; fewer when the file ends first.
    private static func read(_ fd: Int32, count: Int, at offset: Int64, path: String) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < bytes.count {
            let got = bytes.withUnsafeMutableBytes { buffer in
                pread(fd, buffer.baseAddress! + filled, buffer.count - filled, off_t(offset) + off_t(filled))
            }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw DropReadError.unreadable(path: path, reason: String(cString: strerror(errno))) }
            if got == 0 { break }
            filled += got
        }
        return Array(bytes.prefix(filled))
    }

    private static func lstatKind(_ path: String) -> (kind: DropEntryKind, size: Int64, modified: Date)? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return (kind(info.st_mode), Int64(info.st_size), modified(info))
    }

    private static func kind(_ mode: mode_t) -> DropEntryKind {
        switch mode & S_IFMT {
        case S_IFREG: .regular
        case S_IFDIR: .directory
        case S_IFLNK: .symlink
        case S_IFIFO: .fifo
        default: .other
        }
    }

    private static func modified(_ info: stat) -> Date {
        Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
    }

    private static func resolveLink(_ full: String, base: String) -> SymlinkResolution {
        guard let pointer = realpath(full, nil) else { return .broken }
        let resolved = String(cString: pointer)
        free(pointer)
        guard resolved.hasPrefix(base + "/") else { return .outside(target: resolved) }
        var info = stat()
        guard stat(resolved, &info) == 0 else { return .broken }
        return .inside(path: String(resolved.dropFirst(base.count + 1)), kind: kind(info.st_mode), size: Int64(info.st_size))
    }
}
