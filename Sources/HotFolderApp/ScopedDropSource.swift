// SPDX-License-Identifier: GPL-2.0-or-later
import HotFolderCore
import HotFolderIO

/// The inbox as the planner should see it when only some files changed: the changed groups or folders
/// plus the folders above them (whose `_defaults` files apply), without the service's own
/// folders when they sit inside the inbox.
///
/// Planning only what changed keeps a burst of thousands of drops from re-reading every prompt each time.
struct ScopedDropSource: DropSource {
    let base: FileSystemDropSource
    /// The folders or groups to plan; nil plans everything.
    let scopes: [ListingScope]?

    /// Creates the view; `excluded` (relative paths) are never listed nor entered.
    init(base: FileSystemDropSource, scopes: [ListingScope]?, excluded: [String]) {
        var base = base
        base.excludedFolders = Set(excluded)
        self.base = base
        self.scopes = scopes
    }

    func entries() throws -> [DropEntry] {
        try scopes.map { try base.entries(within: $0) } ?? base.entries()
    }

    func read(_ path: String, maxBytes: Int) throws -> [UInt8] {
        try base.read(path, maxBytes: maxBytes)
    }

    func readTail(_ path: String, maxBytes: Int) throws -> (bytes: [UInt8], size: Int64) {
        try base.readTail(path, maxBytes: maxBytes)
    }
}
