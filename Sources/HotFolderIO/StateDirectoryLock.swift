// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// A lock on `<state directory>/.service.lock` that tells `hotfolder migrate` whether a service uses the directory.
///
/// `hotfolder run` holds it shared for as long as it runs (several holders never exclude each other, so nothing
/// that worked before is refused); `hotfolder migrate` takes it exclusively without waiting, so it fails while a
/// service runs, and a service starting during a migration is refused instead of writing jobs the copy would miss.
/// It is a `flock(2)` lock: the kernel drops it when the process dies, so a `kill -9` leaves no stale lock.
/// A service of a version from before this lock holds none and cannot be seen (the README says to stop it first).
public final class StateDirectoryLock: Sendable {
    /// How the lock is held.
    public enum Mode: Sendable {
        /// The service's: any number of holders.
        case shared
        /// A migration's: no other holder.
        case exclusive
    }

    /// Why the lock was not taken.
    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// Another process holds the lock in a mode that excludes the one asked for.
        case busy(directory: String, mode: Mode)
        /// The lock file could not be opened.
        case unopenable(path: String, reason: String)

        /// The failure as one sentence.
        public var description: String {
            switch self {
            case .busy(let directory, .exclusive):
                "A running `hotfolder run` uses the state directory \(directory); stop the service first (systemctl stop hotfolder, or Ctrl-C)."
            case .busy(let directory, .shared):
                "`hotfolder migrate` is copying the state directory \(directory) to PostgreSQL; start the service once it has finished."
            case .unopenable(let path, let reason):
                "Could not open the lock file \(path): \(reason)."
            }
        }
    }

    /// The lock file's name inside the state directory.
    public static let fileName = ".service.lock"

    private let descriptor: Int32

    /// Takes the lock on `directory` (created, mode 0700, when missing) without waiting.
    ///
    /// - Throws: ``Failure/busy(directory:mode:)`` when another process holds it in a conflicting mode.
    public init(directory: String, mode: Mode) throws(Failure) {
        let path = (directory as NSString).appendingPathComponent(Self.fileName)
        try? FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let descriptor = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            throw .unopenable(path: path, reason: String(cString: strerror(errno)))
        }
        var result: Int32
        repeat {
            result = lockFile(descriptor, (mode == .shared ? LOCK_SH : LOCK_EX) | LOCK_NB)
        } while result != 0 && errno == EINTR
        guard result == 0 else {
            let code = errno
            Glibc.close(descriptor)
            if code == EWOULDBLOCK { throw .busy(directory: directory, mode: mode) }
            throw .unopenable(path: path, reason: String(cString: strerror(code)))
        }
        self.descriptor = descriptor
    }

    deinit {
        // Closing the descriptor releases the flock.
        Glibc.close(descriptor)
    }
}

/// `flock(2)` (Swift sees the name as the C struct of the same name).
@_silgen_name("flock") private func lockFile(_ descriptor: Int32, _ operation: Int32) -> Int32
