// SPDX-License-Identifier: GPL-2.0-or-later
import HotFolderCore
import Testing

@Suite struct FileNameRulesTests {
    @Test(arguments: [
        ".hidden", ".f.txt.AbC123", "~$report.docx", "clip.tmp", "x.PART", "a.partial",
        "movie.crdownload", "file.download", ".x.swp", "notes.txt.swp", "backup~",
    ])
    func temporaryNamesAreIgnored(name: String) {
        #expect(FileNameRules.isTemporaryOrHidden(name))
    }

    @Test func folderOfARelativePathNeverTraps() {
        #expect(FileNameRules.folder(of: "a/b/cat.png") == "a/b")
        #expect(FileNameRules.folder(of: "cat.png") == "")
        #expect(FileNameRules.folder(of: "c") == "", "one character: NSString's deletingLastPathComponent traps here")
        #expect(FileNameRules.folder(of: "c/x") == "c")
        #expect(FileNameRules.folder(of: "") == "")
    }

    @Test(arguments: ["sunset.txt", "cat.png", "door.first.PNG", "shots.csv", "a~b.txt", "partial.txt"])
    func ordinaryNamesAreKept(name: String) {
        #expect(!FileNameRules.isTemporaryOrHidden(name))
    }

    @Test(arguments: [
        ("door.first.PNG", "door", "first.png"), ("cat.png", "cat", "png"), ("shots.CSV", "shots", "csv"),
        ("_defaults.yaml", "_defaults", "yaml"),
    ])
    func namesSplitIntoStemAndRest(name: String, stem: String, rest: String) throws {
        let parts = try #require(FileNameRules.split(name))
        #expect(parts.stem == stem && parts.rest == rest)
    }

    @Test func namesWithoutAGroup() {
        #expect(FileNameRules.split("README") == nil)
        #expect(FileNameRules.split(".hidden.txt") == nil)
    }

    @Test(arguments: [
        ("shots.csv", true, true), ("rows.JSONL", true, true), ("a.b.csv", false, false),
        ("Prompt.txt", false, true), ("first_frame.jpg", false, true), ("settings.yaml", false, true),
        ("cat.txt", false, false), ("_defaults.yaml", false, false), ("csv", false, false),
    ])
    func manifestsAndShotFolderFilesConcernTheWholeFolder(name: String, manifest: Bool, wholeFolder: Bool) {
        #expect(FileNameRules.isManifest(name) == manifest)
        #expect(FileNameRules.concernsWholeFolder(name) == wholeFolder)
    }
}
