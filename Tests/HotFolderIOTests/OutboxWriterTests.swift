// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

@Suite struct OutboxWriterTests {
    let root: TemporaryDirectory
    let writer: OutboxWriter

    init() throws {
        root = try TemporaryDirectory("outbox")
        writer = OutboxWriter(outbox: root.file("outbox"), failed: root.file("failed"), archive: root.file("archive"))
    }

    func contents(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    @Test func reservationsNeverCollideAndCheckEverySibling() throws {
        let first = try writer.reserve(lane: "portrait", name: "cat")
        #expect(first.stem == "cat" && first.directory == root.file("outbox/portrait"))
        #expect(FileManager.default.fileExists(atPath: first.logPath), "the log is the reservation")
        #expect(try writer.reserve(lane: "portrait", name: "cat").stem == "cat-2")
        try root.write("outbox/portrait/cat-3.mp4")
        try root.write("outbox/portrait/cat-4.json")
        #expect(try writer.reserve(lane: "portrait", name: "cat").stem == "cat-5")
        #expect(!FileManager.default.fileExists(atPath: root.file("outbox/portrait/cat-3.log")), "no stray log left")
        #expect(try writer.reserve(lane: "", name: "cat").stemPath == root.file("outbox/cat"))
        #expect(try writer.reserve(lane: "../../etc", name: "../passwd").stemPath == root.file("outbox/etc/_passwd"))
        let rebuilt = writer.reservation(stemPath: first.stemPath)
        #expect(rebuilt == first)
    }

    @Test func atomicWritesLeaveNoTemporaryFiles() throws {
        let target = root.file("outbox/lane/meta.json")
        try writer.writeFile(Data("one".utf8), to: target)
        #expect(try contents(target) == "one")
        #expect(throws: OutboxError.destinationExists(path: target)) {
            try writer.writeFile(Data("two".utf8), to: target)
        }
        #expect(try contents(target) == "one", "never overwritten")
        try writer.writeFile(Data("three".utf8), to: target, replace: true)
        #expect(try contents(target) == "three")
        #expect(root.listing("outbox/lane") == ["meta.json"], "no .meta.json.tmp-XXXXXX left after success or failure")
    }

    @Test func metadataAndLogGoBesideTheVideo() throws {
        let reservation = try writer.reserve(lane: "l", name: "dog")
        try writer.writeMetadata(Data("{\"a\":1}".utf8), for: reservation)
        try writer.writeMetadata(Data("{\"a\":2}".utf8), for: reservation)
        #expect(try contents(reservation.metadataPath) == "{\"a\":2}")
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        try writer.appendLog("submitted task t1", at: date, for: reservation)
        try writer.appendLog("failed:\nline two", at: date, for: reservation)
        #expect(try contents(reservation.logPath) == """
            2027-01-15T08:00:00Z submitted task t1
            2027-01-15T08:00:00Z failed:
                line two

            """)
    }

    @Test func installingAVideoRenamesAndNeverReplaces() throws {
        let reservation = try writer.reserve(lane: "l", name: "fox")
        let temporary = writer.temporaryVideoPath(for: reservation)
        #expect((temporary as NSString).lastPathComponent.hasPrefix(".fox.mp4.tmp-"))
        try Data("video".utf8).write(to: URL(fileURLWithPath: temporary))
        try writer.installVideo(from: temporary, for: reservation)
        #expect(try contents(reservation.videoPath) == "video")
        #expect(!FileManager.default.fileExists(atPath: temporary))
        try writer.installVideo(from: temporary, for: reservation)  // repeated after a crash: nothing to do

        let other = try root.write("elsewhere.mp4", "other")
        #expect(throws: OutboxError.destinationExists(path: reservation.videoPath)) {
            try writer.installVideo(from: other, for: reservation)
        }
        #expect(try contents(reservation.videoPath) == "video")
        #expect(FileManager.default.fileExists(atPath: other), "the source stays when nothing was installed")
    }

    static let shm = "/dev/shm"
    static let shmIsAnotherFileSystem =
        FileManager.default.isWritableFile(atPath: shm)
        && device(shm) != device(FileManager.default.temporaryDirectory.path)

    @Test(.enabled(if: shmIsAnotherFileSystem, "needs a writable /dev/shm on another file system than the temp folder"))
    func installingAcrossFileSystemsCopiesFlushesAndRemovesTheSource() throws {
        let shm = Self.shm
        let source = (shm as NSString).appendingPathComponent("hotfolder-test-\(UUID().uuidString).mp4")
        try Data(repeating: 7, count: 3 << 20).write(to: URL(fileURLWithPath: source))
        let reservation = try writer.reserve(lane: "x", name: "big")
        try writer.installVideo(from: source, for: reservation)
        #expect(!FileManager.default.fileExists(atPath: source))
        #expect(try Data(contentsOf: URL(fileURLWithPath: reservation.videoPath)) == Data(repeating: 7, count: 3 << 20))
        #expect(root.listing("outbox/x") == ["big.log", "big.mp4"])
    }

    @Test func failedJobsGetAFolderWithInputsAndAnErrorFile() throws {
        let image = try root.write("inbox/lane/door.first.png", "png")
        let prompt = try root.write("inbox/lane/door.txt", "a door")
        let reservation = try writer.reserve(lane: "lane", name: "door")
        try writer.appendLog("started", at: Date(timeIntervalSince1970: 0), for: reservation)
        let result = try writer.moveToFailed(
            inputs: [image, prompt, root.file("inbox/lane/gone.png")], lane: "lane", name: "door",
            errorText: "moderation: the prompt was refused.", log: reservation)
        #expect(result.path == root.file("failed/lane/door"))
        #expect(root.listing("failed/lane/door") == ["door.error.txt", "door.first.png", "door.log", "door.txt"])
        #expect(try contents(result.errorFile) == "moderation: the prompt was refused.\n")
        #expect(result.movedInputs[image] == root.file("failed/lane/door/door.first.png"))
        #expect(!FileManager.default.fileExists(atPath: image) && !FileManager.default.fileExists(atPath: reservation.logPath))

        let again = try root.write("inbox/lane/door.txt", "a door, again")
        let second = try writer.moveToFailed(inputs: [again], lane: "lane", name: "door", errorText: "again")
        #expect(second.path == root.file("failed/lane/door-2"))
        #expect(root.listing("failed/lane/door-2") == ["door-2.error.txt", "door.txt"])
    }

    @Test func shotFoldersMoveWhole() throws {
        try root.write("inbox/shot/prompt.txt", "p")
        try root.write("inbox/shot/first_frame.png", "f")
        let result = try writer.moveToFailed(inputs: [root.file("inbox/shot")], lane: "", name: "shot", errorText: "x")
        #expect(root.listing("failed/shot") == ["shot", "shot.error.txt", "shot/first_frame.png", "shot/prompt.txt"])
        #expect(result.path == root.file("failed/shot"))
    }

    @Test func archivePolicies() throws {
        let day = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15 in UTC
        let utc = TimeZone(identifier: "UTC")!
        let first = try root.write("inbox/l/cat.png", "1")
        let moved = try writer.archiveInputs([first], lane: "l", policy: .move, date: day, timeZone: utc)
        #expect(moved[first] == root.file("archive/2027-01-15/l/cat.png"))
        let second = try root.write("inbox/l/cat.png", "2")
        let again = try writer.archiveInputs([second], lane: "l", policy: .move, date: day, timeZone: utc)
        #expect(again[second] == root.file("archive/2027-01-15/l/cat-2.png"), "never overwritten")
        #expect(try contents(root.file("archive/2027-01-15/l/cat.png")) == "1")

        let kept = try root.write("inbox/l/keep.txt")
        #expect(try writer.archiveInputs([kept], lane: "l", policy: .keep, date: day) == [kept: kept])
        #expect(FileManager.default.fileExists(atPath: kept))

        let doomed = try root.write("inbox/l/delete.txt")
        #expect(try writer.archiveInputs([doomed], lane: "l", policy: .delete, date: day).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: doomed))
        let tokyo = try writer.archiveInputs(
            [try root.write("inbox/late.txt")], lane: "", policy: .move,
            date: Date(timeIntervalSince1970: 1_800_050_400), timeZone: TimeZone(identifier: "Asia/Tokyo")!)
        #expect(tokyo.values.first == root.file("archive/2027-01-16/late.txt"), "the day is the local day")
    }

    @Test func staleTemporaryFilesAreCleanedAtStartUp() throws {
        try root.write("outbox/l/.fox.mp4.tmp-abc123", "partial")
        try root.write("outbox/l/fox.json", "{}")
        let removed = try writer.removeTemporaryFiles(lane: "l")
        #expect(removed == [root.file("outbox/l/.fox.mp4.tmp-abc123")])
        #expect(root.listing("outbox/l") == ["fox.json"])
    }

    static func device(_ path: String) -> UInt64? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.systemNumber] as? NSNumber)?.uint64Value
    }
}
