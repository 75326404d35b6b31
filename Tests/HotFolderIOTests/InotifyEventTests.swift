// SPDX-License-Identifier: GPL-2.0-or-later
import HotFolderIO
import Testing

@Suite struct InotifyEventTests {
    @Test func eventIsAValue() {
        let a = InotifyEvent(wd: 1, mask: 8, cookie: 0, directory: "/in/", name: "a.txt")
        var b = a
        b.name = "b.txt"
        #expect(a != b)
    }
}
