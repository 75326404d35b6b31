// SPDX-License-Identifier: GPL-2.0-or-later
import CInotifyTools
import Glibc
import HotFolderCore
import Synchronization

/// How the watcher notices new files.
public enum WatchMode: String, Sendable, CaseIterable, Codable {
    /// inotify on local file systems, polling on network and FUSE file systems.
    case auto
    /// Always inotify (plus the periodic rescan).
    case inotify
    /// Always scan the tree every `pollInterval` seconds.
    case poll
}

/// Whether poll mode reads a folder whose mtime has not changed since it was last read.
public enum FolderReading: String, Sendable, CaseIterable, Codable {
    /// Skip unchanged folders on file systems that update a folder's mtime reliably (local ones and NFS), read all on others.
    case auto
    /// Skip unchanged folders (their files are still examined one by one).
    case skipUnchanged = "skip-unchanged"
    /// Read every folder on every scan (for a share whose server does not update folders' mtimes).
    case readAll = "read-all"
}

/// Settings of an ``InboxWatcher``.
public struct WatcherConfiguration: Sendable {
    /// The inbox folder (absolute or relative to the working directory).
    public var root: String
    /// Seconds a file's size and mtime must stay unchanged before it is ready.
    public var settle: Double = 2
    /// How to notice changes.
    public var mode: WatchMode = .auto
    /// Seconds between scans in poll mode.
    public var pollInterval: Double = 5
    /// Seconds between safety rescans in inotify mode.
    public var rescanInterval: Double = 60
    /// Folders (absolute) that are never watched, e.g. the service's own outbox inside the inbox.
    public var excluded: [String] = []
    /// Seconds after which a file that was created but never closed is judged by stability alone.
    public var openWriteTimeout: Double = 60
    /// Poll mode: whether a folder whose mtime has not changed is read again (its files are examined either way).
    public var folderReading: FolderReading = .auto
    /// Poll mode: a file unchanged for ``PollScanner/defaultSettledAfter`` seconds is examined on one scan in this
    /// many (1: every file on every scan); see ``PollScanner``.
    public var settledEvery = PollScanner.defaultSettledEvery

    /// Creates a configuration with the defaults.
    public init(root: String) {
        self.root = root
    }
}

/// A file in the inbox that is complete.
public struct ReadyFile: Sendable, Hashable {
    /// Absolute path.
    public var path: String
    /// Path relative to the inbox.
    public var relativePath: String
    /// `lstat` when it became ready.
    public var stat: FileStat
}

/// What the watcher reports.
public enum WatcherEvent: Sendable, Hashable {
    /// The watcher is running; `mode` is `inotify` or `poll`, `fileSystem` the inbox's file system.
    case started(mode: WatchMode, fileSystem: String)
    /// A complete regular file.
    case ready(ReadyFile)
    /// A settled entry that is not a regular file (symlink, FIFO, socket, device).
    case unsupported(ReadyFile)
    /// A problem the watcher survived.
    case problem(WatchProblem)
    /// A full scan (startup, periodic, after an overflow, or each poll) saw `files` entries; `pending`
    /// files are still waiting to settle.
    case scanCompleted(files: Int, pending: Int)
}

/// Watches an inbox tree and reports each file once it is complete.
///
/// In inotify mode a dedicated thread (``InotifyEventSource``) turns kernel events into hints; in poll
/// mode a scan every `pollInterval` does. Either way the hints go through one ``ReadinessTracker``,
/// so the rules for "complete" are the same. A startup scan reports files that arrived while the
/// service was down, and rescans (periodic, and after an overflow) make a lost event delay a file,
/// never lose it.
public final class InboxWatcher: Sendable {
    /// The configuration.
    public let configuration: WatcherConfiguration
    let root: String
    private let source = Mutex<InotifyEventSource?>(nil)
    /// Poll mode: the folders the last scan went through (-1 before the first).
    private let polledFolders = Atomic<Int>(-1)

    /// Creates a watcher; nothing happens until ``run(onEvent:)``.
    public init(configuration: WatcherConfiguration) {
        self.configuration = configuration
        var root = configuration.root
        if !root.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
            if getcwd(&buffer, buffer.count) != nil {
                root = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/" + root
            }
        }
        while root.count > 1, root.hasSuffix("/") { root.removeLast() }
        self.root = root
    }

    /// Checks that the inbox can be watched, throwing a ``WatcherError`` that says what to fix.
    public func validate() throws(WatcherError) {
        guard let stat = FileSystemProbe.lstat(root) else { throw .inboxMissing(path: root) }
        var isDirectory = stat.kind == .directory
        if stat.kind == .symlink {
            // The inbox itself may be a symlink to a folder (common on servers); nothing below is followed.
            isDirectory = cit_is_directory(root) != 0
        }
        guard isDirectory else { throw .inboxNotADirectory(path: root) }
        guard let dir = opendir(root) else { throw .inboxUnreadable(path: root, errno: errno) }
        closedir(dir)
    }

    /// The mode that `auto` resolves to for this inbox, with the file system's name.
    public func effectiveMode() -> (mode: WatchMode, fileSystem: String) {
        let kind = FileSystemProbe.fileSystemKind(of: root)
        let name = kind?.description ?? "unknown"
        switch configuration.mode {
        case .auto: return (kind?.needsPolling == true ? .poll : .inotify, name)
        case .inotify, .poll: return (configuration.mode, name)
        }
    }

    /// Runs until the calling task is cancelled, calling `onEvent` for everything it notices.
    ///
    /// Throws a ``WatcherError`` before reporting anything when the inbox cannot be watched.
    public func run(onEvent: @escaping @Sendable (WatcherEvent) async -> Void) async throws {
        try validate()
        var (mode, fileSystem) = effectiveMode()
        let walker = DirectoryWalker(excluded: Set(configuration.excluded.map(Self.absolute)))
        let (signals, continuation) = AsyncStream<WatchSignal>.makeStream()

        var started: InotifyEventSource?
        if mode == .inotify {
            await InotifyInstance.acquire()
            let candidate = InotifyEventSource(root: root, walker: walker, rescanInterval: configuration.rescanInterval)
            do {
                try candidate.start { continuation.yield($0) }
                started = candidate
                source.withLock { $0 = candidate }
            } catch {
                InotifyInstance.release()
                guard configuration.mode == .auto else { throw error }
                await onEvent(.problem(.watchFailed(path: root, errno: Self.errnoOf(error))))
                mode = .poll
            }
        }
        let inotify = started
        await onEvent(.started(mode: mode, fileSystem: fileSystem))

        let scanner = mode == .poll ? makeScanner() : nil
        let deadline = Deadline()
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { [configuration] in
                    await Self.tick(deadline: deadline, settle: configuration.settle, into: continuation)
                }
                if mode == .poll {
                    group.addTask { [root, configuration, self] in
                        await Self.poll(root: root, scanner: scanner, interval: configuration.pollInterval, into: continuation) {
                            self.polledFolders.store($0, ordering: .relaxed)
                        }
                    }
                }
                var tracker = ReadinessTracker(settle: configuration.settle, openWriteTimeout: configuration.openWriteTimeout)
                var told = Set<WatchProblem>()
                for await signal in signals {
                    for decision in apply(signal, to: &tracker, scanner: scanner) {
                        await onEvent(event(for: decision))
                    }
                    if let problem = Self.problem(in: signal), Self.shouldTell(problem, told: &told) {
                        await onEvent(.problem(problem))
                    }
                    if case .scanCompleted(let seen) = signal {
                        await onEvent(.scanCompleted(files: seen.count, pending: tracker.pendingCount))
                    } else if case .pollCompleted(let files) = signal {
                        await onEvent(.scanCompleted(files: files, pending: tracker.pendingCount))
                    }
                    deadline.set(tracker.nextCheck)
                }
                group.cancelAll()
            }
        } onCancel: {
            continuation.finish()
            inotify?.stop()
        }
        if let inotify {
            inotify.stop()
            await inotify.waitUntilStopped()
            source.withLock { $0 = nil }
            InotifyInstance.release()
        }
    }

    /// How many folders are watched now: with inotify, the folders that have a watch; in poll mode, the folders the
    /// last scan went through. Nil before the watcher runs (or before the first poll).
    public var foldersWatched: Int? {
        if let count = source.withLock({ $0?.folderCount }) { return count }
        let polled = polledFolders.load(ordering: .relaxed)
        return polled >= 0 ? polled : nil
    }

    /// Asks for a full rescan now (inotify mode; poll mode scans on its own schedule).
    public func requestRescan() {
        source.withLock { $0?.requestRescan() }
    }

    /// Test seam: loses the next `events` inotify events and then acts as if the queue overflowed.
    public func simulateOverflow(losingNext events: Int) {
        source.withLock { $0?.simulateOverflow(losingNext: events) }
    }

    private func apply(_ signal: WatchSignal, to tracker: inout ReadinessTracker, scanner: PollScanner?) -> [ReadinessTracker.Decision] {
        let now = monotonicSeconds()
        switch signal {
        case .hint(let hint, let path):
            return tracker.hint(hint, path: path, stat: FileSystemProbe.lstat(path), now: now)
        case .scanned(let path, let stat):
            return tracker.hint(.scanned, path: path, stat: stat, now: now)
        case .removed(let path):
            tracker.removed(path: path)
        case .removedTree(let directory):
            tracker.removedTree(directory: directory)
        case .renamedTree(let from, let to):
            return tracker.renamedTree(from: from, to: to, stat: FileSystemProbe.lstat)
        case .scanCompleted(let seen):
            tracker.pruneReported(seen: seen, now: now, stat: FileSystemProbe.lstat)
        case .overflow:
            tracker.forgetWriters(now: now)
        case .tick:
            guard let scanner else { return tracker.tick(now: now, stat: FileSystemProbe.lstat) }
            // A file gone when the tracker looks is dropped by it; the scanner must report it again if it comes back.
            var vanished: [String] = []
            let decisions = tracker.tick(now: now) { path in
                let stat = FileSystemProbe.lstat(path)
                if stat == nil { vanished.append(path) }
                return stat
            }
            scanner.forget(vanished)
            return decisions
        case .problem, .pollCompleted:
            break
        }
        return []
    }

    private func event(for decision: ReadinessTracker.Decision) -> WatcherEvent {
        switch decision {
        case .ready(let path, let stat): .ready(ReadyFile(path: path, relativePath: relative(path), stat: stat))
        case .unsupported(let path, let stat): .unsupported(ReadyFile(path: path, relativePath: relative(path), stat: stat))
        }
    }

    private func relative(_ path: String) -> String {
        let prefix = root == "/" ? "/" : root + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    private static func problem(in signal: WatchSignal) -> WatchProblem? {
        if case .problem(let problem) = signal { return problem }
        return nil
    }

    /// Folder problems repeat on every rescan; tell the operator once (again after the inbox comes back).
    private static func shouldTell(_ problem: WatchProblem, told: inout Set<WatchProblem>) -> Bool {
        switch problem {
        case .inboxMissing, .overflow:
            return true
        case .inboxRestored:
            told.removeAll()
            return true
        case .permissionDenied, .watchLimitReached, .watchFailed:
            return told.insert(problem).inserted
        }
    }

    private static func errnoOf(_ error: WatcherError) -> Int32 {
        if case .inotifyUnavailable(let code) = error { return code }
        return 0
    }

    static func absolute(_ path: String) -> String {
        InboxWatcher(configuration: WatcherConfiguration(root: path)).root
    }

    /// Wakes the readiness stage when a waiting file is due; idles at most one second at a time.
    private static func tick(deadline: Deadline, settle: Double, into continuation: AsyncStream<WatchSignal>.Continuation) async {
        let idle = settle > 0 ? min(1, settle) : 1
        while !Task.isCancelled {
            let next = deadline.get()
            let now = monotonicSeconds()
            let wait = next.map { min(max($0 - now, 0.005), idle) } ?? idle
            try? await Task.sleep(for: .seconds(wait))
            if let next, monotonicSeconds() >= next {
                deadline.set(nil)  // the stage sets the next one after handling the tick
                continuation.yield(.tick)
            }
        }
    }
}

/// The readiness stage's next check time, shared with the ticker.
private final class Deadline: Sendable {
    private let value = Mutex<Double?>(nil)
    func get() -> Double? { value.withLock { $0 } }
    func set(_ new: Double?) { value.withLock { $0 = new } }
}
