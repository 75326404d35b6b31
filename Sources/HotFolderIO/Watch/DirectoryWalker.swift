// SPDX-License-Identifier: GPL-2.0-or-later
import Glibc
import HotFolderCore

/// Lists a directory tree without following symlinks, skipping excluded folders and unreadable ones.
public struct DirectoryWalker: Sendable {
    /// One entry found by a walk.
    public struct Entry: Sendable, Hashable {
        /// Absolute path (directories without a trailing slash).
        public var path: String
        /// `lstat` of the entry at the time of the walk.
        public var stat: FileStat
    }

    /// A folder the walk could not read.
    public struct Problem: Error, Sendable, Hashable {
        /// The folder.
        public var path: String
        /// The `errno` of the failed `opendir`.
        public var errno: Int32
    }

    /// Absolute paths whose subtrees are never entered (the service's own folders).
    public var excluded: Set<String>

    /// Creates a walker.
    public init(excluded: Set<String> = []) {
        self.excluded = Set(excluded.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 })
    }

    /// Whether `path` is, or lies under, an excluded folder.
    public func isExcluded(_ path: String) -> Bool {
        if excluded.isEmpty { return false }
        var candidate = path.hasSuffix("/") ? String(path.dropLast()) : path
        while !candidate.isEmpty {
            if excluded.contains(candidate) { return true }
            guard let slash = candidate.lastIndex(of: "/") else { break }
            candidate = String(candidate[..<slash])
        }
        return false
    }

    /// Lists the immediate entries of `directory` (absolute, no trailing slash needed).
    ///
    /// Returns nil and the `errno` when the folder cannot be opened.
    public func list(_ directory: String) -> Result<[Entry], Problem> {
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        guard let dir = opendir(base.isEmpty ? "/" : base) else {
            return .failure(Problem(path: base, errno: errno))
        }
        defer { closedir(dir) }
        var entries: [Entry] = []
        while let ent = readdir(dir) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let path = base + "/" + name
            guard let stat = FileSystemProbe.lstat(path) else { continue }
            if stat.kind == .directory, isExcluded(path) { continue }
            entries.append(Entry(path: path, stat: stat))
        }
        return .success(entries)
    }

    /// Walks the whole tree under `root`, calling `visitDirectory` before listing each folder (so a
    /// watch can be placed first) and `visitEntry` for every non-directory entry.
    public func walk(
        _ root: String,
        visitDirectory: (String) -> Void,
        visitEntry: (Entry) -> Void,
        problem: (Problem) -> Void
    ) {
        var stack = [root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root]
        while let directory = stack.popLast() {
            visitDirectory(directory)
            switch list(directory) {
            case .failure(let failure):
                problem(failure)
            case .success(let entries):
                for entry in entries {
                    if entry.stat.kind == .directory {
                        stack.append(entry.path)
                    } else {
                        visitEntry(entry)
                    }
                }
            }
        }
    }
}
