// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

/// Numbered frames with a prompt for their base make one first-and-last-frame job.
@Suite struct ImageSequenceTests {
    func frames(_ names: [String], size: String = "1280x720") -> [(String, String)] { names.map { ($0, size) } }

    @Test func framesAreReadAsRenderToolsWriteThem() {
        let images: Set<String> = ["png", "jpg"]
        #expect(ImageSequence.frame("shot_00001.png", imageExtensions: images)?.number == 1)
        #expect(ImageSequence.frame("shot.0042.png", imageExtensions: images)?.base == "shot")
        #expect(ImageSequence.frame("comp00042.png", imageExtensions: images)?.base == "comp")
        #expect(ImageSequence.frame("hero2.png", imageExtensions: images) == nil, "a short number glued to a name is a name")
        #expect(ImageSequence.frame("1.png", imageExtensions: images) == nil)
        #expect(ImageSequence.frame("poster_0003_Layer 2.png", imageExtensions: images)?.base == "poster_0003_Layer")
        #expect(ImageSequence.frame("shot_001.txt", imageExtensions: images) == nil)
    }

    @Test func anAfterEffectsSequenceWithItsPromptIsOneFirstAndLastFrameJob() throws {
        let names = (1...5).map { String(format: "shot_%05d.png", $0) }
        let job = try Fixture.single(frames(names) + [("shot.txt", "The camera flies through the frames"), ("shot.yaml", "model: quality")])
        #expect(job.name == "shot" && job.mode == .firstLastFrame && job.errors == [])
        #expect(job.images.map(\.path) == ["shot_00001.png", "shot_00005.png"])
        #expect(Set(job.inputFiles) == Set(names + ["shot.txt", "shot.yaml"]), "every frame moves with the job")
        #expect(job.readAs?["shot_00003.png"] == "frame 3 of 5 of the image sequence shot (moves with the job)")
    }

    @Test func dottedNumbersAndGapsWork() throws {
        let job = try Fixture.single(frames(["shot.0001.png", "shot.0002.png", "shot.0007.png"]) + [("shot.txt", "Frames"), ("shot.yaml", "model: quality")])
        #expect(job.images.map(\.path) == ["shot.0001.png", "shot.0007.png"])
        #expect(job.errors == [])
    }

    @Test func theFastModelGivesTheUsualLastFrameError() throws {
        let job = try Fixture.single(frames(["a_001.png", "a_002.png", "a_003.png"]) + [("a.txt", "Frames")])
        #expect(job.status == .invalid)
        #expect(job.errors.contains { $0.message.contains("quality") })
    }

    @Test func numberedArtboardsWithTheirOwnPromptsStaySeparateJobs() throws {
        let plan = try Fixture.plan(frames(["hero_1.png", "hero_2.png", "hero_3.png"]) + [
            ("hero_1.txt", "One"), ("hero_2.txt", "Two"), ("hero_3.txt", "Three"),
        ])
        #expect(plan.jobs.map(\.name) == ["hero_1", "hero_2", "hero_3"])
        #expect(plan.jobs.allSatisfy { $0.mode == .firstFrame && $0.errors.isEmpty })
    }

    @Test func aSequenceStillBeingWrittenWaitsUntilNoFrameCameForAWhile() throws {
        let files = frames(["s_0001.png", "s_0002.png", "s_0003.png"]) + [("s.txt", "Frames"), ("s.yaml", "model: quality")]
        let early = try Fixture.plan(Fixture.inbox(files), now: Fixture.t0.addingTimeInterval(10))
        #expect(early.jobs.first?.status == .waiting)
        #expect(early.jobs.first?.waitingFor?.hasPrefix("more frames of the sequence") == true)
        #expect(early.jobs.first?.lookAgainAt == Fixture.t0.addingTimeInterval(30))
        let settled = try Fixture.plan(Fixture.inbox(files), now: Fixture.t0.addingTimeInterval(31))
        #expect(settled.jobs.first?.status == .valid)
    }

    @Test func unpaddedNumbersWithoutAPromptAreNotASequence() throws {
        let plan = try Fixture.plan(frames(["take_1.png", "take_2.png", "take_3.png"]))
        #expect(plan.jobs.map(\.name) == ["take_1", "take_2", "take_3"])
        // Padded render frames wait together for their prompt.
        let render = try Fixture.plan(Fixture.inbox(frames(["r_0001.png", "r_0002.png", "r_0003.png"])), now: Fixture.t0.addingTimeInterval(10))
        #expect(render.jobs.map(\.name) == ["r"])
        #expect(render.jobs.first?.status == .waiting)
    }
}
