// SPDX-License-Identifier: GPL-2.0-or-later

/// A set of file paths that stores each folder's part of the paths once (see ``PathMap``).
public struct PathSet: Sendable, Hashable, ExpressibleByArrayLiteral {
    private var byFolder: [String: Set<String>] = [:]

    /// Number of paths in the set.
    public private(set) var count = 0

    /// Creates an empty set.
    public init() {}

    /// Creates a set of these paths.
    public init(_ paths: some Sequence<String>) {
        for path in paths { insert(path) }
    }

    /// Adds `path`; returns false when it was there already.
    @discardableResult
    public mutating func insert(_ path: String) -> Bool {
        let (folder, name) = PathMap<Never>.split(path)
        let inserted = byFolder[folder, default: []].insert(name).inserted
        if inserted { count += 1 }
        return inserted
    }

    /// Whether `path` is in the set.
    public func contains(_ path: String) -> Bool {
        let (folder, name) = PathMap<Never>.split(path)
        return byFolder[folder]?.contains(name) ?? false
    }

    /// Creates a set of the listed paths.
    public init(arrayLiteral paths: String...) {
        self.init(paths)
    }
}
