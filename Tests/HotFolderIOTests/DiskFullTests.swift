// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderIO
import Testing

/// A tiny tmpfs, mounted for one test; needs root (CAP_SYS_ADMIN).
final class TinyFileSystem {
    let mountPoint: TemporaryDirectory

    init?(kilobytes: Int) throws {
        mountPoint = try TemporaryDirectory("tmpfs")
        guard Self.run(["/bin/mount", "-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", mountPoint.path]) else {
            return nil
        }
    }

    deinit {
        _ = Self.run(["/bin/umount", mountPoint.path])
    }

    static func run(_ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return false
        }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// Whether this process may mount a tmpfs (tried once).
    static let canMount: Bool = {
        guard getuid() == 0, let probe = try? TinyFileSystem(kilobytes: 64) else { return false }
        _ = probe
        return true
    }()
}

@Suite struct DiskFullTests {
    @Test(.enabled(if: TinyFileSystem.canMount, "skipped: mounting a tmpfs needs root and a kernel that allows it"))
    func aFullDiskIsReportedAsSuchAndLeavesNoPartialFile() throws {
        let tiny = try #require(try TinyFileSystem(kilobytes: 256))
        let root = tiny.mountPoint
        let writer = OutboxWriter(outbox: root.file("outbox"), failed: root.file("failed"), archive: root.file("archive"))
        let reservation = try writer.reserve(lane: "l", name: "big")
        #expect {
            try writer.writeMetadata(Data(repeating: 1, count: 1 << 20), for: reservation)
        } throws: { error in
            (error as? OutboxError)?.isDiskFull == true && "\(error)".contains("The disk is full")
        }
        #expect(root.listing("outbox/l") == ["big.log"], "the temp file was removed")

        let outside = try TemporaryDirectory("big-source")
        let video = try outside.write("big.mp4", String(repeating: "v", count: 1 << 20))
        #expect {
            try writer.installVideo(from: video, for: reservation)
        } throws: { error in
            (error as? OutboxError)?.isDiskFull == true
        }
        #expect(root.listing("outbox/l") == ["big.log"], "no partial video, no temp file")
        #expect(FileManager.default.fileExists(atPath: video), "the download is kept for a retry")
    }
}
