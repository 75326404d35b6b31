// SPDX-License-Identifier: GPL-2.0-or-later
import Glibc
import HotFolderCore

/// A low-level observation fed to the readiness stage, from inotify events, scans or the clock.
public enum WatchSignal: Sendable, Hashable {
    /// Something happened to a file (absolute path).
    case hint(ReadinessTracker.Hint, path: String)
    /// A scan found an entry (absolute path) and already knows its `lstat`.
    case scanned(path: String, stat: FileStat)
    /// A file was deleted or moved away.
    case removed(path: String)
    /// A directory was deleted or moved out of the inbox.
    case removedTree(directory: String)
    /// A directory was renamed inside the inbox.
    case renamedTree(from: String, to: String)
    /// A full scan finished; these are all the files it saw (kept compact: a scan of a big inbox sees 100,000).
    case scanCompleted(seen: PathSet)
    /// A poll scan finished having seen `files` entries (it reported only what changed, so there is nothing to prune).
    case pollCompleted(files: Int)
    /// The kernel queue overflowed: events were lost and a rescan follows.
    case overflow
    /// A problem worth telling the operator about.
    case problem(WatchProblem)
    /// Time passed: files waiting to settle may be ready.
    case tick
}

/// A problem the watcher survived, reported so the operator can fix it.
public enum WatchProblem: Sendable, Hashable, CustomStringConvertible {
    /// A folder could not be read or watched because of its permissions; it is skipped.
    case permissionDenied(path: String)
    /// The per-user inotify watch limit is exhausted.
    case watchLimitReached(path: String, limit: Int)
    /// Any other failure to watch or list a folder.
    case watchFailed(path: String, errno: Int32)
    /// The kernel's event queue overflowed.
    case overflow(limit: Int)
    /// The inbox itself vanished; the watcher waits for it to come back.
    case inboxMissing(path: String)
    /// The inbox is back after having vanished.
    case inboxRestored(path: String)

    /// One sentence for the log, including what to do.
    public var description: String {
        switch self {
        case .permissionDenied(let path):
            return "cannot read folder \(path): permission denied; skipping it (give the service's user read and execute permission to include it)"
        case .watchLimitReached(let path, let limit):
            return "cannot watch \(path): the inotify watch limit (\(limit)) is reached; raise it with `sysctl fs.inotify.max_user_watches=524288` (and in /etc/sysctl.d/) — until then files there are found by the periodic rescan"
        case .watchFailed(let path, let code):
            return "cannot watch \(path): \(String(cString: strerror(code))); files there are found by the periodic rescan"
        case .overflow(let limit):
            return "the inotify event queue overflowed (fs.inotify.max_queued_events=\(limit)); rescanning the inbox so no file is missed (raise the sysctl if this repeats)"
        case .inboxMissing(let path):
            return "the inbox \(path) has disappeared; waiting for it to come back"
        case .inboxRestored(let path):
            return "the inbox \(path) is back; watching it again"
        }
    }
}
