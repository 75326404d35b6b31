// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// A ``DropSource`` held in memory: for tests, previews and tools that build an inbox on the fly.
public struct InMemoryDropSource: DropSource {
    /// The entries, keyed by relative path.
    public private(set) var entriesByPath: [String: DropEntry] = [:]
    /// File contents, keyed by relative path.
    public private(set) var contents: [String: [UInt8]] = [:]

    /// Creates an empty inbox.
    public init() {}

    /// Adds a regular file (and the folders above it), with an optional modification time.
    public mutating func add(_ path: String, bytes: [UInt8], modified: Date = Date(timeIntervalSince1970: 0)) {
        addFolders(above: path, modified: modified)
        entriesByPath[path] = DropEntry(path: path, kind: .regular, size: Int64(bytes.count), modified: modified)
        contents[path] = bytes
    }

    /// Adds a UTF-8 text file.
    public mutating func add(_ path: String, text: String, modified: Date = Date(timeIntervalSince1970: 0)) {
        add(path, bytes: Array(text.utf8), modified: modified)
    }

    /// Adds an entry as is, e.g. a FIFO or a symlink; its contents cannot be read.
    public mutating func add(entry: DropEntry) {
        addFolders(above: entry.path, modified: entry.modified)
        entriesByPath[entry.path] = entry
    }

    private mutating func addFolders(above path: String, modified: Date) {
        var parts = path.split(separator: "/").dropLast().map(String.init)
        while !parts.isEmpty {
            let folder = parts.joined(separator: "/")
            if entriesByPath[folder] == nil {
                entriesByPath[folder] = DropEntry(path: folder, kind: .directory, size: 0, modified: modified)
            }
            parts.removeLast()
        }
    }

    /// All entries, sorted by path.
    public func entries() throws -> [DropEntry] {
        entriesByPath.values.sorted { $0.path < $1.path }
    }

    /// Returns up to `maxBytes` bytes of a regular file (following links that stay inside).
    public func read(_ path: String, maxBytes: Int) throws -> [UInt8] {
        Array(try contents(of: path).prefix(maxBytes))
    }

    /// Returns up to `maxBytes` bytes from the end of a regular file, and its size.
    public func readTail(_ path: String, maxBytes: Int) throws -> (bytes: [UInt8], size: Int64) {
        let bytes = try contents(of: path)
        return (Array(bytes.suffix(maxBytes)), Int64(bytes.count))
    }

    private func contents(of path: String) throws -> [UInt8] {
        guard let entry = entriesByPath[path] else { throw DropReadError.unreadable(path: path, reason: "no such file") }
        var target = path
        if entry.kind == .symlink {
            switch entry.link {
            case .inside(let inside, _, _)?: target = inside
            case .outside(let outside)?: throw DropReadError.outsideInbox(path: path, target: outside)
            default: throw DropReadError.unreadable(path: path, reason: "the link is broken")
            }
        }
        guard let bytes = contents[target] else { throw DropReadError.notRegularFile(path: path) }
        return bytes
    }
}
