// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import SeedanceEmulator
import Testing

extension ServiceSuites {
    /// A Figma-style export dropped beside its prompt, as a designer makes it.
    @Suite struct DesignExportServiceTests {
        @Test func aRetinaExportAndItsPromptMakeOneFirstFrameVideo() async throws {
            let folders = try ServiceFolders("export-names")
            let emulator = try await startEmulator()
            try await withService(folders, emulator: emulator) { events, _ in
                let small = PNGWriter.gradient(width: 400, height: 300, from: (0, 0, 0), to: (255, 255, 255))
                let large = PNGWriter.gradient(width: 800, height: 600, from: (0, 0, 0), to: (255, 255, 255))
                try folders.drop("poster.png", Data(small))
                try folders.drop("poster@2x.png", Data(large))
                try folders.drop("poster.txt", "The poster comes alive")
                await events.wait(for: "one video") { $0.contains(where: \.isDone) }
            }
            await emulator.shutdown()
            #expect(emulator.stats.tasksCreated == 1, "one job, not a text-only one plus a waiting image")
            let create = try #require(emulator.receivedRequests.first { $0.endpoint == "gateway.create" }?.bodyJSON)
            #expect(create.contains("first_frame"))
            #expect(emulator.stats.requests("gateway.upload") == 1, "only the larger export is uploaded")
            // Both exports went to the archive with the job; nothing waits in the inbox.
            #expect(folders.files(in: "inbox").isEmpty, "\(folders.files(in: "inbox"))")
            #expect(folders.files(in: "archive").filter { $0.hasSuffix(".png") }.count == 2)
        }

        @Test func aTIFFExportIsConvertedToPNGOnThisMachineAndSent() async throws {
            let folders = try ServiceFolders("tiff")
            let emulator = try await startEmulator()
            let tiff = folders.root + "/poster.tiff"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=0x884422:s=800x600", "-frames:v", "1", tiff]
            try process.run()
            process.waitUntilExit()
            try await withService(folders, emulator: emulator) { events, _ in
                try folders.drop("poster.tiff", try Data(contentsOf: URL(fileURLWithPath: tiff)))
                try folders.drop("poster.txt", "The poster comes alive")
                await events.wait(for: "one video") { $0.contains(where: \.isDone) }
            }
            await emulator.shutdown()
            #expect(emulator.stats.requests("gateway.upload") == 1)
            let images = jsonObject(folders.outbox + "/poster.json")["images"] as? [[String: String]]
            #expect(images?.first?["prepared"]?.hasPrefix("converted from TIFF to PNG") == true, "\(String(describing: images))")
            let log = (try? String(contentsOfFile: folders.outbox + "/poster.log", encoding: .utf8)) ?? ""
            #expect(log.contains("converted from TIFF to PNG, sent as 800×600"), "\(log)")
            let left = (try? FileManager.default.contentsOfDirectory(atPath: folders.state + "/prepared-images")) ?? []
            #expect(left.isEmpty, "the file sent is removed after the create call: \(left)")
        }

        @Test func aWebBannerIsPaddedToAShapeTheAPITakesWhenImageFitIsPad() async throws {
            let folders = try ServiceFolders("pad")
            let emulator = try await startEmulator()
            try await withService(folders, emulator: emulator, configure: { $0.imageFit = .pad }) { events, _ in
                try folders.drop("banner.png", Data(PNGWriter.gradient(width: 1500, height: 300, from: (200, 0, 0), to: (0, 0, 200))))
                try folders.drop("banner.txt", "The banner scrolls")
                await events.wait(for: "one video") { $0.contains(where: \.isDone) }
            }
            await emulator.shutdown()
            #expect(emulator.stats.requests("gateway.upload") == 1)
            let images = jsonObject(folders.outbox + "/banner.json")["images"] as? [[String: String]]
            #expect(images?.first?["prepared"]?.contains("padded") == true, "\(String(describing: images))")
            let log = (try? String(contentsOfFile: folders.outbox + "/banner.log", encoding: .utf8)) ?? ""
            #expect(log.contains("padded from 1500×300") && log.contains("sent as 1500×600"), "\(log)")
        }

        @Test func anAfterEffectsSequenceWrittenFrameByFrameIsOneJobMadeAfterTheLastFrame() async throws {
            let folders = try ServiceFolders("sequence")
            let emulator = try await startEmulator()
            try await withService(folders, emulator: emulator, configure: {
                $0.settle = .seconds(1)
                $0.sequenceSettle = .seconds(2)
            }) { events, _ in
                for frame in 1...20 {
                    if frame == 11 {
                        // The designer adds the prompt while the renderer is still writing frames.
                        try folders.drop("shot.txt", "The camera flies through the rendered frames")
                        try folders.drop("shot.yaml", "model: quality\n")
                    }
                    let shade = UInt8(frame * 10)
                    try folders.drop(String(format: "shot_%05d.png", frame), Data(PNGWriter.gradient(width: 400, height: 300, from: (shade, 0, 0), to: (0, 0, shade))))
                    try await Task.sleep(for: .milliseconds(500))  // a renderer writing 20 frames over 10 seconds, each well inside the settle time
                }
                await events.wait(for: "one video") { $0.contains(where: \.isDone) }
            }
            await emulator.shutdown()
            #expect(emulator.stats.tasksCreated == 1)
            #expect(emulator.stats.requests("gateway.upload") == 2, "the first and the last frame")
            let create = try #require(emulator.receivedRequests.first { $0.endpoint == "gateway.create" }?.bodyJSON)
            #expect(create.contains("first_frame") && create.contains("last_frame"))
            #expect(folders.files(in: "archive").filter { $0.hasSuffix(".png") }.count == 20, "every frame moved with the job")
        }
    }
}
