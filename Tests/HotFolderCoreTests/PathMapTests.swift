// SPDX-License-Identifier: GPL-2.0-or-later
import HotFolderCore
import Testing

/// A path-keyed map behaves like a dictionary of full paths.
@Suite struct PathMapTests {
    static func contents(_ map: PathMap<Int>) -> [String: Int] {
        var all: [String: Int] = [:]
        map.forEach { all[$0] = $1 }
        return all
    }

    @Test func setGetAndRemoveByFullPath() {
        var map = PathMap<Int>()
        map["/in/a/one.txt"] = 1
        map["/in/a/two.txt"] = 2
        map["/in/b/one.txt"] = 3
        map["top.txt"] = 4
        map["/root.txt"] = 5
        map["/in/a/a-name-longer-than-fifteen-bytes.png"] = 6
        #expect(map.count == 6)
        #expect(map["/in/a/one.txt"] == 1)
        #expect(map["/in/b/one.txt"] == 3)
        #expect(map["top.txt"] == 4)
        #expect(map["/root.txt"] == 5)
        #expect(map["root.txt"] == nil)
        #expect(map["/in/a"] == nil)
        map["/in/a/one.txt"] = 7
        #expect(map.count == 6)
        map["/in/a/one.txt"] = nil
        map["/in/a/one.txt"] = nil
        map["/in/missing/x"] = nil
        #expect(map.count == 5)
        #expect(
            Self.contents(map) == [
                "/in/a/two.txt": 2, "/in/b/one.txt": 3, "top.txt": 4, "/root.txt": 5,
                "/in/a/a-name-longer-than-fifteen-bytes.png": 6,
            ])
    }

    @Test func removeAllWhereSeesFullPaths() {
        var map = PathMap<Int>()
        for (index, path) in ["/in/a/x", "/in/a/y", "/in/b/x", "z"].enumerated() { map[path] = index }
        map.removeAll { path, value in path.hasSuffix("/x") || value == 3 }
        #expect(Self.contents(map) == ["/in/a/y": 1])
        #expect(map.count == 1)
    }

    @Test func removeTreeTakesTheFolderAndEverythingBelowButNotItsNamesakes() {
        var map = PathMap<Int>()
        for (index, path) in ["/in/d/a", "/in/d/sub/b", "/in/dx/c", "/in/d", "/in/e/d/f"].enumerated() { map[path] = index }
        let removed = map.removeTree("/in/d/")
        #expect(Dictionary(uniqueKeysWithValues: removed.map { ($0.path, $0.value) }) == ["/in/d/a": 0, "/in/d/sub/b": 1])
        #expect(Self.contents(map) == ["/in/dx/c": 2, "/in/d": 3, "/in/e/d/f": 4])
        #expect(map.count == 3)
        #expect(map.removeTree("/nowhere/").isEmpty)
    }

    @Test func aPathSetKnowsFullPathsOnly() {
        var set = PathSet()
        let inserted = ["/in/a/one.txt", "/in/a/one.txt", "/in/b/one.txt", "top.txt"].map { set.insert($0) }
        #expect(inserted == [true, false, true, true])
        #expect(set.count == 3)
        #expect(set.contains("/in/a/one.txt"))
        #expect(set.contains("top.txt"))
        #expect(!set.contains("/top.txt"))
        #expect(!set.contains("/in/a"))
        #expect(!set.contains("/in/c/one.txt"))
        #expect(PathSet(["/in/a/one.txt", "top.txt", "/in/b/one.txt", "top.txt"]) == ["/in/b/one.txt", "top.txt", "/in/a/one.txt"])
    }
}
