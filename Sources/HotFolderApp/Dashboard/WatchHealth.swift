// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Synchronization

/// How the inbox watcher is doing, for the dashboard and `/readyz`: its mode, the file system, the last file it
/// reported and whether the inbox (or the share it lives on) is reachable.
public final class WatchHealth: Sendable {
    /// A snapshot.
    public struct State: Sendable, Hashable, Encodable {
        /// `inotify` or `poll`, once the watcher started.
        public var mode: String?
        /// The inbox's file system as the watcher described it.
        public var fileSystem: String?
        /// Whether the first full scan finished (every folder is watched from then on).
        public var scanned = false
        /// How many folders are watched now (inotify: folders with a watch; poll mode: folders the last scan went
        /// through); nil until the watcher knows.
        public var folders: Int?
        /// When the watcher last reported a ready file.
        public var lastEvent: Date?
        /// Ready files reported since the start.
        public var events = 0
        /// False while the inbox is missing or its share unreachable.
        public var reachable = true
        /// What went wrong last, in words.
        public var problem: String?
    }

    private let state = Mutex(State())
    /// Reads the watcher's folder count when asked (it changes with every folder made or removed).
    private let folderCount = Mutex<(@Sendable () -> Int?)?>(nil)

    /// Creates an empty record (nothing known until the watcher starts).
    public init() {}

    /// What is known now.
    public var current: State {
        var current = state.withLock { $0 }
        current.folders = folderCount.withLock { $0 }?()
        return current
    }

    func started(mode: String, fileSystem: String, folders: @escaping @Sendable () -> Int?) {
        state.withLock { ($0.mode, $0.fileSystem) = (mode, fileSystem) }
        folderCount.withLock { $0 = folders }
    }

    func scanned() { state.withLock { $0.scanned = true } }

    func fileReady(at time: Date) {
        state.withLock { state in
            state.lastEvent = time
            state.events += 1
        }
    }

    func unreachable(_ problem: String) {
        state.withLock { ($0.reachable, $0.problem) = (false, problem) }
    }

    func restored() {
        state.withLock { $0.reachable = true }
    }
}
