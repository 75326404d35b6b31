// SPDX-License-Identifier: GPL-2.0-or-later

/// One entry of a ZIP archive's central directory, as far as deciding whether to unpack it needs.
public struct ZipEntryInfo: Sendable, Hashable {
    /// What an entry would become on disk.
    public enum Kind: Sendable, Hashable {
        case file
        case directory
        case symlink
        /// A device, FIFO or socket.
        case special
    }

    /// The name as stored (`/` or `\` separated).
    public var name: String
    public var kind: Kind
    public var uncompressedSize: UInt64
    public var compressedSize: UInt64
    /// Whether the entry is encrypted (general-purpose flag bit 0, or the AES method 99).
    public var isEncrypted: Bool

    public init(name: String, kind: Kind, uncompressedSize: UInt64, compressedSize: UInt64, isEncrypted: Bool = false) {
        self.name = name
        self.kind = kind
        self.uncompressedSize = uncompressedSize
        self.compressedSize = compressedSize
        self.isEncrypted = isEncrypted
    }

    /// The kind an entry's "version made by" and external attributes give it: the Unix mode in the upper 16 bits
    /// when made on Unix or macOS, the MS-DOS directory bit otherwise; a trailing `/` always means a folder.
    public static func kind(name: String, versionMadeBy: UInt16, externalAttributes: UInt32) -> Kind {
        let trailingSlash = name.hasSuffix("/") || name.hasSuffix("\\")
        let system = versionMadeBy >> 8
        if system == 3 || system == 19 {
            switch (externalAttributes >> 16) & 0o170000 {
            case 0o100000: return trailingSlash ? .directory : .file
            case 0o040000: return .directory
            case 0o120000: return .symlink
            case 0: break  // no mode recorded: decide by the name
            default: return .special
            }
        }
        return trailingSlash || externalAttributes & 0x10 != 0 ? .directory : .file
    }
}

/// The limits an archive dropped into the inbox must keep.
public struct ZipLimits: Sendable, Hashable {
    /// Most entries (files and folders) in one archive.
    public var maxEntries: Int
    /// Most bytes unpacked, all entries together.
    public var maxBytes: UInt64
    /// Highest compression ratio of one entry (a zip bomb has thousands).
    public var maxRatio: UInt64
    /// Entries smaller than this are not held to the ratio: a tiny text can compress very well and harms nobody.
    public var ratioFloor: UInt64

    public init(maxEntries: Int = 1000, maxBytes: UInt64 = 2_000_000_000, maxRatio: UInt64 = 100, ratioFloor: UInt64 = 1 << 20) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
        self.maxRatio = maxRatio
        self.ratioFloor = ratioFloor
    }
}

/// Why an archive is not unpacked. Each reads as one sentence for the error file.
public enum ZipRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    case encrypted(entry: String)
    case unsafePath(entry: String)
    case link(entry: String)
    case special(entry: String)
    case nestedArchive(entry: String)
    case duplicate(entry: String)
    case tooManyEntries(count: Int, limit: Int)
    case tooLarge(bytes: UInt64, limit: UInt64)
    case ratio(entry: String, ratio: UInt64, limit: UInt64)
    /// The archive cannot be read (damaged, truncated, not a ZIP, a checksum or size that does not match).
    case unreadable(reason: String)

    public var description: String {
        switch self {
        case .encrypted(let entry):
            return "the archive is password-protected (\(entry)); encrypted archives are not supported: export without a password"
        case .unsafePath(let entry):
            return "the entry \"\(entry)\" would be written outside its folder (an absolute path or ..)"
        case .link(let entry):
            return "the entry \"\(entry)\" is a symbolic link; links are never unpacked"
        case .special(let entry):
            return "the entry \"\(entry)\" is a device, pipe or socket, not a file"
        case .nestedArchive(let entry):
            return "the entry \"\(entry)\" is an archive inside the archive; archives are not unpacked twice"
        case .duplicate(let entry):
            return "the entry \"\(entry)\" appears twice"
        case .tooManyEntries(let count, let limit):
            return "the archive holds \(count) entries, more than the limit of \(limit) (zip_max_entries)"
        case .tooLarge(let bytes, let limit):
            return "the archive unpacks to \(bytes) bytes, more than the limit of \(limit) (zip_max_bytes)"
        case .ratio(let entry, let ratio, let limit):
            return "the entry \"\(entry)\" is compressed \(ratio) to 1, more than \(limit) to 1: it looks like a zip bomb"
        case .unreadable(let reason):
            return "the archive cannot be read: \(reason)"
        }
    }

    /// What a person should do about it.
    public var advice: String {
        switch self {
        case .encrypted:
            return "Export the archive again without a password, then drop it into the inbox."
        case .tooManyEntries, .tooLarge:
            return "Split the export into smaller archives, or ask the operator to raise the limit."
        case .unreadable:
            return "Export or download the archive again, then drop it into the inbox."
        case .nestedArchive:
            return "Unpack the inner archive yourself, or drop it into the inbox on its own."
        default:
            return "Export the files again as plain files (no links, no paths outside the folder), then drop the archive again."
        }
    }
}

/// Checks an archive's entry list against ``ZipLimits`` before anything is written, and says which entries to
/// write and where (a relative path inside the new folder).
public enum ZipArchiveCheck {
    /// An entry to write, with its safe relative path.
    public struct Planned: Sendable, Hashable {
        /// Index of the entry in the list given to ``check(_:limits:)``.
        public var index: Int
        /// `a/b/c.png`: no empty, `.` or `..` components, never absolute.
        public var path: String
        public var isDirectory: Bool
        public var size: UInt64
    }

    /// Extensions of archives that are refused inside an archive.
    public static let archiveExtensions: Set<String> = ["zip", "7z", "rar", "tar", "gz", "tgz", "bz2", "xz", "zst"]

    /// The entries to write (macOS metadata such as `__MACOSX/` and hidden files are left out), or why the
    /// archive is refused.
    public static func check(_ entries: [ZipEntryInfo], limits: ZipLimits) -> Result<[Planned], ZipRefusal> {
        if entries.count > limits.maxEntries {
            return .failure(.tooManyEntries(count: entries.count, limit: limits.maxEntries))
        }
        var planned: [Planned] = []
        var seen: Set<String> = []
        var total: UInt64 = 0
        for (index, entry) in entries.enumerated() {
            if entry.isEncrypted { return .failure(.encrypted(entry: entry.name)) }
            guard let components = safeComponents(entry.name) else { return .failure(.unsafePath(entry: entry.name)) }
            switch entry.kind {
            case .symlink: return .failure(.link(entry: entry.name))
            case .special: return .failure(.special(entry: entry.name))
            case .file, .directory: break
            }
            // Finder's resource forks and .DS_Store never start a job; they are not written at all.
            if components.contains(where: { $0.hasPrefix(".") || $0 == "__MACOSX" }) { continue }
            if components.isEmpty { continue }  // "./"
            let path = components.joined(separator: "/")
            let isDirectory = entry.kind == .directory
            let last = components[components.count - 1]
            if !isDirectory, let dot = last.lastIndex(of: "."), archiveExtensions.contains(last[last.index(after: dot)...].lowercased()) {
                return .failure(.nestedArchive(entry: entry.name))
            }
            guard seen.insert(path.lowercased()).inserted else {
                if isDirectory { continue }  // a folder named twice is harmless
                return .failure(.duplicate(entry: entry.name))
            }
            let (sum, overflow) = total.addingReportingOverflow(entry.uncompressedSize)
            if overflow || sum > limits.maxBytes { return .failure(.tooLarge(bytes: overflow ? .max : sum, limit: limits.maxBytes)) }
            total = sum
            if entry.uncompressedSize >= limits.ratioFloor {
                let ratio = entry.uncompressedSize / max(entry.compressedSize, 1)
                if ratio > limits.maxRatio { return .failure(.ratio(entry: entry.name, ratio: ratio, limit: limits.maxRatio)) }
            }
            planned.append(Planned(index: index, path: path, isDirectory: isDirectory, size: isDirectory ? 0 : entry.uncompressedSize))
        }
        return .success(planned)
    }

    /// The name's components, or nil when it is absolute, has a drive letter, `..`, or a NUL.
    static func safeComponents(_ name: String) -> [String]? {
        let normal = name.replacingOccurrences(of: "\\", with: "/")
        if normal.isEmpty || normal.hasPrefix("/") || normal.contains("\0") { return nil }
        if normal.count >= 2, normal.dropFirst().first == ":" { return nil }  // C:/…
        var components: [String] = []
        for part in normal.split(separator: "/", omittingEmptySubsequences: true) {
            if part == ".." { return nil }
            if part == "." { continue }
            components.append(String(part))
        }
        return components
    }
}
