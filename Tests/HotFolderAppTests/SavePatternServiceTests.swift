// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import SeedanceEmulator
import Testing

extension ServiceSuites {
    /// How design tools write their exports, reproduced with real files under the real watcher.
    @Suite struct SavePatternServiceTests {
        static func image(_ shade: UInt8) -> Data {
            Data(PNGWriter.gradient(width: 640, height: 360, from: (shade, 40, 0), to: (0, 40, shade)))
        }

        /// Writes `data` over an existing file in place (truncate, write), as an export over the same name does.
        static func rewrite(_ path: String, _ data: Data) throws {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.truncate(atOffset: 0)
            try handle.write(contentsOf: data)
            try handle.close()
        }

        @Test func photoshopWritesATemporaryFileAndRenamesItIntoPlace() async throws {
            let folders = try ServiceFolders("save-rename")
            let emulator = try await startEmulator()
            try await withService(folders, emulator: emulator) { events, _ in
                // Photoshop and Affinity write the whole file under a temporary name, then rename it.
                try folders.drop(".poster.png.tmp-4f2a", Self.image(90))
                try folders.drop("poster.txt.sb-89a1-Qx", "The poster comes alive")
                try FileManager.default.moveItem(atPath: folders.inbox + "/.poster.png.tmp-4f2a", toPath: folders.inbox + "/poster.png")
                try FileManager.default.moveItem(atPath: folders.inbox + "/poster.txt.sb-89a1-Qx", toPath: folders.inbox + "/poster.txt")
                await events.wait(for: "one video") { $0.contains(where: \.isDone) }
            }
            await emulator.shutdown()
            #expect(emulator.stats.tasksCreated == 1 && emulator.stats.requests("gateway.upload") == 1)
            #expect(folders.files(in: "outbox").filter { $0.hasSuffix(".mp4") } == ["poster.mp4"])
            #expect(folders.files(in: "failed").isEmpty, "a temporary name never became a job: \(folders.files(in: "failed"))")
        }

        @Test func anExportRewrittenInPlaceIsSentOnceAndAReExportAfterTheVideoIsANewJobNamedDash2() async throws {
            let folders = try ServiceFolders("save-rewrite")
            let emulator = try await startEmulator()
            try await withService(folders, emulator: emulator) { events, _ in
                try folders.drop("hero.png", Self.image(10))
                for shade in [60, 110, 160] as [UInt8] {
                    // The tool writes the same name several times while exporting.
                    try Self.rewrite(folders.inbox + "/hero.png", Self.image(shade))
                }
                try folders.drop("hero.txt", "The hero turns")
                await events.wait(for: "the first video") { $0.filter(\.isDone).count == 1 }
                // The designer exports again over the same names: a second video, never a lost drop.
                try folders.drop("hero.png", Self.image(220))
                try folders.drop("hero.txt", "The hero turns")
                await events.wait(for: "the second video") { $0.filter(\.isDone).count == 2 }
            }
            await emulator.shutdown()
            #expect(emulator.stats.tasksCreated == 2 && emulator.stats.requests("gateway.upload") == 2)
            #expect(folders.files(in: "outbox").filter { $0.hasSuffix(".mp4") } == ["hero-2.mp4", "hero.mp4"])
        }

        @Test func withArchivePolicyKeepAnImageReExportedBesideItsUnchangedPromptIsANewJob() async throws {
            let folders = try ServiceFolders("save-keep")
            let emulator = try await startEmulator()
            try await withService(folders, emulator: emulator, configure: { $0.archivePolicy = .keep }) { events, _ in
                try folders.drop("hero.png", Self.image(10))
                try folders.drop("hero.txt", "The hero turns")
                await events.wait(for: "the first video") { $0.filter(\.isDone).count == 1 }
                try Self.rewrite(folders.inbox + "/hero.png", Self.image(200))
                await events.wait(for: "the second video") { $0.filter(\.isDone).count == 2 }
            }
            await emulator.shutdown()
            #expect(emulator.stats.tasksCreated == 2)
            #expect(folders.files(in: "outbox").filter { $0.hasSuffix(".mp4") } == ["hero-2.mp4", "hero.mp4"])
            #expect(folders.files(in: "inbox") == ["hero.png", "hero.txt"], "kept")
        }
    }
}
