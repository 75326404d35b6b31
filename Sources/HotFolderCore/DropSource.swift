// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// What kind of file system object an inbox entry is, as seen by `lstat` (links are not followed).
public enum DropEntryKind: String, Sendable, Hashable, Codable {
    /// A regular file.
    case regular
    /// A directory.
    case directory
    /// A symbolic link; see ``DropEntry/link`` for where it points.
    case symlink
    /// A named pipe: never opened, because opening one can block forever.
    case fifo
    /// A socket, device or anything else that is not a plain file.
    case other
}

/// Where a symbolic link in the inbox leads, resolved without trusting it.
public enum SymlinkResolution: Sendable, Hashable {
    /// The link resolves to an object inside the inbox (`path` is relative to the inbox root).
    case inside(path: String, kind: DropEntryKind, size: Int64)
    /// The link resolves to something outside the inbox; it is never read.
    case outside(target: String)
    /// The link points nowhere (its target does not exist) or loops.
    case broken
}

/// One object found in the inbox.
public struct DropEntry: Sendable, Hashable {
    /// Path relative to the inbox root, components separated by `/`, no leading `./`.
    public var path: String
    /// The object's kind (of the link itself for symlinks).
    public var kind: DropEntryKind
    /// Size in bytes (of the target for links that resolve inside the inbox).
    public var size: Int64
    /// Last modification time.
    public var modified: Date
    /// For symlinks: where the link leads; nil for everything else.
    public var link: SymlinkResolution?

    /// Creates an entry.
    public init(path: String, kind: DropEntryKind, size: Int64, modified: Date, link: SymlinkResolution? = nil) {
        self.path = path
        self.kind = kind
        self.size = size
        self.modified = modified
        self.link = link
    }

    /// The last path component.
    public var name: String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// The folder holding the entry, relative to the inbox root ("" for the root).
    public var folder: String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    /// The kind of object that would actually be read: the link target's kind for inside links.
    public var effectiveKind: DropEntryKind {
        if kind == .symlink, case .inside(_, let targetKind, _)? = link { return targetKind }
        return kind
    }
}

/// A failure to read an inbox file; the planner turns these into job errors.
public enum DropReadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The path is not a regular file (a folder, pipe, device or socket) and was not opened.
    case notRegularFile(path: String)
    /// The path is a symlink that leads out of the inbox.
    case outsideInbox(path: String, target: String)
    /// The file could not be opened or read.
    case unreadable(path: String, reason: String)

    /// One sentence saying what went wrong.
    public var description: String {
        switch self {
        case .notRegularFile(let path): "\(path) is not a regular file, so it was not opened"
        case .outsideInbox(let path, let target): "\(path) is a link to \(target), which is outside the inbox"
        case .unreadable(let path, let reason): "\(path) could not be read: \(reason)"
        }
    }
}

/// The planner's read-only view of an inbox: a listing and size-limited reads.
///
/// The core never touches the file system itself; `HotFolderIO` provides the real implementation and
/// tests use ``InMemoryDropSource``.
public protocol DropSource: Sendable {
    /// Lists every entry below the inbox root, recursively, without following symbolic links.
    func entries() throws -> [DropEntry]

    /// Reads at most `maxBytes` bytes from the start of the regular file at `path` (relative to the root).
    ///
    /// Implementations must refuse anything that is not a regular file inside the inbox without blocking.
    func read(_ path: String, maxBytes: Int) throws -> [UInt8]

    /// Reads at most `maxBytes` bytes from the end of the regular file at `path`, with the file's size
    /// when it was read.
    ///
    /// Lets the planner check that an image ends properly without reading all of it. The same refusals
    /// as ``read(_:maxBytes:)`` apply.
    func readTail(_ path: String, maxBytes: Int) throws -> (bytes: [UInt8], size: Int64)
}
