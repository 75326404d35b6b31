// SPDX-License-Identifier: GPL-2.0-or-later
#if canImport(Glibc)
import Glibc
#endif

/// Why writing to the outbox, failed or archive folder failed; each case reads as one sentence.
public enum OutboxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file system is full (`ENOSPC`) or the quota is used up (`EDQUOT`): wait for space, then retry.
    case diskFull(operation: String, path: String)
    /// The destination exists and is never overwritten.
    case destinationExists(path: String)
    /// No free name was found (an absurd number of collisions).
    case noFreeName(directory: String, name: String)
    /// A system call failed.
    case io(operation: String, path: String, errno: Int32)

    /// The error as one sentence.
    public var description: String {
        switch self {
        case .diskFull(let operation, let path):
            "The disk is full: could not \(operation) \(path); free some space, the service retries by itself."
        case .destinationExists(let path):
            "\(path) exists already and is never overwritten."
        case .noFreeName(let directory, let name):
            "No free name for \(name) in \(directory)."
        case .io(let operation, let path, let code):
            "Could not \(operation) \(path): \(String(cString: strerror(code)))."
        }
    }

    /// Whether waiting for free space and retrying may help.
    public var isDiskFull: Bool {
        if case .diskFull = self { return true }
        return false
    }

    /// The error for a failed system call: ``diskFull(operation:path:)`` for `ENOSPC`/`EDQUOT`.
    static func from(errno code: Int32, operation: String, path: String) -> OutboxError {
        switch code {
        case ENOSPC, EDQUOT: .diskFull(operation: operation, path: path)
        case EEXIST: .destinationExists(path: path)
        default: .io(operation: operation, path: path, errno: code)
        }
    }
}
