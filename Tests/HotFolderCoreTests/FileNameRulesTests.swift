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

    @Test(arguments: ["sunset.txt", "cat.png", "door.first.PNG", "shots.csv", "a~b.txt", "partial.txt"])
    func ordinaryNamesAreKept(name: String) {
        #expect(!FileNameRules.isTemporaryOrHidden(name))
    }
}
