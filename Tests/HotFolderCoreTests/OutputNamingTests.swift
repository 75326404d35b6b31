// SPDX-License-Identifier: GPL-2.0-or-later
import HotFolderCore
import Testing

@Suite struct OutputNamingTests {
    @Test(arguments: [
        ("sunset", "sunset"),
        ("a/b/c", "a_b_c"),
        ("../../etc/passwd", "_.._etc_passwd"),
        ("..hidden", "hidden"),
        ("--rm -rf", "rm -rf"),
        ("-.-x", "x"),
        ("line1\nline2\r\tend", "line1_line2__end"),
        ("bell\u{7}del\u{7F}c1\u{85}sep\u{2028}x\u{2028}", "bell_del_c1_sep_x"),
        ("  spaced out.  ", "spaced out"),
        ("what? a: <b>|\"c\"*\\", "what_ a_ _b___c___"),
        ("", "untitled"),
        ("...", "untitled"),
        ("\n", "untitled"),
        ("café 🎬 クリップ", "café 🎬 クリップ"),
    ])
    func sanitize(input: String, expected: String) {
        #expect(OutputNaming.sanitize(input) == expected)
    }

    @Test func longNamesAreCutOnACharacterBoundary() {
        let long = String(repeating: "é", count: 150)  // 300 bytes, two per character
        let cut = OutputNaming.sanitize(long)
        #expect(cut.utf8.count == 200)
        #expect(cut == String(repeating: "é", count: 100))
        let emoji = "a" + String(repeating: "🎬", count: 60)  // 1 + 240 bytes
        let cutEmoji = OutputNaming.sanitize(emoji)
        #expect(cutEmoji.utf8.count == 197)
        #expect(cutEmoji.unicodeScalars.allSatisfy { $0 == "a" || $0 == "🎬" })
    }

    @Test func firstFreeNameGetsANumber() {
        #expect(OutputNaming.uniqueStem(for: "cat", existing: []) == "cat")
        #expect(OutputNaming.uniqueStem(for: "cat", existing: ["cat"]) == "cat-2")
        #expect(OutputNaming.uniqueStem(for: "cat", existing: ["cat", "cat-2", "cat-3"]) == "cat-4")
        #expect(OutputNaming.uniqueStem(for: "cat", existing: ["cat-2"]) == "cat")
        #expect(OutputNaming.uniqueStem(for: "a/b", existing: ["a_b"]) == "a_b-2")
    }

    @Test func closureIsAskedInOrderAndLimitIsHonoured() {
        var asked: [String] = []
        let name = OutputNaming.uniqueStem(for: "x") { candidate in
            asked.append(candidate)
            return asked.count < 3
        }
        #expect(name == "x-3")
        #expect(asked == ["x", "x-2", "x-3"])
        #expect(OutputNaming.uniqueStem(for: "x", limit: 5) { _ in true } == nil)
    }

    @Test func suffixesKeepTheLengthCap() {
        let long = String(repeating: "b", count: 200)
        let second = OutputNaming.uniqueStem(for: long, existing: [long])
        #expect(second.utf8.count == 200)
        #expect(second.hasSuffix("b-2"))
        #expect(OutputNaming.variantStem(long, index: 12).hasSuffix("b-v12"))
        #expect(OutputNaming.variantStem(long, index: 12).utf8.count == 200)
    }

    @Test func variants() {
        #expect(OutputNaming.variantStem("door", index: 1) == "door-v1")
        #expect(OutputNaming.variantStem("door", index: 3) == "door-v3")
        #expect(OutputNaming.uniqueStem(for: "door-v1", existing: ["door-v1"]) == "door-v1-2")
    }
}
