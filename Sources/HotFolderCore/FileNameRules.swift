// SPDX-License-Identifier: GPL-2.0-or-later

/// Rules for file names that must never start a job: hidden, temporary and partial-download names.
///
/// Sync clients, browsers, editors and rsync write to a temporary name and rename into place; those
/// temporary names are ignored so a job only ever sees the final, complete file.
public enum FileNameRules {
    /// Suffixes (compared case-insensitively) of files that are still being written by some tool.
    public static let temporarySuffixes: [String] = [
        ".tmp", ".part", ".partial", ".crdownload", ".download", ".swp",
    ]

    /// Returns whether a file with this base name (no directory) is hidden or temporary.
    ///
    /// Covers dotfiles (which includes rsync's `.NAME.XXXXXX` and Foundation's `.dat.nosync…`),
    /// Office lock files (`~$*`), editor backups ending in `~`, and the suffixes in ``temporarySuffixes``.
    public static func isTemporaryOrHidden(_ name: String) -> Bool {
        if name.isEmpty || name.hasPrefix(".") || name.hasPrefix("~$") || name.hasSuffix("~") {
            return true
        }
        let lower = name.lowercased()
        return temporarySuffixes.contains { lower.hasSuffix($0) }
    }
}
