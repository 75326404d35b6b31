// SPDX-License-Identifier: GPL-2.0-or-later
import HotFolderCore
import Testing

/// The archive check decides from the entry list alone, before anything is written.
@Suite struct ZipArchiveCheckTests {
    private func file(_ name: String, _ size: UInt64 = 100, compressed: UInt64? = nil) -> ZipEntryInfo {
        ZipEntryInfo(name: name, kind: .file, uncompressedSize: size, compressedSize: compressed ?? size)
    }

    @Test func plainEntriesArePlannedAndMacMetadataLeftOut() throws {
        let entries = [
            file("hero@2x.png"), file("hero.txt"), ZipEntryInfo(name: "pages/", kind: .directory, uncompressedSize: 0, compressedSize: 0),
            file("./pages/1.png"), file("__MACOSX/._hero.png"), file(".DS_Store"), file("pages\\2.png"),
        ]
        let planned = try ZipArchiveCheck.check(entries, limits: ZipLimits()).get()
        #expect(planned.map(\.path) == ["hero@2x.png", "hero.txt", "pages", "pages/1.png", "pages/2.png"])
        #expect(planned.map(\.index) == [0, 1, 2, 3, 6])
        #expect(planned[2].isDirectory)
    }

    @Test(arguments: ["../x.png", "a/../../x.png", "/etc/passwd", "\\\\server\\x", "C:\\x.png", "a/..", ""])
    func pathsOutsideTheFolderAreRefused(_ name: String) {
        #expect(ZipArchiveCheck.check([file(name)], limits: ZipLimits()) == .failure(.unsafePath(entry: name)))
    }

    @Test func linksDevicesAndNestedArchivesAreRefused() {
        let link = ZipEntryInfo(name: "x.png", kind: .symlink, uncompressedSize: 11, compressedSize: 11)
        let device = ZipEntryInfo(name: "tty", kind: .special, uncompressedSize: 0, compressedSize: 0)
        #expect(ZipArchiveCheck.check([link], limits: ZipLimits()) == .failure(.link(entry: "x.png")))
        #expect(ZipArchiveCheck.check([device], limits: ZipLimits()) == .failure(.special(entry: "tty")))
        #expect(ZipArchiveCheck.check([file("a/b.Zip")], limits: ZipLimits()) == .failure(.nestedArchive(entry: "a/b.Zip")))
        #expect(ZipArchiveCheck.check([file("a.tar.gz")], limits: ZipLimits()) == .failure(.nestedArchive(entry: "a.tar.gz")))
    }

    @Test func kindsComeFromTheExternalAttributes() {
        let unix: UInt16 = 3 << 8 | 20
        #expect(ZipEntryInfo.kind(name: "a", versionMadeBy: unix, externalAttributes: 0o120777 << 16) == .symlink)
        #expect(ZipEntryInfo.kind(name: "a", versionMadeBy: unix, externalAttributes: 0o020644 << 16) == .special)
        #expect(ZipEntryInfo.kind(name: "a", versionMadeBy: unix, externalAttributes: 0o010644 << 16) == .special)
        #expect(ZipEntryInfo.kind(name: "a", versionMadeBy: unix, externalAttributes: 0o100644 << 16) == .file)
        #expect(ZipEntryInfo.kind(name: "a", versionMadeBy: unix, externalAttributes: 0o040755 << 16) == .directory)
        #expect(ZipEntryInfo.kind(name: "a/", versionMadeBy: 20, externalAttributes: 0) == .directory)
        #expect(ZipEntryInfo.kind(name: "a", versionMadeBy: 20, externalAttributes: 0x10) == .directory)
        #expect(ZipEntryInfo.kind(name: "a", versionMadeBy: 20, externalAttributes: 0x20) == .file)
    }

    @Test func limitsOnEntriesBytesAndRatio() {
        let many = (0...1000).map { file("\($0).png") }
        #expect(ZipArchiveCheck.check(many, limits: ZipLimits()) == .failure(.tooManyEntries(count: 1001, limit: 1000)))
        #expect((try? ZipArchiveCheck.check(Array(many.dropLast()), limits: ZipLimits()).get().count) == 1000)
        let big = [file("a.mov", 1_500_000_000), file("b.mov", 600_000_000)]
        #expect(ZipArchiveCheck.check(big, limits: ZipLimits()) == .failure(.tooLarge(bytes: 2_100_000_000, limit: 2_000_000_000)))
        let overflow = [file("a", .max), file("b", 2)]
        #expect(ZipArchiveCheck.check(overflow, limits: ZipLimits()) == .failure(.tooLarge(bytes: .max, limit: 2_000_000_000)))
        let bomb = file("zeros.png", 100_000_000, compressed: 97_000)
        #expect(ZipArchiveCheck.check([bomb], limits: ZipLimits()) == .failure(.ratio(entry: "zeros.png", ratio: 1030, limit: 100)))
        // A small text compresses well and harms nobody; a large one at 100 to 1 is still fine.
        #expect((try? ZipArchiveCheck.check([file("notes.txt", 50_000, compressed: 10)], limits: ZipLimits()).get())?.count == 1)
        #expect((try? ZipArchiveCheck.check([file("flat.png", 10_000_000, compressed: 100_000)], limits: ZipLimits()).get())?.count == 1)
    }

    @Test func encryptedAndDuplicateEntriesAreRefused() {
        var secret = file("hero.txt")
        secret.isEncrypted = true
        let refusal = ZipArchiveCheck.check([file("a.png"), secret], limits: ZipLimits())
        #expect(refusal == .failure(.encrypted(entry: "hero.txt")))
        #expect("\(ZipRefusal.encrypted(entry: "hero.txt"))".contains("not supported: export without a password"))
        #expect(ZipArchiveCheck.check([file("a.png"), file("A.PNG")], limits: ZipLimits()) == .failure(.duplicate(entry: "A.PNG")))
    }
}
