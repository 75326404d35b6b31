// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Glibc
import HotFolderCore
import HotFolderIO
import Testing

/// Real files in real temp folders, in both modes: each scenario must produce exactly the expected
/// ready files, none early and none twice.
@Suite(.serialized) struct InboxWatcherTests {
    static let modes: [WatchMode] = [.inotify, .poll]

    @Test(arguments: modes) func startupScanReportsFilesAlreadyThere(mode: WatchMode) async throws {
        try await withWatcher(mode: mode, prepare: { inbox in
            try write(inbox + "/one.txt", "1")
            try write(inbox + "/lane/two.txt", "2")
            try write(inbox + "/.hidden", "h")
        }) { _, _, log, watcher in
            await log.wait(for: "two files") { $0.ready.count >= 2 }
            await settleCompletely(log, watcher)
            #expect(await Set(log.readyPaths) == ["one.txt", "lane/two.txt"])
            #expect(await log.ready.count == 2)
        }
    }

    @Test(arguments: modes) func copyOfA20MegabyteFile(mode: WatchMode) async throws {
        try await withWatcher(mode: mode) { inbox, outside, log, watcher in
            try shell("head -c 20971520 /dev/urandom > '\(outside)/big.bin' && cp '\(outside)/big.bin' '\(inbox)/big.bin'")
            await log.wait(for: "big.bin") { !$0.ready.isEmpty }
            await settleCompletely(log, watcher)
            #expect(await log.readyPaths == ["big.bin"])
            #expect(await log.ready.first?.stat.size == 20_971_520)
        }
    }

    @Test(arguments: modes) func moveInFromOutside(mode: WatchMode) async throws {
        try await withWatcher(mode: mode) { inbox, outside, log, watcher in
            try write(outside + "/m.txt", "moved")
            try shell("mv '\(outside)/m.txt' '\(inbox)/m.txt'")
            await log.wait(for: "m.txt") { !$0.ready.isEmpty }
            await settleCompletely(log, watcher)
            #expect(await log.readyPaths == ["m.txt"])
        }
    }

    @Test(arguments: modes) func slowWriterIsNotReadyUntilClosedAndSettled(mode: WatchMode) async throws {
        try await withWatcher(mode: mode, settle: 0.8) { inbox, _, log, watcher in
            let path = inbox + "/slow.txt"
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            #expect(fd >= 0)
            let chunk = [UInt8](repeating: 65, count: 100_000)
            for index in 0..<5 {
                _ = Glibc.write(fd, chunk, chunk.count)
                if index < 4 { try await Task.sleep(for: .milliseconds(500)) }  // the scenario itself: a slow writer
            }
            #expect(await log.ready.isEmpty, "reported while still being written")
            close(fd)
            let closedAt = Date()
            await log.wait(for: "slow.txt") { !$0.ready.isEmpty }
            #expect(Date().timeIntervalSince(closedAt) >= 0.7, "reported before settling")
            await settleCompletely(log, watcher)
            #expect(await log.readyPaths == ["slow.txt"])
            #expect(await log.ready.first?.stat.size == 500_000)
        }
    }

    @Test(arguments: modes) func rsyncOfAFileAndATree(mode: WatchMode) async throws {
        try await withWatcher(mode: mode) { inbox, outside, log, watcher in
            try write(outside + "/single.txt", "one")
            for index in 0..<5 { try write(outside + "/tree/shots/s\(index).txt", "shot \(index)") }
            try shell("rsync '\(outside)/single.txt' '\(inbox)/single.txt' && rsync -a '\(outside)/tree/' '\(inbox)/tree/'")
            await log.wait(for: "six files") { $0.ready.count >= 6 }
            await settleCompletely(log, watcher)
            let expected = ["single.txt"] + (0..<5).map { "tree/shots/s\($0).txt" }
            #expect(await log.readyPaths.sorted() == expected.sorted())
        }
    }

    @Test(arguments: modes) func partialFileRenamedIntoPlace(mode: WatchMode) async throws {
        try await withWatcher(mode: mode) { inbox, _, log, watcher in
            try write(inbox + "/x.part", "downloading")
            try shell("mv '\(inbox)/x.part' '\(inbox)/x'")
            await log.wait(for: "x") { !$0.ready.isEmpty }
            await settleCompletely(log, watcher)
            #expect(await log.readyPaths == ["x"])
        }
    }

    @Test(arguments: modes) func newFolderTreeFollowedAtOnceBy200Files(mode: WatchMode) async throws {
        try await withWatcher(mode: mode) { inbox, _, log, watcher in
            try shell("mkdir -p '\(inbox)/a/b/c' && for i in $(seq 1 200); do echo $i > '\(inbox)/a/b/c/f'$i.txt; done")
            await log.wait(for: "200 files") { $0.ready.count >= 200 }
            await settleCompletely(log, watcher)
            #expect(await log.ready.count == 200)
            #expect(await Set(log.readyPaths) == Set((1...200).map { "a/b/c/f\($0).txt" }))
        }
    }

    @Test(arguments: modes) func folderWith100FilesMovedIn(mode: WatchMode) async throws {
        try await withWatcher(mode: mode) { inbox, outside, log, watcher in
            try shell("mkdir -p '\(outside)/batch/inner' && for i in $(seq 1 100); do echo $i > '\(outside)/batch/inner/f'$i.txt; done")
            try shell("mv '\(outside)/batch' '\(inbox)/batch'")
            await log.wait(for: "100 files") { $0.ready.count >= 100 }
            await settleCompletely(log, watcher)
            #expect(await log.ready.count == 100)
            #expect(await Set(log.readyPaths) == Set((1...100).map { "batch/inner/f\($0).txt" }))
        }
    }

    @Test(arguments: modes) func renamedFolderKeepsLaterPathsRight(mode: WatchMode) async throws {
        try await withWatcher(mode: mode) { inbox, _, log, watcher in
            try shell("mkdir -p '\(inbox)/d1/sub'")
            try write(inbox + "/d1/sub/before.txt", "b")
            await log.wait(for: "before.txt") { !$0.ready.isEmpty }
            try shell("mv '\(inbox)/d1' '\(inbox)/d1renamed'")
            try write(inbox + "/d1renamed/sub/after.txt", "a")
            await log.wait(for: "after.txt") { $0.readyPaths.contains("d1renamed/sub/after.txt") }
            await settleCompletely(log, watcher)
            let paths = await log.readyPaths
            // The file written before the rename is reported again under its new path (issue 9, path 5).
            #expect(paths.sorted() == ["d1/sub/before.txt", "d1renamed/sub/after.txt", "d1renamed/sub/before.txt"])
        }
    }

    @Test(arguments: modes) func folderMovedOutProducesNoMoreEvents(mode: WatchMode) async throws {
        try await withWatcher(mode: mode) { inbox, outside, log, watcher in
            try shell("mkdir -p '\(inbox)/n1/n2'")
            try write(inbox + "/n1/n2/first.txt", "1")
            await log.wait(for: "first.txt") { !$0.ready.isEmpty }
            try shell("mv '\(inbox)/n1' '\(outside)/n1'")
            try write(outside + "/n1/n2/ghost.txt", "boo")
            try write(inbox + "/sentinel.txt", "s")
            await log.wait(for: "sentinel") { $0.readyPaths.contains("sentinel.txt") }
            await settleCompletely(log, watcher)
            #expect(await log.readyPaths == ["n1/n2/first.txt", "sentinel.txt"])
        }
    }

    @Test(arguments: modes) func rewrittenFileIsReportedAgain(mode: WatchMode) async throws {
        try await withWatcher(mode: mode) { inbox, _, log, watcher in
            try write(inbox + "/again.txt", "first version")
            await log.wait(for: "first version") { $0.ready.count == 1 }
            await settleCompletely(log, watcher)
            try write(inbox + "/again.txt", "second, longer version")
            await log.wait(for: "second version") { $0.ready.count == 2 }
            await settleCompletely(log, watcher)
            let sizes = await log.ready.map(\.stat.size)
            #expect(sizes == [13, 22])
        }
    }

    @Test(arguments: modes) func burstOf10000FilesIsReportedOnceEach(mode: WatchMode) async throws {
        try await withWatcher(mode: mode, settle: 0.2) { inbox, _, log, watcher in
            try shell("python3 -c \"import os\nfor i in range(10000):\n  open(os.path.join('\(inbox)', 'f%05d.txt' % i), 'w').write('prompt %d' % i)\"")
            await log.wait(for: "10,000 files", timeout: 60) { $0.ready.count >= 10_000 }
            await settleCompletely(log, watcher)
            #expect(await log.ready.count == 10_000)
            #expect(await Set(log.readyPaths).count == 10_000)
        }
    }

    @Test func overflowIsFollowedByARescanThatFindsTheFiles() async throws {
        try await withWatcher(mode: .inotify) { inbox, _, log, watcher in
            let scansBefore = await log.scans.count
            // Each new file costs two events (CREATE, CLOSE_WRITE): lose all of them, then overflow.
            watcher.simulateOverflow(losingNext: 40)
            for index in 0..<20 { try write(inbox + "/lost\(index).txt", "\(index)") }
            await log.wait(for: "the 20 files") { $0.ready.count >= 20 }
            #expect(await log.problems.contains { if case .overflow = $0 { true } else { false } })
            #expect(await log.scans.count > scansBefore, "the files must come from the rescan, not events")
            await settleCompletely(log, watcher)
            #expect(await log.ready.count == 20)
        }
    }

    @Test(arguments: modes) func temporaryAndSpecialEntriesAreNotReady(mode: WatchMode) async throws {
        try await withWatcher(mode: mode) { inbox, _, log, watcher in
            for name in [".hidden.txt", "~$lock.docx", "a.tmp", "b.crdownload", "c.swp", ".rsync.txt.AbC123"] {
                try write(inbox + "/" + name, "temp")
            }
            try shell("ln -s /etc/hostname '\(inbox)/link.txt' && mkfifo '\(inbox)/pipe.txt'")
            try write(inbox + "/real.txt", "real")
            await log.wait(for: "real.txt and the two special entries") { $0.ready.count >= 1 && $0.unsupported.count >= 2 }
            await settleCompletely(log, watcher)
            #expect(await log.readyPaths == ["real.txt"])
            #expect(await Set(log.unsupported.map(\.relativePath)) == ["link.txt", "pipe.txt"])
        }
    }

    @Test(arguments: modes) func excludedFoldersAreIgnored(mode: WatchMode) async throws {
        try await withWatcher(mode: mode, configure: { $0.excluded = [$0.root + "/outbox"] }) { inbox, _, log, watcher in
            try write(inbox + "/outbox/video.json", "{}")
            try write(inbox + "/job.txt", "a prompt")
            await log.wait(for: "job.txt") { !$0.ready.isEmpty }
            await settleCompletely(log, watcher)
            #expect(await log.readyPaths == ["job.txt"])
        }
    }

    @Test func missingInboxIsAClearError() async throws {
        let watcher = InboxWatcher(configuration: WatcherConfiguration(root: "/nonexistent/hotfolder-inbox"))
        #expect(throws: WatcherError.inboxMissing(path: "/nonexistent/hotfolder-inbox")) { try watcher.validate() }
        #expect("\(WatcherError.inboxMissing(path: "/x"))".contains("mkdir -p /x"))
    }

    @Test(.enabled(if: getuid() != 0, "root can read every folder, so permission errors cannot be produced"))
    func unreadableSubfolderIsSkippedAndReported() async throws {
        try await withWatcher(mode: .inotify, prepare: { inbox in
            try write(inbox + "/locked/secret.txt", "s")
            chmod(inbox + "/locked", 0)
        }) { inbox, _, log, watcher in
            try write(inbox + "/open.txt", "o")
            await log.wait(for: "open.txt") { !$0.ready.isEmpty }
            #expect(await log.problems.contains(.permissionDenied(path: inbox + "/locked")))
            chmod(inbox + "/locked", 0o755)
        }
    }

    @Test func networkFileSystemsArePolledInAutoMode() {
        let watcher = InboxWatcher(configuration: WatcherConfiguration(root: NSTemporaryDirectory()))
        let (mode, fileSystem) = watcher.effectiveMode()
        #expect(mode == (FileSystemProbe.fileSystemKind(of: NSTemporaryDirectory())?.needsPolling == true ? .poll : .inotify))
        #expect(!fileSystem.isEmpty)
        #expect(FileSystemProbe.FileSystemKind.remote("nfs").needsPolling)
        #expect(!FileSystemProbe.FileSystemKind.local("ext4").needsPolling)
    }
}
