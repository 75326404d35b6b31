// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderIO
import Testing

/// The key that makes a drop the same drop on every node.
@Suite struct DropKeyTests {
    let cat = DropKey.File(relativePath: "lane/cat.png", size: 1000, mtimeNs: 5, sha256: "aa")
    let prompt = DropKey.File(relativePath: "lane/cat.txt", size: 20, mtimeNs: 6, sha256: "bb")

    @Test func theKeyIsTheSameWhateverOrderTheFilesWereSeenIn() {
        let key = DropKey(files: [cat, prompt])
        #expect(key == DropKey(files: [prompt, cat]))
        #expect(key.value.count == 64 && key.value == key.value.lowercased())
        #expect(DropKey(value: key.value) == key, "a key read back is the same key")
    }

    @Test func anyChangedFactMakesAnotherDrop() {
        let key = DropKey(files: [cat, prompt])
        var touched = prompt
        touched.mtimeNs += 1
        var edited = prompt
        edited.sha256 = "cc"
        var moved = prompt
        moved.relativePath = "other/cat.txt"
        var grown = prompt
        grown.size += 1
        let others = [touched, edited, moved, grown].map { DropKey(files: [cat, $0]) }
        #expect(Set(others + [key]).count == 5)
        #expect(DropKey(files: [cat]) != key, "a file more or less is another drop")
    }
}
