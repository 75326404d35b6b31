// SPDX-License-Identifier: GPL-2.0-or-later
import Glibc
import HotFolderCore
import Synchronization

/// Poll mode's scanner: walks the inbox with `openat`/`fstatat` relative to open folder descriptors and reports
/// only what changed since the previous scan (new or changed entries, entries and folders gone).
///
/// Between scans it keeps each folder's names (raw bytes) and each entry's last `lstat`, so an unchanged tree
/// costs at most one `fstatat` per file and no allocation per file. With ``skipUnchangedFolders`` a folder whose
/// mtime has not changed is not read again (its names are reused); see ``FolderMtimeTrust`` for where a
/// folder's mtime can be trusted to change with its names.
///
/// New, changed and young files are examined on every scan. A file that has stayed as it is for
/// ``settledAfter`` seconds is *settled* and examined on one scan in ``settledEvery`` (which one follows from its
/// inode, so the work is spread evenly over the scans): a file added, removed or renamed changes its folder, and
/// its folder is then read with every file in it examined, but a settled file rewritten in place changes only
/// its own mtime, so it is seen up to `settledEvery` scans later instead of at the next one. A settled file whose
/// consumer forgot it is examined at the next scan.
///
/// Symlinks are never followed: every entry is examined with `AT_SYMLINK_NOFOLLOW` and folders are opened with
/// `O_NOFOLLOW | O_DIRECTORY` relative to their parent's descriptor, so a folder swapped for a symlink between
/// two calls cannot lead the walk out of the inbox. Names that are not valid UTF-8 are skipped (a path must
/// be a `String` to be planned); folders nested deeper than ``maxDepth`` are not entered.
public final class PollScanner: Sendable {
    /// What one scan did.
    public struct Summary: Sendable, Hashable {
        /// Non-folder entries seen (changed or not).
        public var files = 0
        /// Folders whose names were read.
        public var foldersRead = 0
        /// Folders whose cached names were reused (their mtime had not changed).
        public var foldersReused = 0
        /// Entries reported as new or changed.
        public var changed = 0
        /// Entries or folders reported gone.
        public var removed = 0
        /// Files examined with `fstatat` (settled files wait for their turn; folders and new files are not counted).
        public var examined = 0

        /// An empty summary.
        public init() {}
    }

    /// The inbox (absolute, no trailing slash).
    public let root: String
    /// Whether a folder whose mtime has not changed is not read again.
    public let skipUnchangedFolders: Bool
    /// Seconds after a folder's mtime was first seen before a listing may be trusted for it (timestamp granularity).
    public let mtimeMargin: Double
    /// Deepest folder level entered (the inbox is level 0); one descriptor is open per level during a scan.
    public let maxDepth: Int
    /// A settled file is examined on one scan in this many (1: every file on every scan).
    public let settledEvery: Int
    /// Seconds a file must stay unchanged to be settled.
    public let settledAfter: Double
    /// Monotonic seconds (injected by tests).
    let clock: @Sendable () -> Double
    private let excluded: Set<String>
    private let state = Mutex<[String: FolderListing]>([:])
    private let scans = Mutex<UInt64>(0)
    private let forgotten = Mutex<[String]>([])

    /// A settled file is examined on one scan in this many, by default.
    public static let defaultSettledEvery = 4
    /// Seconds a file must stay unchanged to be settled, by default.
    public static let defaultSettledAfter = 60.0

    /// Creates a scanner for `root`; folders in `excluded` (absolute) are neither entered nor reported.
    public init(
        root: String, excluded: Set<String> = [], skipUnchangedFolders: Bool, mtimeMargin: Double = 2, maxDepth: Int = 64,
        settledEvery: Int = PollScanner.defaultSettledEvery, settledAfter: Double = PollScanner.defaultSettledAfter,
        clock: @escaping @Sendable () -> Double = monotonicSeconds
    ) {
        var root = root
        while root.count > 1, root.hasSuffix("/") { root.removeLast() }
        self.root = root
        self.excluded = Set(excluded.map { $0.count > 1 && $0.hasSuffix("/") ? String($0.dropLast()) : $0 })
        self.skipUnchangedFolders = skipUnchangedFolders
        self.mtimeMargin = mtimeMargin
        self.maxDepth = maxDepth
        self.settledEvery = max(1, settledEvery)
        self.settledAfter = settledAfter
        self.clock = clock
    }

    /// Makes the next scan report these files (absolute paths) again if they are there, even unchanged: the
    /// consumer dropped them (they vanished when it looked) and must hear of them if they came back.
    public func forget(_ paths: [String]) {
        guard !paths.isEmpty else { return }
        forgotten.withLock { $0.append(contentsOf: paths) }
    }

    /// Scans the tree once: `emit` gets `.scanned` for each new or changed entry, `.removed` for each entry gone
    /// and `.removedTree` for each folder gone; `problem` gets each folder that could not be read.
    @discardableResult
    public func scan(emit: (WatchSignal) -> Void, problem: (DirectoryWalker.Problem) -> Void) -> Summary {
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else {
            problem(DirectoryWalker.Problem(path: root, errno: errno))
            return Summary()
        }
        defer { close(rootFD) }
        let forget = forgotten.withLock { list in
            defer { list = [] }
            return list
        }
        let number = scans.withLock { count in
            defer { count &+= 1 }
            return count
        }
        let now = clock()
        return withoutActuallyEscaping(emit) { emit in
            withoutActuallyEscaping(problem) { problem in
                state.withLock { folders in
                    for path in forget { Self.markForgotten(path, root: root, in: &folders) }
                    var walk = Walk(scanner: self, folders: folders, emit: emit, problem: problem, now: now, number: number)
                    folders = [:]  // the walk owns the listings meanwhile (no copy on write)
                    walk.visit(relative: "", fd: rootFD, depth: 0)
                    folders = walk.folders
                    return walk.summary
                }
            }
        }
    }

    /// Whether `path` (absolute) is an excluded folder.
    func isExcluded(_ path: String) -> Bool {
        !excluded.isEmpty && excluded.contains(path)
    }

    private static func markForgotten(_ path: String, root: String, in folders: inout [String: FolderListing]) {
        let prefix = root == "/" ? "/" : root + "/"
        guard path.hasPrefix(prefix) else { return }
        let relative = path.dropFirst(prefix.count)
        let folder = relative.lastIndex(of: "/").map { String(relative[..<$0]) } ?? ""
        let name = Array((relative.lastIndex(of: "/").map { relative[relative.index(after: $0)...] } ?? relative).utf8)
        guard var listing = folders[folder] else { return }
        folders[folder] = nil
        for index in listing.records.indices where listing.records[index].length == name.count {
            let start = Int(listing.records[index].start)
            if listing.names[start..<start + name.count].elementsEqual(name) { listing.records[index].reported = false }
        }
        folders[folder] = listing
    }
}
