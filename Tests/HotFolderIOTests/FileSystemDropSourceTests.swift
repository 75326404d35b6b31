// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A fresh temporary folder per test, removed afterwards.
struct TemporaryFolder: ~Copyable {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("hotfolder-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ relative: String, _ text: String) throws {
        try write(relative, bytes: Array(text.utf8))
    }

    func write(_ relative: String, bytes: [UInt8]) throws {
        let url = URL(fileURLWithPath: path).appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }
}

/// The real file system behind the planner: kinds, links, limits and hostile files.
@Suite struct FileSystemDropSourceTests {
    @Test func listsKindsWithoutFollowingLinks() throws {
        let inbox = try TemporaryFolder()
        let outside = try TemporaryFolder()
        try inbox.write("lane/a.txt", "A")
        try outside.write("secret.txt", "secret")
        try FileManager.default.createSymbolicLink(atPath: inbox.path + "/in.txt", withDestinationPath: "lane/a.txt")
        try FileManager.default.createSymbolicLink(atPath: inbox.path + "/out.txt", withDestinationPath: outside.path + "/secret.txt")
        try FileManager.default.createSymbolicLink(atPath: inbox.path + "/dir-out", withDestinationPath: outside.path)
        try FileManager.default.createSymbolicLink(atPath: inbox.path + "/dangling.txt", withDestinationPath: "nope")
        #expect(mkfifo(inbox.path + "/pipe.txt", 0o600) == 0)

        let source = FileSystemDropSource(root: inbox.path)
        let entries = Dictionary(uniqueKeysWithValues: try source.entries().map { ($0.path, $0) })
        #expect(entries["lane"]?.kind == .directory)
        #expect(entries["lane/a.txt"]?.kind == .regular)
        #expect(entries["lane/a.txt"]?.size == 1)
        #expect(entries["in.txt"]?.link == .inside(path: "lane/a.txt", kind: .regular, size: 1))
        if case .outside? = entries["out.txt"]?.link {} else { Issue.record("out.txt should resolve outside") }
        if case .outside? = entries["dir-out"]?.link {} else { Issue.record("dir-out should resolve outside") }
        #expect(entries["dir-out/secret.txt"] == nil)
        #expect(entries["dangling.txt"]?.link == .broken)
        #expect(entries["pipe.txt"]?.kind == .fifo)

        #expect(try source.read("in.txt", maxBytes: 10) == Array("A".utf8))
        #expect(throws: DropReadError.self) { try source.read("out.txt", maxBytes: 10) }
        #expect(throws: DropReadError.notRegularFile(path: "pipe.txt")) { try source.read("pipe.txt", maxBytes: 10) }
    }

    @Test func readStopsAtTheLimit() throws {
        let inbox = try TemporaryFolder()
        try inbox.write("a.txt", String(repeating: "x", count: 10_000))
        #expect(try FileSystemDropSource(root: inbox.path).read("a.txt", maxBytes: 100).count == 100)
    }

    @Test func readTailReadsOnlyTheEnd() throws {
        let inbox = try TemporaryFolder()
        let text = (0..<10_000).map { String($0 % 10) }.joined()
        try inbox.write("a.txt", text)
        try inbox.write("small.txt", "tiny")
        try inbox.write("empty.txt", "")
        #expect(mkfifo(inbox.path + "/pipe.txt", 0o600) == 0)
        let source = FileSystemDropSource(root: inbox.path)
        let tail = try source.readTail("a.txt", maxBytes: 100)
        #expect(tail.bytes == Array(text.utf8.suffix(100)))
        #expect(tail.size == 10_000)
        #expect(try source.readTail("small.txt", maxBytes: 100).bytes == Array("tiny".utf8))
        #expect(try source.readTail("empty.txt", maxBytes: 100).bytes == [])
        #expect(throws: DropReadError.notRegularFile(path: "pipe.txt")) { try source.readTail("pipe.txt", maxBytes: 10) }
    }

    @Test(arguments: [
        ("PNG", true), ("JPEG", true), ("WebP", true), ("PNG", false), ("JPEG", false), ("WebP", false),
    ])
    func truncatedImagesOnDiskAreRefused(format: String, complete: Bool) throws {
        let inbox = try TemporaryFolder()
        let bytes: [UInt8]
        switch format {
        case "PNG": bytes = PNGWriter.gradient(width: 400, height: 300, from: (0, 0, 0), to: (255, 255, 255))
        case "JPEG": bytes = ImageHeader.minimalFile(.jpeg, width: 400, height: 300) + [UInt8](repeating: 0, count: 64)
        default:
            // A 100-byte EXIF chunk after the header, counted in the RIFF size.
            var webp = ImageHeader.minimalFile(.webp, width: 400, height: 300)
            webp[4] += 100
            bytes = webp + Array("EXIF".utf8) + [92, 0, 0, 0] + [UInt8](repeating: 0x45, count: 92)
        }
        try inbox.write("pic.txt", "A picture")
        try inbox.write("pic.png", bytes: complete ? bytes : Array(bytes.prefix(bytes.count - (format == "JPEG" ? 70 : 6))))
        let plan = try DropPlanner().plan(FileSystemDropSource(root: inbox.path), now: Date().addingTimeInterval(3600))
        let job = try #require(plan.jobs.first { $0.name == "pic" })
        if complete {
            #expect(job.errors.filter { $0.field == "first_frame" } == [], "\(job.errors)")
        } else {
            #expect(job.errors.first { $0.field == "first_frame" }?.message.contains("appears truncated") == true, "\(job.errors)")
        }
    }

    @Test func filesBelowTheDepthLimitAreListedAndRefused() throws {
        let inbox = try TemporaryFolder()
        let folders = { (levels: Int) in (0..<levels).map { "d\($0)" }.joined(separator: "/") }
        try inbox.write(folders(32) + "/ok.txt", "at the limit")
        try inbox.write(folders(40) + "/deep.txt", "deeply nested")
        let source = FileSystemDropSource(root: inbox.path)
        let paths = Set(try source.entries().map(\.path))
        #expect(paths.contains(folders(32) + "/ok.txt"))
        #expect(paths.contains(folders(40) + "/deep.txt"))
        let plan = try DropPlanner().plan(source, now: Date().addingTimeInterval(3600))
        #expect(plan.jobs.first { $0.name == "ok" }?.status == .valid)
        let deep = try #require(plan.jobs.first { $0.name == "deep" })
        #expect(deep.errors.first?.message.contains("nested 40 folders deep") == true, "\(deep.errors)")
    }

    @Test func aRunawayTreeBelowTheLimitIsListedOnlyInPart() throws {
        let inbox = try TemporaryFolder()
        // 60 levels, each with three files: far more than the budget below level 4.
        var folder = ""
        for level in 0..<60 {
            folder += (folder.isEmpty ? "" : "/") + "l\(level)"
            for index in 0..<3 { try inbox.write(folder + "/f\(index).txt", "x") }
        }
        var source = FileSystemDropSource(root: inbox.path)
        source.maxDepth = 4
        source.maxEntriesBelowDepth = 20
        let entries = try source.entries()
        let below = entries.filter { $0.path.split(separator: "/").count - 1 > 4 }
        #expect(below.count == 20)
        #expect(entries.count - below.count == 1 + 4 * 4, "levels 0–4 in full: l0, then three files and a folder each")
    }

    @Test func missingInboxIsAListingError() {
        #expect(throws: FileSystemDropSource.ListingError.self) {
            try FileSystemDropSource(root: "/nonexistent/inbox-\(UUID().uuidString)").entries()
        }
    }

    @Test func hostileFilesInARealInbox() throws {
        let inbox = try TemporaryFolder()
        let outside = try TemporaryFolder()
        // A 1 GB sparse "prompt": rejected from its size, never read.
        try inbox.write("huge.txt", "")
        let fd = open(inbox.path + "/huge.txt", O_WRONLY)
        #expect(fd >= 0)
        #expect(ftruncate(fd, 1 << 30) == 0)
        close(fd)
        try inbox.write("junk.txt", bytes: (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) })
        #expect(mkfifo(inbox.path + "/pipe.txt", 0o600) == 0)
        try outside.write("secret.txt", "secret prompt")
        try FileManager.default.createSymbolicLink(atPath: inbox.path + "/escape.txt", withDestinationPath: outside.path + "/secret.txt")
        try inbox.write("bomb.txt", "A")
        try inbox.write("bomb.yaml", MaliciousYAML.aliasBomb)

        let clock = ContinuousClock()
        var plan: Plan?
        let elapsed = try clock.measure {
            plan = try DropPlanner().plan(FileSystemDropSource(root: inbox.path), now: Date())
        }
        let jobs = Dictionary(uniqueKeysWithValues: (plan?.jobs ?? []).map { ($0.name, $0) })
        #expect(jobs["huge"]?.errors.first?.message.contains("1 GB") == true)
        #expect(jobs["junk"]?.errors.first?.message.contains("not plain text") == true)
        #expect(jobs["pipe"]?.errors.first?.message.contains("named pipe") == true)
        #expect(jobs["escape"]?.errors.first?.message.contains("outside the inbox") == true)
        #expect(jobs["bomb"]?.status == .invalid)
        #expect(plan?.totals.valid == 0)
        #expect(elapsed < .seconds(5))
    }
}

enum MaliciousYAML {
    static let aliasBomb = (["a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]"]
        + zip("bcdefghi", "abcdefgh").map { "\($0): &\($0) [" + Array(repeating: "*\($1)", count: 9).joined(separator: ",") + "]" }
        + ["prompt: *i"]).joined(separator: "\n")
}
