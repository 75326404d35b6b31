// SPDX-License-Identifier: GPL-2.0-or-later
import HotFolderIO

extension VideoAPIError {
    /// Whether a failed create call may still have created (and billed) a task: the request may have
    /// reached the server but no answer came back.
    var outcomeUnknown: Bool {
        switch self {
        case .timedOut(.create, _), .connectionFailed(.create, _): true
        default: false
        }
    }

    /// Whether the local disk is full (the download waits and is tried again).
    var isDiskFull: Bool {
        if case .fileSystem(_, let reason) = self {
            return reason.localizedCaseInsensitiveContains("no space") || reason.localizedCaseInsensitiveContains("quota")
        }
        return false
    }
}
