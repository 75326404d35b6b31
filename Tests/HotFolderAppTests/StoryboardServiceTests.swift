// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import SeedanceEmulator
import Testing

extension ServiceSuites {
    /// A storyboard folder becomes clips and one film, end to end against the emulator, with real ffmpeg.
    @Suite struct StoryboardServiceTests {
        static func keyframe(_ shade: UInt8) -> Data {
            Data(PNGWriter.gradient(width: 400, height: 300, from: (shade, 0, 0), to: (0, 0, 255 - shade)))
        }

        static func duration(_ path: String) -> Double {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path]
            let pipe = Pipe()
            process.standardOutput = pipe
            try? process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Double(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }

        @Test func threeKeyframesMakeTwoClipsJoinedIntoOneFilm() async throws {
            let folders = try ServiceFolders("storyboard")
            let emulator = try await startEmulator()
            try await withService(folders, emulator: emulator) { events, _ in
                try folders.drop("ads/story/01.png", Self.keyframe(10))
                try folders.drop("ads/story/02.png", Self.keyframe(120))
                try folders.drop("ads/story/03.png", Self.keyframe(240))
                try folders.drop("ads/story/prompt.txt", "The camera glides from one keyframe to the next")
                try folders.drop("ads/story/storyboard.yaml", "duration: 2\n")
                await events.wait(for: "the film") { $0.contains { if case .filmJoined = $0 { true } else { false } } }
            }
            await emulator.shutdown()
            #expect(emulator.stats.tasksCreated == 2)
            let creates = emulator.receivedRequests.filter { $0.endpoint == "gateway.create" }.compactMap(\.bodyJSON)
            #expect(creates.allSatisfy { $0.contains("first_frame") && $0.contains("last_frame") && $0.contains("quality") })
            let outbox = folders.files(in: "outbox/ads")
            #expect(outbox.contains("story-01-02.mp4") && outbox.contains("story-02-03.mp4") && outbox.contains("story.mp4"), "\(outbox)")
            let clip = Self.duration(folders.outbox + "/ads/story-01-02.mp4")
            let film = Self.duration(folders.outbox + "/ads/story.mp4")
            #expect(clip > 0 && abs(film - 2 * clip) < 0.5, "film \(film) s, clip \(clip) s")
            let metadata = jsonObject(folders.outbox + "/ads/story.json")
            #expect((metadata["clips"] as? [[String: Any]])?.map { $0["video"] as? String } == ["story-01-02.mp4", "story-02-03.mp4"])
            #expect(folders.files(in: "inbox").isEmpty, "the storyboard went to the archive: \(folders.files(in: "inbox"))")
            #expect(folders.files(in: "archive").filter { $0.hasSuffix(".png") }.count == 3)
        }

        @Test func aFailedClipFailsTheFilmAndARetryPaysOnlyForThatClip() async throws {
            let folders = try ServiceFolders("storyboard-retry")
            // The emulator fails a prompt by its hash: one prompt that always fails, one that never does.
            let candidates = (0..<200).map { "Clip prompt number \($0)" }
            let good = try #require(candidates.first { !EmulatorFault.promptFails($0, probability: 0.5) })
            let bad = try #require(candidates.first { EmulatorFault.promptFails($0, probability: 0.5) })
            let failing = try await startEmulator(faults: [.alwaysFail: 0.5])
            try await withService(folders, emulator: failing) { events, _ in
                try folders.drop("story/01.png", Self.keyframe(10))
                try folders.drop("story/02.png", Self.keyframe(120))
                try folders.drop("story/03.png", Self.keyframe(240))
                try folders.drop("story/01.txt", good)
                try folders.drop("story/02.txt", bad)
                try folders.drop("story/storyboard.yaml", "duration: 2\n")
                await events.wait(for: "the film to fail") { $0.contains { if case .filmFailed = $0 { true } else { false } } }
            }
            await failing.shutdown()
            let paidFirst = failing.stats.tasksCreated
            #expect(folders.files(in: "outbox").contains("story-01-02.mp4"), "the good clip is kept")
            let errorText = (try? String(contentsOfFile: folders.failed + "/story/story.error.txt", encoding: .utf8)) ?? ""
            #expect(errorText.contains("clip 2 of 2") && errorText.contains("story-02-03") && errorText.contains("hotfolder retry story-02-03"), "\(errorText)")
            #expect(errorText.contains("story-01-02.mp4"), "names the clips kept")

            // The provider works again; the operator retries the failed clip.
            let store = try SQLiteStateStore(directory: folders.state)
            let healthy = try await startEmulator()
            let control = JobControl(store: store, configuration: folders.configuration(baseURL: healthy.baseURL))
            let outcome = await control.retry(try control.find(["story-02-03"]).jobs)
            #expect(!outcome.hadErrors, "\(outcome.lines)")
            #expect(Set(folders.files(in: "inbox")) == ["story/01.png", "story/01.txt", "story/02.png", "story/02.txt", "story/03.png", "story/storyboard.yaml"])
            try await withService(folders, emulator: healthy) { events, _ in
                await events.wait(for: "the film") { $0.contains { if case .filmJoined = $0 { true } else { false } } }
            }
            await healthy.shutdown()
            #expect(healthy.stats.tasksCreated == 1, "only the failed clip is made again (before: \(paidFirst) tasks)")
            #expect(folders.files(in: "outbox").contains("story.mp4"))
            #expect(!FileManager.default.fileExists(atPath: folders.failed + "/story/story.error.txt"), "the film's stale error is gone")
            let clips = jsonObject(folders.outbox + "/story.json")["clips"] as? [[String: Any]]
            #expect(clips?.first?["reused_from_job"] != nil && clips?.last?["reused_from_job"] == nil)
        }
    }
}
