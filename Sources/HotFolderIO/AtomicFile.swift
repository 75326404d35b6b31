// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// Writes a file that readers see whole or not at all, replacing an earlier version (reports, small state files).
public enum AtomicFile {
    /// Writes `data` to `path` (temp name, fsync, rename), creating its folder.
    public static func write(_ data: Data, to path: String) throws {
        try FileOperations.makeDirectory((path as NSString).deletingLastPathComponent)
        try FileOperations.writeAtomically(data, to: path, replace: true)
    }
}
