// SPDX-License-Identifier: GPL-2.0-or-later
import HotFolderCore
import Testing

/// The readiness rules, driven with a fake clock and fake stats.
@Suite struct ReadinessTrackerTests {
    static func file(size: Int64 = 10, mtime: Int64 = 1, inode: UInt64 = 7, kind: FileStat.Kind = .regular) -> FileStat {
        FileStat(kind: kind, device: 1, inode: inode, size: size, mtimeNanoseconds: mtime)
    }

    @Test func closedFileIsReadyAfterSettle() {
        var tracker = ReadinessTracker(settle: 2)
        let stat = Self.file()
        #expect(tracker.hint(.closed, path: "/in/a.txt", stat: stat, now: 0).isEmpty)
        #expect(tracker.nextCheck == 2)
        #expect(tracker.tick(now: 1.9, stat: { _ in stat }).isEmpty)
        #expect(tracker.tick(now: 2, stat: { _ in stat }) == [.ready(path: "/in/a.txt", stat: stat)])
        #expect(tracker.pendingCount == 0)
    }

    @Test func zeroSettleReportsAClosedFileAtOnce() {
        var tracker = ReadinessTracker(settle: 0)
        let stat = Self.file()
        #expect(tracker.hint(.closed, path: "/in/a.txt", stat: stat, now: 0) == [.ready(path: "/in/a.txt", stat: stat)])
    }

    @Test func createdFileWaitsForItsClose() {
        var tracker = ReadinessTracker(settle: 0, openWriteTimeout: 60)
        #expect(tracker.hint(.created, path: "/in/a.txt", stat: Self.file(size: 0), now: 0).isEmpty)
        // Stable but still open: not ready.
        #expect(tracker.tick(now: 30, stat: { _ in Self.file(size: 0) }).isEmpty)
        let done = Self.file(size: 500, mtime: 2)
        #expect(tracker.hint(.closed, path: "/in/a.txt", stat: done, now: 31) == [.ready(path: "/in/a.txt", stat: done)])
    }

    @Test func createdFileThatNeverClosesIsJudgedByStabilityAfterTheTimeout() {
        var tracker = ReadinessTracker(settle: 1, openWriteTimeout: 10)
        let stat = Self.file()
        _ = tracker.hint(.created, path: "/in/link", stat: stat, now: 0)
        #expect(tracker.tick(now: 5, stat: { _ in stat }).isEmpty)
        #expect(tracker.tick(now: 10, stat: { _ in stat }) == [.ready(path: "/in/link", stat: stat)])
    }

    @Test func growingFileRestartsTheSettleClock() {
        var tracker = ReadinessTracker(settle: 2)
        _ = tracker.hint(.scanned, path: "/in/a", stat: Self.file(size: 1), now: 0)
        #expect(tracker.tick(now: 2, stat: { _ in Self.file(size: 2, mtime: 2) }).isEmpty)
        #expect(tracker.tick(now: 3.9, stat: { _ in Self.file(size: 2, mtime: 2) }).isEmpty)
        #expect(tracker.tick(now: 4, stat: { _ in Self.file(size: 2, mtime: 2) }).count == 1)
    }

    @Test func unchangedFileIsReportedOnceAndChangedFileAgain() {
        var tracker = ReadinessTracker(settle: 0)
        let first = Self.file(size: 1, mtime: 1)
        #expect(tracker.hint(.closed, path: "/in/a", stat: first, now: 0).count == 1)
        #expect(tracker.hint(.scanned, path: "/in/a", stat: first, now: 1).isEmpty)
        #expect(tracker.hint(.closed, path: "/in/a", stat: first, now: 2).isEmpty)
        let touched = Self.file(size: 1, mtime: 5)
        #expect(tracker.hint(.closed, path: "/in/a", stat: touched, now: 3).count == 1)
    }

    @Test func fileThatLeavesAndComesBackIsNew() {
        var tracker = ReadinessTracker(settle: 0)
        let stat = Self.file()
        #expect(tracker.hint(.closed, path: "/in/a", stat: stat, now: 0).count == 1)
        tracker.removed(path: "/in/a")
        #expect(tracker.hint(.closed, path: "/in/a", stat: stat, now: 1).count == 1)
    }

    @Test(arguments: ["/in/.a.txt.Xy12Zq", "/in/x.part", "/in/~$doc.docx", "/in/clip.crdownload"])
    func temporaryNamesNeverBecomeReady(path: String) {
        var tracker = ReadinessTracker(settle: 0)
        #expect(tracker.hint(.closed, path: path, stat: Self.file(), now: 0).isEmpty)
        #expect(tracker.pendingCount == 0)
    }

    @Test func specialEntriesAreReportedAsUnsupported() {
        var tracker = ReadinessTracker(settle: 0)
        let link = Self.file(kind: .symlink)
        #expect(tracker.hint(.created, path: "/in/l", stat: link, now: 0) == [.unsupported(path: "/in/l", stat: link)])
        #expect(tracker.hint(.closed, path: "/in/d", stat: Self.file(kind: .directory), now: 0).isEmpty)
    }

    @Test func vanishedFileIsDropped() {
        var tracker = ReadinessTracker(settle: 1)
        _ = tracker.hint(.closed, path: "/in/a", stat: Self.file(), now: 0)
        #expect(tracker.tick(now: 1, stat: { _ in nil }).isEmpty)
        #expect(tracker.pendingCount == 0)
    }

    @Test func renamedTreeKeepsPendingFilesAndReportsCompleteOnesUnderTheirNewPaths() {
        var tracker = ReadinessTracker(settle: 1)
        let stat = Self.file()
        let done = Self.file(inode: 8)
        _ = tracker.hint(.closed, path: "/in/d1/a", stat: stat, now: 0)
        _ = tracker.hint(.closed, path: "/in/d1/b", stat: done, now: 0)
        #expect(tracker.tick(now: 1, stat: { $0.hasSuffix("/b") ? done : nil }).count == 1)
        _ = tracker.hint(.closed, path: "/in/d1/a", stat: stat, now: 1)
        // Issue 9, path 5: "untitled folder" filled, then renamed: its files must be seen where they are now.
        let moved = tracker.renamedTree(from: "/in/d1", to: "/in/d2") { $0 == "/in/d2/b" ? done : stat }
        #expect(moved == [.ready(path: "/in/d2/b", stat: done)])
        #expect(tracker.tick(now: 2, stat: { _ in stat }) == [.ready(path: "/in/d2/a", stat: stat)])
        #expect(tracker.hint(.scanned, path: "/in/d2/a", stat: stat, now: 3).isEmpty)
        #expect(tracker.hint(.scanned, path: "/in/d2/b", stat: done, now: 3).isEmpty)
    }

    @Test func removedTreeForgetsEverythingBelow() {
        var tracker = ReadinessTracker(settle: 0)
        _ = tracker.hint(.closed, path: "/in/d/a", stat: Self.file(), now: 0)
        _ = tracker.hint(.closed, path: "/in/dd/b", stat: Self.file(inode: 8), now: 0)
        tracker.removedTree(directory: "/in/d")
        #expect(tracker.reportedCount == 1)
    }

    @Test func aFileRenamedBetweenScansIsReportedUnderItsNewName() {
        var tracker = ReadinessTracker(settle: 1)
        let stat = Self.file()
        _ = tracker.hint(.scanned, path: "/in/old/a", stat: stat, now: 0)
        #expect(tracker.tick(now: 1, stat: { _ in stat }).count == 1)
        // Issue 9, path 5: poll mode sees a rename as a file at a new path; it must be reported there
        // (the intake knows by identity whether it already belongs to a job).
        _ = tracker.hint(.scanned, path: "/in/new/a", stat: stat, now: 5)
        tracker.pruneReported(seen: ["/in/new/a"], now: 5, stat: { $0 == "/in/new/a" ? stat : nil })
        #expect(tracker.tick(now: 6, stat: { _ in stat }) == [.ready(path: "/in/new/a", stat: stat)])
        #expect(tracker.hint(.scanned, path: "/in/new/a", stat: stat, now: 7).isEmpty, "reported once")
        // A different file at a new path is new.
        let other = Self.file(inode: 99)
        _ = tracker.hint(.scanned, path: "/in/new/b", stat: other, now: 7)
        #expect(tracker.tick(now: 8, stat: { _ in other }).count == 1)
    }

    @Test func overflowForgetsWriters() {
        var tracker = ReadinessTracker(settle: 1, openWriteTimeout: 100)
        let stat = Self.file()
        _ = tracker.hint(.created, path: "/in/a", stat: stat, now: 0)
        tracker.forgetWriters(now: 2)
        #expect(tracker.tick(now: 2, stat: { _ in stat }).count == 1)
    }
}
