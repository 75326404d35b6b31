// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Glibc
import HotFolderCore
@testable import HotFolderIO
import Testing

/// The poll scanner on real temp folders: it reports each file once and then only changes, in both listing
/// modes (folders read every time, and unchanged folders skipped by their mtime).
@Suite struct PollScannerTests {
    /// What a scan reported, and the files a consumer that applies the reports believes are there.
    struct Scan {
        var scanned: [String: FileStat] = [:]
        var removed: Set<String> = []
        var removedTrees: Set<String> = []
        var problems: [DirectoryWalker.Problem] = []
        var summary = PollScanner.Summary()
    }

    final class Harness {
        let temp: TemporaryDirectory
        let inbox: String
        let scanner: PollScanner
        /// The consumer's view: every file reported and not reported gone since.
        var model: [String: FileStat] = [:]

        init(
            skip: Bool, margin: Double = 0.05, excluded: [String] = [], settledEvery: Int = PollScanner.defaultSettledEvery,
            clock: TestClock? = nil
        ) throws {
            temp = try TemporaryDirectory("pollscan")
            let inbox = temp.file("inbox")
            self.inbox = inbox
            try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: temp.file("outside"), withIntermediateDirectories: true)
            let seconds: @Sendable () -> Double
            if let clock { seconds = { clock.now.timeIntervalSince1970 } } else { seconds = monotonicSeconds }
            scanner = PollScanner(
                root: inbox, excluded: Set(excluded.map { inbox + "/" + $0 }), skipUnchangedFolders: skip, mtimeMargin: margin,
                settledEvery: settledEvery, clock: seconds)
        }

        func scan() -> Scan {
            var result = Scan()
            result.summary = scanner.scan(
                emit: { signal in
                    switch signal {
                    case .scanned(let path, let stat):
                        result.scanned[path] = stat
                        self.model[path] = stat
                    case .removed(let path):
                        result.removed.insert(path)
                        self.model[path] = nil
                    case .removedTree(let directory):
                        result.removedTrees.insert(directory)
                        self.model = self.model.filter { !$0.key.hasPrefix(directory + "/") }
                    default:
                        Issue.record("unexpected signal \(signal)")
                    }
                }, problem: { result.problems.append($0) })
            return result
        }

        /// Every non-folder entry below the inbox, found by a fresh full walk.
        func truth() -> [String: FileStat] {
            var found: [String: FileStat] = [:]
            DirectoryWalker().walk(inbox, visitDirectory: { _ in }, visitEntry: { found[$0.path] = $0.stat }, problem: { _ in })
            return found
        }

        func path(_ relative: String) -> String { inbox + "/" + relative }
    }

    static let modes = [false, true]

    @Test(arguments: modes) func nestedFoldersReportEachFileOnceThenOnlyChanges(skip: Bool) async throws {
        let h = try Harness(skip: skip)
        for relative in ["a.txt", "one/b.txt", "one/two/c.txt", "one/two/three/d.png"] { try write(h.path(relative), relative) }
        let first = h.scan()
        #expect(Set(first.scanned.keys) == Set(["a.txt", "one/b.txt", "one/two/c.txt", "one/two/three/d.png"].map(h.path)))
        #expect(first.summary.files == 4)
        try await Task.sleep(for: .milliseconds(80))
        for _ in 0..<3 {
            let again = h.scan()
            #expect(again.scanned.isEmpty && again.removed.isEmpty && again.removedTrees.isEmpty)
            #expect(again.summary.files == 4)
            try await Task.sleep(for: .milliseconds(80))
        }
        if skip { #expect(h.scan().summary.foldersReused == 4, "unchanged folders are not read again") }
        #expect(h.model == h.truth())
    }

    @Test(arguments: modes) func fileRewrittenInPlaceIsReportedEvenInAnUnchangedFolder(skip: Bool) async throws {
        let h = try Harness(skip: skip)
        try write(h.path("lane/shot.txt"), "first")
        _ = h.scan()
        try await Task.sleep(for: .milliseconds(80))
        _ = h.scan()
        try await Task.sleep(for: .milliseconds(80))
        let folderBefore = FileSystemProbe.lstat(h.path("lane"))
        // Same size, same inode: only the file's own mtime says it changed.
        try write(h.path("lane/shot.txt"), "again")
        var times = [timespec(tv_sec: 1_900_000_000, tv_nsec: 0), timespec(tv_sec: 1_900_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, h.path("lane/shot.txt"), &times, 0) == 0)
        #expect(FileSystemProbe.lstat(h.path("lane"))?.mtimeNanoseconds == folderBefore?.mtimeNanoseconds)
        let scan = h.scan()
        #expect(Array(scan.scanned.keys) == [h.path("lane/shot.txt")])
        #expect(scan.scanned.values.first?.mtimeNanoseconds == 1_900_000_000_000_000_000)
        if skip { #expect(scan.summary.foldersReused >= 1) }
    }

    @Test(arguments: modes) func renamedFilesAndFoldersAreGoneAndNew(skip: Bool) async throws {
        let h = try Harness(skip: skip)
        try write(h.path("old.txt"), "o")
        for index in 0..<3 { try write(h.path("batch/f\(index).txt"), "\(index)") }
        _ = h.scan()
        try await Task.sleep(for: .milliseconds(80))
        #expect(rename(h.path("old.txt"), h.path("new.txt")) == 0)
        #expect(rename(h.path("batch"), h.path("renamed")) == 0)
        let scan = h.scan()
        #expect(scan.removed == [h.path("old.txt")])
        #expect(scan.removedTrees == [h.path("batch")])
        #expect(Set(scan.scanned.keys) == Set(["new.txt", "renamed/f0.txt", "renamed/f1.txt", "renamed/f2.txt"].map(h.path)))
        #expect(h.model == h.truth())
    }

    @Test(arguments: modes) func symlinksAreReportedButNeverFollowed(skip: Bool) async throws {
        let h = try Harness(skip: skip)
        let outside = h.temp.file("outside")
        try write(outside + "/secret/key.txt", "secret")
        try write(outside + "/file.txt", "x")
        try write(h.path("inside/real.txt"), "r")
        #expect(symlink(outside + "/secret", h.path("linked-dir")) == 0)
        #expect(symlink(outside + "/file.txt", h.path("linked-file.txt")) == 0)
        let first = h.scan()
        #expect(Set(first.scanned.keys) == Set(["inside/real.txt", "linked-dir", "linked-file.txt"].map(h.path)))
        #expect(first.scanned[h.path("linked-dir")]?.kind == .symlink)
        // A folder swapped for a symlink to outside between two scans.
        try await Task.sleep(for: .milliseconds(80))
        #expect(rename(h.path("inside"), outside + "/inside-moved") == 0)
        #expect(symlink(outside + "/secret", h.path("inside")) == 0)
        let second = h.scan()
        #expect(second.removedTrees == [h.path("inside")])
        #expect(Set(second.scanned.keys) == [h.path("inside")])
        #expect(second.scanned[h.path("inside")]?.kind == .symlink)
        #expect(!h.model.keys.contains { $0.hasSuffix("key.txt") })
    }

    @Test(arguments: modes) func oddNamesKeepTheirExactBytesAndNonUTF8NamesAreSkipped(skip: Bool) async throws {
        let h = try Harness(skip: skip)
        let names = ["new\nline.txt", "sp ace.txt", "café ✓.txt", "-dash.txt", "emoji 🎬.txt", "back\\slash.txt", "tab\t.txt"]
        for name in names { try write(h.path("odd/" + name), name) }
        // Latin-1 bytes: not UTF-8, cannot be a path the planner reads; a folder so named is not entered either.
        try shell("cd '\(h.inbox)/odd' && printf x > \"$(printf 'caf\\351.txt')\" && mkdir \"$(printf 'dir\\377')\" && printf y > \"$(printf 'dir\\377')/inner.txt\"")
        let first = h.scan()
        #expect(Set(first.scanned.keys) == Set(names.map { h.path("odd/" + $0) }))
        for name in names { #expect(FileSystemProbe.lstat(h.path("odd/" + name)) == first.scanned[h.path("odd/" + name)]) }
        try await Task.sleep(for: .milliseconds(80))
        let second = h.scan()
        #expect(second.scanned.isEmpty && second.removed.isEmpty)
        try shell("cd '\(h.inbox)/odd' && rm -r \"$(printf 'caf\\351.txt')\" \"$(printf 'dir\\377')\"")
        let third = h.scan()
        #expect(third.scanned.isEmpty && third.removed.isEmpty && third.removedTrees.isEmpty)
    }

    @Test(arguments: modes) func forgottenFilesAreReportedAgainAndExcludedFoldersNeverEntered(skip: Bool) async throws {
        let h = try Harness(skip: skip, excluded: ["outbox"])
        try write(h.path("keep.txt"), "k")
        try write(h.path("outbox/video.log"), "v")
        let first = h.scan()
        #expect(Array(first.scanned.keys) == [h.path("keep.txt")])
        try await Task.sleep(for: .milliseconds(80))
        h.scanner.forget([h.path("keep.txt"), h.path("not-there.txt"), "/elsewhere/x"])
        let second = h.scan()
        #expect(Array(second.scanned.keys) == [h.path("keep.txt")])
        #expect(h.scan().scanned.isEmpty)
    }

    @Test(.enabled(if: getuid() != 0, "root can read every folder, so permission errors cannot be produced"), arguments: modes)
    func unreadableFolderIsAProblemAndItsFilesAreNotDropped(skip: Bool) async throws {
        let h = try Harness(skip: skip)
        try write(h.path("locked/a.txt"), "a")
        try write(h.path("open/b.txt"), "b")
        _ = h.scan()
        #expect(chmod(h.path("locked"), 0) == 0)
        defer { chmod(h.path("locked"), 0o755) }
        let scan = h.scan()
        #expect(scan.problems.map(\.path) == [h.path("locked")])
        #expect(scan.removed.isEmpty && scan.removedTrees.isEmpty, "a folder that cannot be read is not a folder gone")
    }

    /// Random changes between scans: the consumer's view built from the reports always equals a fresh full walk.
    @Test(arguments: modes) func reportsAlwaysAddUpToAFullWalk(skip: Bool) async throws {
        let h = try Harness(skip: skip)
        var random = SystemRandomNumberGenerator()
        let folders = ["", "a", "a/b", "c"]
        for round in 0..<40 {
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let folder = folders.randomElement(using: &random)!
                let name = (folder.isEmpty ? "" : folder + "/") + "f\(Int.random(in: 0..<6, using: &random)).txt"
                switch Int.random(in: 0..<6, using: &random) {
                case 0, 1: try write(h.path(name), String(repeating: "x", count: Int.random(in: 0..<4, using: &random)))
                case 2: unlink(h.path(name))
                case 3: rename(h.path(name), h.path((folder.isEmpty ? "" : folder + "/") + "r\(round).txt"))
                case 4: try shell("rm -rf '\(h.path("c"))'")
                default: try write(h.path("c/d\(round % 3)/g.txt"), "\(round)")
                }
            }
            _ = h.scan()
            #expect(h.model == h.truth(), "round \(round)")
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...70, using: &random)))
        }
    }

    /// A file unchanged for a minute is examined on one scan in four (by its inode), so 40 settled files cost 40
    /// stats over four scans, not 160; a settled file rewritten in place is still seen within four scans, and one
    /// added or removed at the next (its folder changed). With `settledEvery: 1` every file is examined every scan.
    @Test(arguments: modes) func settledFilesAreExaminedInTurnAndStillSeenWhenRewritten(skip: Bool) async throws {
        let clock = TestClock()
        let h = try Harness(skip: skip, settledEvery: 4, clock: clock)
        let every = try Harness(skip: skip, settledEvery: 1, clock: clock)
        for harness in [h, every] {
            for index in 0..<40 { try write(harness.path("lane/f\(index).txt"), "\(index)") }
        }
        #expect(h.scan().scanned.count == 40 && every.scan().scanned.count == 40)
        clock.advance(30)
        #expect(h.scan().summary.examined == 40, "not settled yet: every file examined")
        clock.advance(40)
        var examined: [Int] = []
        for _ in 0..<4 {
            let scan = h.scan()
            #expect(scan.scanned.isEmpty && scan.removed.isEmpty)
            examined.append(scan.summary.examined)
            #expect(every.scan().summary.examined == 40, "settledEvery 1: every file every scan")
            clock.advance(5)
        }
        #expect(examined.reduce(0, +) == 40 && examined.allSatisfy { $0 < 40 }, "each settled file once in four scans: \(examined)")

        // Same size, same inode, the folder's mtime unchanged: only the file's own mtime says it changed.
        let folderBefore = FileSystemProbe.lstat(h.path("lane"))
        try write(h.path("lane/f7.txt"), "X")
        var times = [timespec(tv_sec: 1_900_000_000, tv_nsec: 0), timespec(tv_sec: 1_900_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, h.path("lane/f7.txt"), &times, 0) == 0)
        #expect(FileSystemProbe.lstat(h.path("lane"))?.mtimeNanoseconds == folderBefore?.mtimeNanoseconds)
        var seenAfter: Int?
        for scanIndex in 1...4 where seenAfter == nil {
            if h.scan().scanned.keys.contains(h.path("lane/f7.txt")) { seenAfter = scanIndex }
            clock.advance(5)
        }
        #expect(seenAfter != nil, "a settled file rewritten in place is seen within four scans")

        // Added and removed files change the folder: seen at the next scan, settled neighbours still wait.
        try write(h.path("lane/new.txt"), "n")
        unlink(h.path("lane/f3.txt"))
        clock.advance(5)
        let next = h.scan()
        #expect(Array(next.scanned.keys) == [h.path("lane/new.txt")] && next.removed == [h.path("lane/f3.txt")])
        #expect(next.summary.examined < 40, "a folder read again still lets its settled files wait: \(next.summary.examined)")

        // A settled file the consumer forgot is examined and reported at the next scan.
        h.scanner.forget([h.path("lane/f11.txt")])
        clock.advance(5)
        #expect(Array(h.scan().scanned.keys) == [h.path("lane/f11.txt")])
        #expect(h.model == h.truth())
    }
}
