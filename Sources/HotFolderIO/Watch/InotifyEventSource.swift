// SPDX-License-Identifier: GPL-2.0-or-later
import CInotifyTools
import Foundation
import Glibc
import HotFolderCore
import Synchronization

/// Owns libinotifytools: one dedicated thread watches the inbox tree and turns events into signals.
///
/// The library keeps all its state in C globals, is not thread-safe and allows one instance per
/// process, so every call into it happens on this thread, and ``InotifyInstance`` hands the library
/// to one source at a time. The thread blocks in `inotifytools_next_events(1, 1)` (never n>1, which
/// busy-spins, and never timeout 0, which blocks forever), copies each event out of the library's
/// static buffer and yields a Sendable ``WatchSignal``. It also keeps the watch set right: new and
/// moved-in folders are watched before they are listed, renames rewrite paths, folders moved out
/// lose their watches, and a rescan runs at start, on overflow and periodically.
final class InotifyEventSource: Sendable {
    private let root: String
    private let walker: DirectoryWalker
    private let rescanInterval: Double
    private let stopRequested = Atomic<Bool>(false)
    private let rescanRequested = Atomic<Bool>(false)
    private let finished = Mutex<CheckedContinuation<Void, Never>?>(nil)
    private let done = Atomic<Bool>(false)
    private let eventsToLose = Atomic<Int>(0)
    private let watchedFolders = Atomic<Int>(0)

    /// How many folders have a watch now (the inbox and every folder below it that could be watched).
    var folderCount: Int { watchedFolders.load(ordering: .relaxed) }

    /// Events every watched folder subscribes to. IN_CREATE is needed to see new folders; the
    /// kernel cannot limit it to folders, so each new file costs two queue slots.
    static let mask: Int32 = Int32(
        bitPattern: UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO) | UInt32(IN_MOVED_FROM)
            | UInt32(IN_CREATE) | UInt32(IN_DELETE) | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF))

    init(root: String, walker: DirectoryWalker, rescanInterval: Double) {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        self.walker = walker
        self.rescanInterval = rescanInterval
    }

    /// Starts the thread; signals go to `sink` until ``stop()``. Throws if inotify cannot start.
    func start(sink: @escaping @Sendable (WatchSignal) -> Void) throws(WatcherError) {
        guard inotifytools_initialize() == 1 else {
            let code = inotifytools_error()
            throw .inotifyUnavailable(errno: code)
        }
        let thread = Thread { [self] in
            var state = ThreadState()
            self.fullRescan(&state, sink: sink)
            self.loop(&state, sink: sink)
            inotifytools_cleanup()
            self.done.store(true, ordering: .sequentiallyConsistent)
            self.finished.withLock { $0?.resume(); $0 = nil }
        }
        thread.name = "hotfolder-inotify"
        thread.start()
    }

    /// Asks the thread to stop; it notices within one second (the library's shortest timeout).
    func stop() {
        stopRequested.store(true, ordering: .sequentiallyConsistent)
    }

    /// Waits until the thread has released the library.
    func waitUntilStopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = finished.withLock { slot -> Bool in
                if done.load(ordering: .sequentiallyConsistent) { return true }
                slot = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Asks for a full rescan at the next wake-up (used by tests to simulate a lost event).
    func requestRescan() {
        rescanRequested.store(true, ordering: .sequentiallyConsistent)
    }

    // MARK: - The thread

    private struct PendingMove {
        var cookie: UInt32
        var path: String
        var at: Double
    }

    private struct ThreadState {
        /// Watch descriptor → watched folder (no trailing slash). Our own copy: the library cannot
        /// list its watches and never purges stale ones.
        private(set) var watched: [Int32: String] = [:]
        /// The same folders, for quick "already watched?" checks.
        private(set) var paths: Set<String> = []
        var pendingMove: PendingMove?
        var lastRescan = monotonicSeconds()
        /// Seconds until the next periodic rescan: the configured interval, longer on a tree so large that its
        /// rescans would cost more than ``InotifyEventSource/rescanShare`` of a core.
        var rescanGap: Double = 0
        var rootMissing = false
        var reportedLimit = false

        mutating func add(_ wd: Int32, _ path: String) {
            if let old = watched[wd] { paths.remove(old) }
            watched[wd] = path
            paths.insert(path)
        }

        mutating func remove(_ wd: Int32) {
            if let old = watched.removeValue(forKey: wd) { paths.remove(old) }
        }

        mutating func removeAll() {
            watched = [:]
            paths = []
        }
    }

    private func loop(_ state: inout ThreadState, sink: @Sendable (WatchSignal) -> Void) {
        while !stopRequested.load(ordering: .relaxed) {
            if let event = inotifytools_next_events(1, 1) {
                if eventsToLose.load(ordering: .relaxed) > 0 {
                    if eventsToLose.wrappingSubtract(1, ordering: .relaxed).newValue == 0 {
                        recoverFromOverflow(&state, sink: sink)
                    }
                    continue
                }
                handle(event, &state, sink: sink)
            } else if let move = state.pendingMove {
                // No partner arrived within the timeout: the folder left the inbox.
                state.pendingMove = nil
                removeTree(move.path, &state, sink: sink)
            }
            let now = monotonicSeconds()
            if rescanRequested.exchange(false, ordering: .relaxed) || now - state.lastRescan >= max(rescanInterval, state.rescanGap) {
                fullRescan(&state, sink: sink)
            }
        }
    }

    private func handle(
        _ event: UnsafeMutablePointer<inotify_event>, _ state: inout ThreadState,
        sink: @Sendable (WatchSignal) -> Void
    ) {
        let mask = event.pointee.mask
        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
            recoverFromOverflow(&state, sink: sink)
            return
        }
        let wd = event.pointee.wd
        let name = String(cString: cit_event_name(event))
        let isDirectory = mask & UInt32(IN_ISDIR) != 0

        if let move = state.pendingMove {
            state.pendingMove = nil
            if isDirectory, mask & UInt32(IN_MOVED_TO) != 0, event.pointee.cookie == move.cookie,
                let parent = state.watched[wd]
            {
                renameTree(from: move.path, to: parent + "/" + name, &state, sink: sink)
                return
            }
            removeTree(move.path, &state, sink: sink)
        }
        // Events from folders we no longer watch (moved out, deleted) are phantoms: drop them.
        guard let directory = state.watched[wd] else { return }
        let path = name.isEmpty ? directory : directory + "/" + name

        if mask & UInt32(IN_IGNORED) != 0 {
            state.remove(wd)
            return
        }
        if name.isEmpty {
            // An event about a watched folder itself.
            if directory == root, mask & (UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF)) != 0 {
                state.rootMissing = true
                sink(.problem(.inboxMissing(path: root)))
            }
            return
        }
        if walker.isExcluded(path) { return }

        if isDirectory {
            if mask & (UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)) != 0 {
                addTree(path, &state, sink: sink)
            } else if mask & UInt32(IN_MOVED_FROM) != 0 {
                state.pendingMove = PendingMove(cookie: event.pointee.cookie, path: path, at: monotonicSeconds())
            } else if mask & UInt32(IN_DELETE) != 0 {
                forgetWatches(under: path, &state, remove: false)
                sink(.removedTree(directory: path))
            }
            return
        }
        if mask & UInt32(IN_CREATE) != 0 {
            sink(.hint(.created, path: path))
        } else if mask & (UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO)) != 0 {
            sink(.hint(.closed, path: path))
        } else if mask & (UInt32(IN_DELETE) | UInt32(IN_MOVED_FROM)) != 0 {
            sink(.removed(path: path))
        }
    }

    /// Watches `directory` and everything below it, listing each folder only after its watch is in
    /// place so files created meanwhile are either listed or produce events (duplicates are fine).
    private func addTree(_ directory: String, _ state: inout ThreadState, sink: @Sendable (WatchSignal) -> Void) {
        walker.walk(
            directory,
            visitDirectory: { watch($0, &state, sink: sink) },
            visitEntry: { sink(.scanned(path: $0.path, stat: $0.stat)) },
            problem: { report($0.path, errno: $0.errno, &state, sink: sink) }
        )
    }

    /// The most of one core the periodic rescans may use on average (0.05 %): a rescan that took 90 ms of CPU (10,000
    /// folders on this project's test machine) comes every 180 s instead of every `rescanInterval`.
    static let rescanShare = 0.0005

    /// Seconds between periodic rescans after one that took `cpuSeconds` of CPU: `interval`, or longer so that rescans
    /// use at most ``rescanShare`` of a core, but never more than ten intervals (the first rescan also places every
    /// watch, and a slow moment must not put the next one off for long). Only the periodic safety rescan stretches: an
    /// overflow or a watch error still rescans at once, and every event is handled as it comes.
    static func rescanGap(interval: Double, cpuSeconds: Double) -> Double {
        min(max(interval, cpuSeconds / rescanShare), 10 * interval)
    }

    private func fullRescan(_ state: inout ThreadState, sink: @Sendable (WatchSignal) -> Void) {
        state.lastRescan = monotonicSeconds()
        let cpuBefore = Self.threadCPUSeconds()
        defer { state.rescanGap = Self.rescanGap(interval: rescanInterval, cpuSeconds: Self.threadCPUSeconds() - cpuBefore) }
        guard FileSystemProbe.lstat(root)?.kind == .directory else {
            if !state.rootMissing {
                state.rootMissing = true
                sink(.problem(.inboxMissing(path: root)))
            }
            return
        }
        if state.rootMissing {
            state.rootMissing = false
            forgetWatches(under: root, &state, remove: true)
            sink(.problem(.inboxRestored(path: root)))
        }
        var seen = PathSet()
        walker.walk(
            root,
            visitDirectory: { directory in
                watch(directory, &state, sink: sink)
            },
            visitEntry: { entry in
                seen.insert(entry.path)
                sink(.scanned(path: entry.path, stat: entry.stat))
            },
            problem: { report($0.path, errno: $0.errno, &state, sink: sink) }
        )
        sink(.scanCompleted(seen: seen))
    }

    private func watch(_ directory: String, _ state: inout ThreadState, sink: @Sendable (WatchSignal) -> Void) {
        if state.paths.contains(directory) { return }
        if inotifytools_watch_file(directory, Self.mask) == 1 {
            let wd = inotifytools_wd_from_filename(directory + "/")
            if wd >= 0 { state.add(wd, directory) }
            watchedFolders.store(state.watched.count, ordering: .relaxed)
        } else {
            report(directory, errno: inotifytools_error(), &state, sink: sink)
        }
    }

    private func report(_ path: String, errno code: Int32, _ state: inout ThreadState, sink: @Sendable (WatchSignal) -> Void) {
        switch code {
        case ENOENT, ENOTDIR:
            return  // gone before we got to it
        case EACCES, EPERM:
            sink(.problem(.permissionDenied(path: path)))
        case ENOSPC:
            if !state.reportedLimit {
                state.reportedLimit = true
                sink(.problem(.watchLimitReached(path: path, limit: Int(inotifytools_get_max_user_watches()))))
            }
        default:
            sink(.problem(.watchFailed(path: path, errno: code)))
        }
    }

    private func renameTree(from old: String, to new: String, _ state: inout ThreadState, sink: @Sendable (WatchSignal) -> Void) {
        if walker.isExcluded(new) {
            removeTree(old, &state, sink: sink)
            return
        }
        inotifytools_replace_filename(old + "/", new + "/")
        for (wd, path) in state.watched where path == old || path.hasPrefix(old + "/") {
            state.add(wd, new + path.dropFirst(old.count))
        }
        sink(.renamedTree(from: old, to: new))
    }

    private func removeTree(_ directory: String, _ state: inout ThreadState, sink: @Sendable (WatchSignal) -> Void) {
        forgetWatches(under: directory, &state, remove: true)
        sink(.removedTree(directory: directory))
    }

    /// Drops every watch at or below `directory`; `remove` also tells the kernel (not needed when the
    /// folder was deleted, since the kernel already dropped those watches).
    private func forgetWatches(under directory: String, _ state: inout ThreadState, remove: Bool) {
        let prefix = directory + "/"
        for (wd, path) in state.watched where path == directory || path.hasPrefix(prefix) {
            if remove { _ = inotifytools_remove_watch_by_wd(wd) }
            state.remove(wd)
        }
        watchedFolders.store(state.watched.count, ordering: .relaxed)
    }

    private func recoverFromOverflow(_ state: inout ThreadState, sink: @Sendable (WatchSignal) -> Void) {
        sink(.overflow)
        sink(.problem(.overflow(limit: Self.maxQueuedEvents())))
        // Events were lost; start the library afresh to drop any stale state, then rescan everything.
        inotifytools_cleanup()
        state.removeAll()
        watchedFolders.store(0, ordering: .relaxed)
        state.pendingMove = nil
        if inotifytools_initialize() != 1 {
            sink(.problem(.watchFailed(path: root, errno: inotifytools_error())))
        }
        fullRescan(&state, sink: sink)
    }

    /// Test seam for a kernel queue overflow: the next `events` events are lost, then the source
    /// behaves exactly as if the kernel had reported `IN_Q_OVERFLOW`.
    func simulateOverflow(losingNext events: Int) {
        eventsToLose.store(max(1, events), ordering: .sequentiallyConsistent)
    }

    /// `inotifytools_get_max_queued_events()` is broken in 3.22 (returns -1), so read /proc directly.
    static func maxQueuedEvents() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8)
        else { return -1 }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }
}

extension InotifyEventSource {
    /// CPU seconds the calling thread has used.
    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// Seconds on a monotonic clock.
@usableFromInline
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
