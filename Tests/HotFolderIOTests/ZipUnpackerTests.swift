// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
@testable import HotFolderIO
import Testing

/// Real archives, written as export tools write them and as attackers do, unpacked beside themselves.
@Suite struct ZipUnpackerTests {
    let dir: TemporaryDirectory

    init() throws {
        dir = try TemporaryDirectory("zip")
        try FileManager.default.createDirectory(atPath: dir.file("inbox"), withIntermediateDirectories: true)
    }

    private func unpack(_ items: [ZipFixture.Item], name: String = "export.zip", limits: ZipLimits = ZipLimits(),
                        prepare: (String) throws -> Void = { _ in }) throws -> ZipUnpacker.Outcome {
        let path = dir.file("inbox/" + name)
        try ZipFixture.write(path, items)
        try prepare(path)
        return try ZipUnpacker(limits: limits).unpack(path)
    }

    /// A refused archive leaves nothing in the inbox but the archive (no folder, no temporary folder) and nothing
    /// above it.
    private func expectNothingWritten(_ name: String = "export.zip") {
        #expect(dir.listing("inbox") == [name], "\(dir.listing("inbox"))")
        #expect(dir.listing() == ["inbox", "inbox/" + name], "\(dir.listing())")
    }

    @Test func aFigmaExportUnpacksIntoAFolderNamedAfterIt() throws {
        let outcome = try unpack([
            .file("hero.png", Data([0x89, 0x50, 0x4e, 0x47])), .file("hero@2x.png", Data([0x89, 0x50, 0x4e, 0x47, 1])),
            .file("hero.txt", "The hero walks in"), .folder("icons/"), .file("icons/star.png", Data([1, 2, 3])),
            .file("__MACOSX/._hero.png", "resource fork"), .file(".DS_Store", "finder"),
        ], name: "Hero frames.zip")
        #expect(outcome == .unpacked(folder: dir.file("inbox/Hero frames"), files: 4))
        #expect(dir.listing("inbox") == [
            "Hero frames", "Hero frames.zip", "Hero frames/.hotfolder-unpacked-from", "Hero frames/hero.png", "Hero frames/hero.txt", "Hero frames/hero@2x.png",
            "Hero frames/icons", "Hero frames/icons/star.png",
        ])
        #expect(try String(contentsOfFile: dir.file("inbox/Hero frames/hero.txt"), encoding: .utf8) == "The hero walks in")
    }

    /// swift-corelibs-foundation's `NSString.deletingLastPathComponent` traps on a one-character relative path: an
    /// archive holding a file named `a` at its root must not stop the service.
    @Test func anEntryWithAOneCharacterNameAtTheRootUnpacks() throws {
        let outcome = try unpack([.file("a", "notes"), .file("b/c", "more"), .file("p.txt", "A fox")], name: "short.zip")
        #expect(outcome == .unpacked(folder: dir.file("inbox/short"), files: 3))
        #expect(try String(contentsOfFile: dir.file("inbox/short/a"), encoding: .utf8) == "notes")
        #expect(try String(contentsOfFile: dir.file("inbox/short/b/c"), encoding: .utf8) == "more")
    }

    @Test func aTemporaryFolderLeftByAStopIsRemoved() throws {
        try dir.write("inbox/.pages.unzip-ab12cd/1.png", "half")
        try dir.write("inbox/.other.unzip-ab12cd/1.png", "someone else's")
        let outcome = try unpack([.file("1.png", "whole")], name: "pages.zip")
        #expect(outcome == .unpacked(folder: dir.file("inbox/pages"), files: 1))
        #expect(dir.listing("inbox") == [".other.unzip-ab12cd", ".other.unzip-ab12cd/1.png", "pages", "pages.zip", "pages/.hotfolder-unpacked-from", "pages/1.png"])
    }

    @Test func anArchiveUnpackedBeforeAStopIsNotUnpackedAgain() throws {
        let first = try unpack([.file("1.png", "page"), .file("prompt.txt", "A slideshow")], name: "pages.zip")
        #expect(first == .unpacked(folder: dir.file("inbox/pages"), files: 2))
        // The service stopped before the archive moved away: the next start finds it again.
        #expect(try ZipUnpacker().unpack(dir.file("inbox/pages.zip")) == .unpackedBefore(folder: dir.file("inbox/pages")))
        #expect(!dir.listing("inbox").contains("pages-2"), "one folder, so one set of jobs")
        ZipUnpacker.finish(folder: dir.file("inbox/pages"))
        #expect(dir.listing("inbox") == ["pages", "pages.zip", "pages/1.png", "pages/prompt.txt"])
        // Another archive of the same name (a new export) is unpacked beside it as usual.
        try ZipFixture.write(dir.file("inbox/pages.zip"), [.file("1.png", "new page")])
        #expect(try ZipUnpacker().unpack(dir.file("inbox/pages.zip")) == .unpacked(folder: dir.file("inbox/pages-2"), files: 1))
    }

    @Test func aTakenNameGetsTheNextFreeOneAndNothingIsReplaced() throws {
        try dir.write("inbox/pages/1.png", "older")
        try dir.write("inbox/pages-2", "a file")
        let outcome = try unpack([.file("1.png", "new"), .file("prompt.txt", "A slideshow")], name: "pages.zip")
        #expect(outcome == .unpacked(folder: dir.file("inbox/pages-3"), files: 2))
        #expect(try String(contentsOfFile: dir.file("inbox/pages/1.png"), encoding: .utf8) == "older")
    }

    @Test(arguments: ["../evil.txt", "a/../../evil.txt", "/tmp/evil.txt", "..\\evil.txt", "C:/evil.txt"])
    func entriesOutsideTheFolderAreRefused(_ name: String) throws {
        let outcome = try unpack([.file("ok.txt", "fine"), .file(name, "escaped")])
        #expect(outcome == .refused(.unsafePath(entry: name)))
        expectNothingWritten()
    }

    @Test func aSymbolicLinkIsRefused() throws {
        let outcome = try unpack([.file("hero.txt", "x"), .link("hero.png", to: "/etc/passwd")])
        #expect(outcome == .refused(.link(entry: "hero.png")))
        expectNothingWritten()
    }

    @Test func aDeviceFileIsRefused() throws {
        let outcome = try unpack([.file("tty", "x")]) { try ZipFixture.markDevice($0) }
        #expect(outcome == .refused(.special(entry: "tty")))
        expectNothingWritten()
    }

    @Test func aNestedArchiveIsRefused() throws {
        let outcome = try unpack([.file("prompt.txt", "x"), .file("more/inner.ZIP", Data([0x50, 0x4b, 5, 6]))])
        #expect(outcome == .refused(.nestedArchive(entry: "more/inner.ZIP")))
        expectNothingWritten()
    }

    @Test func aZipBombIsRefusedByItsRatio() throws {
        let outcome = try unpack([.file("hero.txt", "x"), .zeros("hero.png", count: 20_000_000)])
        guard case .refused(.ratio(let entry, let ratio, 100)) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(entry == "hero.png" && ratio > 100)
        expectNothingWritten()
    }

    @Test func moreThanTheEntryLimitIsRefused() throws {
        let items = (1...1001).map { ZipFixture.Item.file("\($0).txt", "page \($0)") }
        let outcome = try unpack(items)
        #expect(outcome == .refused(.tooManyEntries(count: 1001, limit: 1000)))
        expectNothingWritten()
    }

    @Test func moreThanTheByteLimitIsRefused() throws {
        let outcome = try unpack(
            [.file("a.txt", String(repeating: "a", count: 600)), .file("b.txt", String(repeating: "b", count: 600))],
            limits: ZipLimits(maxBytes: 1000))
        #expect(outcome == .refused(.tooLarge(bytes: 1200, limit: 1000)))
        expectNothingWritten()
    }

    @Test func anEncryptedArchiveIsRefusedWithAPasswordHint() throws {
        let outcome = try unpack([.file("hero.txt", "secret")]) { try ZipFixture.markEncrypted($0) }
        #expect(outcome == .refused(.encrypted(entry: "hero.txt")))
        #expect("\(ZipRefusal.encrypted(entry: "hero.txt"))".contains("export without a password"))
        expectNothingWritten()
    }

    @Test func aDamagedArchiveIsRefusedAndItsTemporaryFolderRemoved() throws {
        // A byte of the compressed data flipped: the CRC-32 check fails while the entry is written.
        let text = String(repeating: "The hero walks into the light. ", count: 200)
        let outcome = try unpack([.file("hero.txt", text)]) { path in
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[60] ^= 0xFF
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        guard case .refused(.unreadable) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        expectNothingWritten()
        let notZip = try dir.write("inbox/fake.zip", "not a zip at all")
        #expect(try ZipUnpacker().unpack(notZip) == .refused(.unreadable(reason: "it is not a ZIP archive (no central directory)")))
    }
}
