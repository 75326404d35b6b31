// SPDX-License-Identifier: GPL-2.0-or-later

/// Decides when a file in the inbox is complete, so a job never reads half a file.
///
/// Events and scans only give *hints*; the tracker turns them into decisions. A file is ready when it
/// is a regular file with an ordinary name (see ``FileNameRules``), nobody is known to be writing it,
/// and its size and mtime have not changed for `settle` seconds. The same unchanged file (device,
/// inode, size, mtime) is reported once per path; a file that changes after being reported is
/// reported again, and a file that leaves and comes back counts as new. A file renamed (or inside a folder
/// renamed) is reported again under its new name: whoever plans jobs knows by its identity whether it already
/// belongs to one, and a file that never made a job (an image waiting for its prompt) must be seen where it is now.
///
/// The tracker is a pure value: the caller passes the time and a `stat` function, which makes every
/// rule testable without a file system or a clock.
public struct ReadinessTracker: Sendable {
    /// What a hint says about a file.
    public enum Hint: Sendable, Hashable {
        /// The file was just created (`IN_CREATE`): someone has it open for writing.
        case created
        /// A writer closed the file (`IN_CLOSE_WRITE`) or it was renamed into place (`IN_MOVED_TO`).
        case closed
        /// A scan found the file; nothing is known about writers.
        case scanned
    }

    /// A decision about one path.
    public enum Decision: Sendable, Hashable {
        /// A complete regular file.
        case ready(path: String, stat: FileStat)
        /// A settled entry that can never become a job input (symlink, FIFO, socket, device).
        case unsupported(path: String, stat: FileStat)

        /// The path the decision is about.
        public var path: String {
            switch self {
            case .ready(let path, _), .unsupported(let path, _): path
            }
        }
    }

    private struct Candidate: Sendable {
        var stat: FileStat
        var stableSince: Double
        var writing: Bool
        var writingSince: Double
        var checkAt: Double
    }

    /// Seconds a file's size and mtime must stay unchanged.
    public let settle: Double
    /// Seconds after which a file that was created but never closed is judged by stability alone
    /// (covers hard links and events lost to an overflow, which never report a close).
    public let openWriteTimeout: Double

    private var pending: [String: Candidate] = [:]
    /// One entry for every file in the inbox once it has been reported: kept compact (see ``PathMap``).
    private var reported = PathMap<FileIdentity>()

    /// Creates a tracker.
    public init(settle: Double = 2, openWriteTimeout: Double = 60) {
        self.settle = max(0, settle)
        self.openWriteTimeout = max(self.settle, openWriteTimeout)
    }

    /// Number of files waiting to settle.
    public var pendingCount: Int { pending.count }

    /// Number of paths reported and still tracked.
    public var reportedCount: Int { reported.count }

    /// The earliest time at which ``tick(now:stat:)`` can decide something, or nil when nothing waits.
    ///
    /// Kept incrementally (it may be earlier than needed after a removal, which only costs a tick).
    public private(set) var nextCheck: Double?

    /// Registers a hint about `path` (absolute) with its current `lstat`, or nil if it vanished.
    ///
    /// Returns the decisions that can be made at once (only when `settle` is 0).
    public mutating func hint(_ hint: Hint, path: String, stat: FileStat?, now: Double) -> [Decision] {
        guard let stat, stat.kind != .directory, !Self.isIgnoredName(path) else {
            pending[path] = nil
            return []
        }
        if hint != .created, reported[path] == stat.identity, pending[path] == nil {
            return []
        }
        var candidate =
            pending[path]
            ?? Candidate(stat: stat, stableSince: now, writing: false, writingSince: now, checkAt: now)
        if !Self.sameContent(candidate.stat, stat) {
            candidate.stat = stat
            candidate.stableSince = now
        }
        switch hint {
        case .created:
            // Only regular files are written; a symlink, FIFO or hard link never reports a close.
            candidate.writing = stat.kind == .regular
            candidate.writingSince = now
        case .closed:
            candidate.writing = false
        case .scanned:
            break
        }
        candidate.checkAt = candidate.stableSince + settle
        if candidate.writing {
            candidate.checkAt = max(candidate.checkAt, candidate.writingSince + openWriteTimeout)
        }
        if settle == 0, !candidate.writing {
            pending[path] = nil
            return decide(path: path, stat: stat).map { [$0] } ?? []
        }
        pending[path] = candidate
        nextCheck = min(nextCheck ?? candidate.checkAt, candidate.checkAt)
        return []
    }

    /// Re-examines every file whose check time has come, using `stat` (an `lstat` that returns nil
    /// for a vanished path), and returns the files that became ready.
    public mutating func tick(now: Double, stat: (String) -> FileStat?) -> [Decision] {
        var decisions: [Decision] = []
        for (path, var candidate) in pending where candidate.checkAt <= now {
            guard let current = stat(path), current.kind != .directory else {
                pending[path] = nil
                continue
            }
            if !Self.sameContent(candidate.stat, current) {
                candidate.stat = current
                candidate.stableSince = now
                candidate.checkAt = now + max(settle, 0.05)
                pending[path] = candidate
                continue
            }
            if candidate.writing, now < candidate.writingSince + openWriteTimeout {
                candidate.checkAt = candidate.writingSince + openWriteTimeout
                pending[path] = candidate
                continue
            }
            if now < candidate.stableSince + settle {
                candidate.checkAt = candidate.stableSince + settle
                pending[path] = candidate
                continue
            }
            pending[path] = nil
            if let decision = decide(path: path, stat: current) { decisions.append(decision) }
        }
        nextCheck = pending.values.lazy.map(\.checkAt).min()
        return decisions
    }

    /// Forgets a file that was deleted or moved away, so it counts as new if it comes back.
    public mutating func removed(path: String) {
        pending[path] = nil
        reported[path] = nil
    }

    /// Forgets every file under a directory that was deleted or moved out of the inbox.
    public mutating func removedTree(directory: String) {
        let prefix = Self.directoryPrefix(directory)
        pending = pending.filter { !$0.key.hasPrefix(prefix) }
        reported.removeTree(prefix)
    }

    /// Moves everything known under `from` to `to` after a directory rename inside the inbox, and reports the
    /// complete files again under their new paths (confirmed unchanged with `stat`).
    public mutating func renamedTree(from: String, to: String, stat: (String) -> FileStat?) -> [Decision] {
        let old = Self.directoryPrefix(from)
        let new = Self.directoryPrefix(to)
        var moved: [String: Candidate] = [:]
        moved.reserveCapacity(pending.count)
        for (key, value) in pending {
            moved[key.hasPrefix(old) ? new + key.dropFirst(old.count) : key] = value
        }
        pending = moved
        nextCheck = pending.values.lazy.map(\.checkAt).min()
        var decisions: [Decision] = []
        for (key, identity) in reported.removeTree(old) {
            let path = new + key.dropFirst(old.count)
            // Changed meanwhile: its own events or the next scan report it.
            guard let current = stat(path), current.identity == identity else { continue }
            if let decision = decide(path: path, stat: current) { decisions.append(decision) }
        }
        return decisions.sorted { $0.path < $1.path }
    }

    /// After a full scan: forgets reported paths the scan did not see and `stat` confirms are gone.
    ///
    /// Checking with `stat` keeps a file that was only missed by a racing scan from being reported twice.
    /// (A file the scan found under a new name, poll mode's only sign of a rename, is reported there.)
    public mutating func pruneReported(seen: PathSet, now: Double, stat: (String) -> FileStat?) {
        reported.removeAll { path, _ in !seen.contains(path) && stat(path) == nil }
    }

    /// Clears the "someone is writing" flag everywhere (after an overflow lost the close events).
    public mutating func forgetWriters(now: Double) {
        for (path, var candidate) in pending where candidate.writing {
            candidate.writing = false
            candidate.checkAt = max(now, candidate.stableSince + settle)
            pending[path] = candidate
        }
        nextCheck = pending.values.lazy.map(\.checkAt).min()
    }

    private mutating func decide(path: String, stat: FileStat) -> Decision? {
        reported[path] = stat.identity
        return stat.kind == .regular ? .ready(path: path, stat: stat) : .unsupported(path: path, stat: stat)
    }

    private static func sameContent(_ a: FileStat, _ b: FileStat) -> Bool {
        a.size == b.size && a.mtimeNanoseconds == b.mtimeNanoseconds && a.inode == b.inode
            && a.device == b.device && a.kind == b.kind
    }

    private static func isIgnoredName(_ path: String) -> Bool {
        let name = path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
        return FileNameRules.isTemporaryOrHidden(name)
    }

    private static func directoryPrefix(_ directory: String) -> String {
        directory.hasSuffix("/") ? directory : directory + "/"
    }
}
