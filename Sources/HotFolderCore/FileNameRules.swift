// SPDX-License-Identifier: GPL-2.0-or-later

/// Rules for file names: which ones never start a job (hidden, temporary and partial-download names), and how
/// a name splits into the group (stem) it belongs to.
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

    /// The folder part of an inbox-relative path: `a/b` for `a/b/cat.png`, `""` for `cat.png` or `c`.
    ///
    /// Not `NSString.deletingLastPathComponent`: swift-corelibs-foundation traps on a one-character string, so a lane
    /// folder or a file named `c` stopped the service.
    public static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    /// Splits `door.first.PNG` into the stem `door` and the lower-cased rest `first.png`; nil for names
    /// without a dot after their first character (they belong to no group).
    public static func split(_ name: String) -> (stem: String, rest: String)? {
        guard let dot = name.firstIndex(of: "."), dot != name.startIndex else { return nil }
        return (String(name[..<dot]), name[name.index(after: dot)...].lowercased())
    }

    /// The group names a file may belong to: its stem, and the name a design tool's export suffix or a frame number
    /// hides (`hero@2x.png` → `hero@2x`, `hero`; `shot_00005.png` → `shot_00005`, `shot`). A planning pass over a
    /// file's groups lists every file of any of them, so an export meets its prompt and a frame its sequence.
    public static func groupKeys(_ name: String) -> [String] {
        guard let stem = split(name)?.stem else { return [] }
        var keys = [stem]
        if let scaled = ExportNames.scaleSuffix(name) { keys.append(scaled.stem) }
        if let frame = ImageSequence.frame(name, imageExtensions: ["png", "jpg", "jpeg", "webp"]) { keys.append(frame.base) }
        return keys
    }

    /// Whether the name is a manifest: `NAME.csv` or `NAME.jsonl`, one job per row.
    public static func isManifest(_ name: String) -> Bool {
        guard let rest = split(name)?.rest else { return false }
        return rest == "csv" || rest == "jsonl"
    }

    /// Whether a file of this name makes the planner look at its folder as a whole rather than at one group:
    /// a manifest (its rows may name any file there) or a shot-folder file (`prompt.txt`, `first_frame.*`,
    /// `last_frame.*`, `reference.*`, `settings.*`: the folder is one job; `storyboard.*`: the folder is one film).
    public static func concernsWholeFolder(_ name: String) -> Bool {
        guard let stem = split(name)?.stem.lowercased() else { return false }
        return isManifest(name) || ["prompt", "first_frame", "last_frame", "reference", "settings", "storyboard"].contains(stem)
    }
}
