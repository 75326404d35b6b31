// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import ZIPFoundation

/// Builds real ZIP archives the way export tools write them, and hostile ones by patching the bytes
/// ZIPFoundation will not write (encryption flags, device file types).
enum ZipFixture {
    /// One entry to write.
    struct Item {
        var name: String
        var data: Data
        var type: Entry.EntryType = .file
        var compressed = true

        static func file(_ name: String, _ text: String) -> Item { Item(name: name, data: Data(text.utf8)) }
        static func file(_ name: String, _ data: Data) -> Item { Item(name: name, data: data) }
        static func folder(_ name: String) -> Item { Item(name: name, data: Data(), type: .directory, compressed: false) }
        static func link(_ name: String, to target: String) -> Item {
            Item(name: name, data: Data(target.utf8), type: .symlink, compressed: false)
        }
        /// `count` zero bytes, deflated: a zip bomb's building block.
        static func zeros(_ name: String, count: Int) -> Item { Item(name: name, data: Data(count: count)) }
    }

    /// Writes `items` into a new archive at `path`.
    static func write(_ path: String, _ items: [Item]) throws {
        try? FileManager.default.removeItem(atPath: path)
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        for item in items {
            let data = item.data
            try archive.addEntry(
                with: item.name, type: item.type, uncompressedSize: Int64(data.count),
                compressionMethod: item.compressed ? .deflate : .none
            ) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
    }

    /// Calls `patch` with the offset of every central-directory header (and every local header) of the archive.
    static func patch(_ path: String, central: (inout Data, Int) -> Void, local: (inout Data, Int) -> Void = { _, _ in }) throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        var at = 0
        while at + 4 <= bytes.count {
            if bytes[at] == 0x50, bytes[at + 1] == 0x4b {
                if bytes[at + 2] == 0x01, bytes[at + 3] == 0x02 { central(&bytes, at) }
                if bytes[at + 2] == 0x03, bytes[at + 3] == 0x04 { local(&bytes, at) }
            }
            at += 1
        }
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    /// Marks every entry encrypted (general-purpose flag bit 0), as a password-protected export is.
    static func markEncrypted(_ path: String) throws {
        try patch(path, central: { bytes, at in bytes[at + 8] |= 1 }, local: { bytes, at in bytes[at + 6] |= 1 })
    }

    /// Makes every entry a Unix character device (mode 020644 in the external attributes).
    static func markDevice(_ path: String) throws {
        try patch(path, central: { bytes, at in
            bytes[at + 5] = 3  // made by Unix
            bytes[at + 40] = 0xA4
            bytes[at + 41] = 0x21  // 0o020644 = 0x21A4
        })
    }
}
