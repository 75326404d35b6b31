// SPDX-License-Identifier: GPL-2.0-or-later
import HotFolderIO

extension VideoAPIError {
    /// Whether the local disk is full (the download waits and is tried again).
    var isDiskFull: Bool {
        if case .fileSystem(_, let reason) = self {
            return reason.localizedCaseInsensitiveContains("no space") || reason.localizedCaseInsensitiveContains("quota")
        }
        return false
    }
}
