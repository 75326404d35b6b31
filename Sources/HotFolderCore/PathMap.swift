// SPDX-License-Identifier: GPL-2.0-or-later

/// A dictionary keyed by file path that stores each folder's part of the paths once.
///
/// The watcher and the intake remember something about every file in the inbox; with 100,000 files a plain
/// `[String: Value]` holds 100,000 full paths, each its own allocation. Here the paths are split at the last
/// `/`: the folder (with its slash) is a key shared by all its files, and a file name of up to 15 bytes is
/// stored inside the string itself, with no allocation at all.
public struct PathMap<Value: Sendable>: Sendable {
    private var byFolder: [String: [String: Value]] = [:]

    /// Number of paths in the map.
    public private(set) var count = 0

    /// Creates an empty map.
    public init() {}

    /// The value for `path`, nil when there is none; setting nil removes the path.
    public subscript(path: String) -> Value? {
        get {
            let (folder, name) = Self.split(path)
            return byFolder[folder]?[name]
        }
        set {
            let (folder, name) = Self.split(path)
            if let newValue {
                if byFolder[folder, default: [:]].updateValue(newValue, forKey: name) == nil { count += 1 }
            } else if byFolder[folder]?.removeValue(forKey: name) != nil {
                count -= 1
                if byFolder[folder]?.isEmpty == true { byFolder[folder] = nil }
            }
        }
    }

    /// Calls `body` with every path and its value, in no particular order.
    public func forEach(_ body: (String, Value) throws -> Void) rethrows {
        for (folder, names) in byFolder {
            for (name, value) in names { try body(folder + name, value) }
        }
    }

    /// Removes every path for which `shouldRemove` returns true.
    public mutating func removeAll(where shouldRemove: (String, Value) throws -> Bool) rethrows {
        for folder in Array(byFolder.keys) {
            // Usually nothing goes (a rescan that found every file): then no folder's table is copied or rebuilt.
            let doomed = try byFolder[folder, default: [:]].compactMap { try shouldRemove(folder + $0.key, $0.value) ? $0.key : nil }
            guard !doomed.isEmpty else { continue }
            for name in doomed { byFolder[folder]?.removeValue(forKey: name) }
            count -= doomed.count
            if byFolder[folder]?.isEmpty == true { byFolder[folder] = nil }
        }
    }

    /// Removes every path that starts with `prefix`, a folder path ending in `/`, and returns them with their values.
    @discardableResult
    public mutating func removeTree(_ prefix: String) -> [(path: String, value: Value)] {
        precondition(prefix.hasSuffix("/"), "a tree prefix ends with a slash")
        var removed: [(path: String, value: Value)] = []
        // A path lies under the prefix exactly when its folder part does, since the prefix ends with a slash.
        for folder in byFolder.keys.filter({ $0.hasPrefix(prefix) }) {
            for (name, value) in byFolder.removeValue(forKey: folder) ?? [:] { removed.append((folder + name, value)) }
        }
        count -= removed.count
        return removed
    }

    /// Splits a path after its last slash: `a/b/c.txt` into `a/b/` and `c.txt`; a path without a slash has the
    /// folder "". (``PathSet`` splits the same way.)
    static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return ("", path) }
        let end = path.utf8.index(after: slash)
        return (String(path[..<end]), String(path[end...]))
    }
}
