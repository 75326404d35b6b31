// SPDX-License-Identifier: GPL-2.0-or-later
import Glibc

/// Why the watcher could not start.
public enum WatcherError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The inbox does not exist.
    case inboxMissing(path: String)
    /// The inbox exists but is not a folder.
    case inboxNotADirectory(path: String)
    /// The inbox cannot be listed by this user.
    case inboxUnreadable(path: String, errno: Int32)
    /// inotify could not be initialised (e.g. the per-user instance limit is reached).
    case inotifyUnavailable(errno: Int32)

    /// One sentence with what to do.
    public var description: String {
        switch self {
        case .inboxMissing(let path):
            return "the inbox \(path) does not exist; create it (mkdir -p \(path)) or point the configuration at the right folder"
        case .inboxNotADirectory(let path):
            return "the inbox \(path) is not a folder; point the configuration at a folder"
        case .inboxUnreadable(let path, let code):
            return "cannot read the inbox \(path): \(String(cString: strerror(code))); give the service's user read and execute permission on it"
        case .inotifyUnavailable(let code):
            let reason = String(cString: strerror(code))
            if code == EMFILE {
                return "cannot start inotify: \(reason); too many inotify instances for this user — raise `sysctl fs.inotify.max_user_instances` or use `--mode poll`"
            }
            return "cannot start inotify: \(reason); use `--mode poll` to watch by scanning instead"
        }
    }
}
