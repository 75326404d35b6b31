// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

/// A folder with `storyboard.yaml` and numbered keyframes: one first-and-last-frame clip per pair of neighbours.
@Suite struct StoryboardPlanTests {
    let keyframes: [(String, String)] = [("lane/story/01.png", "1280x720"), ("lane/story/02.png", "1280x720"), ("lane/story/03.png", "1280x720")]

    @Test func eachPairOfNeighboursIsAClipWithItsOwnPrompt() throws {
        let plan = try Fixture.plan(keyframes + [
            ("lane/story/storyboard.yaml", "duration: 5"), ("lane/story/01.txt", "The door opens"), ("lane/story/02.txt", "The hall fills with light"),
            ("lane/story/notes.md", "ideas"),
        ])
        #expect(plan.jobs.map(\.name) == ["story-01-02", "story-02-03"])
        let first = plan.jobs[0], second = plan.jobs[1]
        #expect(first.status == .valid && second.status == .valid, "\(first.errors) \(second.errors)")
        #expect(first.mode == .firstLastFrame && first.lane == "lane")
        #expect(first.images.map(\.path) == ["lane/story/01.png", "lane/story/02.png"])
        #expect(second.images.map(\.path) == ["lane/story/02.png", "lane/story/03.png"])
        #expect(first.request.prompt == "The door opens" && second.request.prompt == "The hall fills with light")
        #expect(first.request.model == SeedanceModel.quality.rawValue, "a storyboard's clips need the quality model")
        #expect(first.settings["model"]?.source.hasPrefix("storyboard") == true)
        #expect(first.storyboard == StoryboardClip(film: "story", folder: "lane/story", index: 1, count: 2, from: "lane/story/01.png", to: "lane/story/02.png"))
        #expect(second.storyboard?.index == 2)
        #expect(first.inputFiles == second.inputFiles, "every file of the storyboard moves with the film")
        #expect(!first.inputFiles.contains("lane/story/notes.md"), "files that are not part of it stay where they are")
        #expect(first.readAs?["lane/story/02.txt"] == "prompt of the clip 02 → 03 of story")
        #expect(first.readAs?["lane/story/03.png"] == "keyframe 3 of 3 of the storyboard story")
        #expect(first.readAs?["lane/story/notes.md"] == "not part of the storyboard story (left where it is)")
    }

    @Test func onePromptServesEveryClipWithoutItsOwn() throws {
        let plan = try Fixture.plan(keyframes + [
            ("lane/story/storyboard.yaml", ""), ("lane/story/prompt.txt", "A slow dolly"), ("lane/story/02.txt", "A whip pan"),
        ])
        #expect(plan.jobs.map(\.request.prompt) == ["A slow dolly", "A whip pan"])
        #expect(plan.jobs.allSatisfy { $0.status == .valid })
    }

    @Test func keyframesAreOrderedByNumberNotByName() throws {
        let plan = try Fixture.plan([
            ("s/9.png", "1280x720"), ("s/10.png", "1280x720"), ("s/storyboard.yaml", "prompt: Move"),
        ])
        #expect(plan.jobs.map(\.name) == ["s-9-10"])
        #expect(plan.jobs.first?.lane == "")
    }

    @Test func aStoryboardWithAnyProblemIsOneInvalidJobAndNothingIsSent() throws {
        let plan = try Fixture.plan(keyframes + [
            ("lane/story/storyboard.yaml", "model: fast"), ("lane/story/prompt.txt", "Go"), ("lane/story/03.txt", "Nothing after the last"),
        ])
        #expect(plan.jobs.count == 1)
        let job = try #require(plan.jobs.first)
        #expect(job.name == "story" && job.status == .invalid && job.storyboard == nil)
        #expect(job.errors.contains { $0.message.contains("quality") }, "the usual last-frame rule")
        #expect(job.errors.contains { $0.message.contains("03 is the last keyframe") })
        #expect(Set(job.inputFiles).isSuperset(of: ["lane/story/01.png", "lane/story/storyboard.yaml", "lane/story/03.txt"]))
    }

    @Test func tooFewKeyframesVariantsAndDuplicatesAreRefused() throws {
        let one = try Fixture.single([("s/01.png", "1280x720"), ("s/storyboard.yaml", "prompt: Go")])
        #expect(one.status == .invalid && one.errors.contains { $0.message.contains("at least two numbered keyframes") })
        let variants = try Fixture.plan(keyframes + [("lane/story/storyboard.yaml", "variants: 2\nprompt: Go")])
        #expect(variants.jobs.count == 1 && variants.jobs[0].errors.contains { $0.message.contains("variants") })
        let twice = try Fixture.plan(keyframes + [("lane/story/1.jpg", "1280x720"), ("lane/story/storyboard.yaml", "prompt: Go")])
        #expect(twice.jobs.count == 1 && twice.jobs[0].errors.contains { $0.message.contains("same number") })
    }

    @Test func aClipWithoutAPromptMakesTheWholeFilmWait() throws {
        let files = keyframes + [("lane/story/storyboard.yaml", ""), ("lane/story/01.txt", "Only the first")]
        let early = try Fixture.plan(Fixture.inbox(files), now: Fixture.t0.addingTimeInterval(10))
        #expect(early.jobs.count == 2 && early.jobs.allSatisfy { $0.status == .waiting }, "no clip is sent while another cannot be")
        let late = try Fixture.plan(Fixture.inbox(files), now: Fixture.t0.addingTimeInterval(3600))
        #expect(late.jobs.count == 1 && late.jobs[0].status == .invalid)
        #expect(late.jobs[0].errors.contains { $0.message.contains("prompt.txt") && $0.message.contains("story") })
    }

    @Test func aChangedFileInAStoryboardMakesThePlannerLookAtTheWholeFolder() {
        #expect(FileNameRules.concernsWholeFolder("storyboard.yaml"))
        #expect(StoryboardLayout.isMarker("Storyboard.YML") && !StoryboardLayout.isMarker("storyboard.txt"))
    }

    @Test func aZipArchiveIsReadAsSomethingTheServiceUnpacks() throws {
        let plan = try Fixture.plan([("exports/figma.zip", "PK"), ("sunset.txt", "A sunset")])
        #expect(plan.archives?["exports/figma.zip"]?.contains("exports/figma/ (refusing unsafe entries)") == true, "\(String(describing: plan.archives))")
        let json = String(decoding: try JSONEncoder().encode(plan), as: UTF8.self)
        #expect(json.contains("\"archives\""))
        #expect(try Fixture.plan([("sunset.txt", "A sunset")]).archives == nil)
    }

    @Test func aStoryboardCopiedFileByFileIsNotPaidForAsJobsBeforeItsStoryboardYamlArrives() throws {
        var options = PlannerOptions(config: [:], orphanTimeout: 600)
        options.sequenceSettle = 30
        let planner = DropPlanner(options: options)
        // Copied in name order: the keyframes and prompts are there, storyboard.yaml not yet.
        let copying = keyframes + [("lane/story/01.txt", "The door opens"), ("lane/story/prompt.txt", "A slow pan")]
        let early = try planner.plan(Fixture.inbox(copying), now: Fixture.t0.addingTimeInterval(5))
        #expect(!early.jobs.isEmpty && early.jobs.allSatisfy { $0.status == .waiting }, "\(early.jobs.map { ($0.name, $0.status) })")
        #expect(early.jobs.contains { $0.waitingFor?.contains("storyboard.yaml is still on its way") == true })
        // Once it arrives the folder is a storyboard; with no storyboard.yaml after the wait, the usual rules apply.
        let arrived = try planner.plan(Fixture.inbox(copying + [("lane/story/storyboard.yaml", "")]), now: Fixture.t0.addingTimeInterval(6))
        #expect(arrived.jobs.map(\.name) == ["story-01-02", "story-02-03"])
        let later = try planner.plan(Fixture.inbox(copying), now: Fixture.t0.addingTimeInterval(31))
        #expect(later.jobs.contains { $0.status == .valid })
        // Numbered pages without numbered prompts (a Canva deck with a folder prompt) do not wait.
        let deck = try planner.plan(Fixture.inbox([("deck/1.png", "1280x720"), ("deck/2.png", "1280x720"), ("deck/_defaults.yaml", "prompt: Slide")]), now: Fixture.t0.addingTimeInterval(5))
        #expect(deck.jobs.count == 2 && deck.jobs.allSatisfy { $0.status == .valid })
    }
}
