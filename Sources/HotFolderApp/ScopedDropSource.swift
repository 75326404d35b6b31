// SPDX-License-Identifier: GPL-2.0-or-later
import HotFolderCore
import HotFolderIO

/// The inbox as the planner should see it when only some folders changed: the changed folders'
/// subtrees plus the folders above them (whose `_defaults` files apply), without the service's own
/// folders when they sit inside the inbox.
///
/// Planning only what changed keeps a burst of thousands of drops from re-reading every prompt each time.
struct ScopedDropSource: DropSource {
    let base: FileSystemDropSource
    /// Folders (relative to the inbox, "" for the root) whose subtrees are planned; nil plans everything.
    let scopes: Set<String>?
    /// Relative paths of folders that are never planned (outbox, failed, archive inside the inbox).
    let excluded: [String]

    func entries() throws -> [DropEntry] {
        let all = try base.entries()
        return all.filter { entry in
            if excluded.contains(where: { entry.path == $0 || entry.path.hasPrefix($0 + "/") }) { return false }
            guard let scopes else { return true }
            return scopes.contains { scope in Self.isVisible(entry, scope: scope) }
        }
    }

    func read(_ path: String, maxBytes: Int) throws -> [UInt8] {
        try base.read(path, maxBytes: maxBytes)
    }

    func readTail(_ path: String, maxBytes: Int) throws -> (bytes: [UInt8], size: Int64) {
        try base.readTail(path, maxBytes: maxBytes)
    }

    private static func isVisible(_ entry: DropEntry, scope: String) -> Bool {
        if scope.isEmpty { return true }
        // Inside the scope.
        if entry.path == scope || entry.path.hasPrefix(scope + "/") { return true }
        // A folder above the scope, or a `_defaults` file in one.
        if entry.kind == .directory { return scope.hasPrefix(entry.path + "/") }
        let folder = entry.folder
        let isAbove = folder.isEmpty || scope.hasPrefix(folder + "/")
        return isAbove && entry.name.lowercased().hasPrefix("_defaults.")
    }
}
