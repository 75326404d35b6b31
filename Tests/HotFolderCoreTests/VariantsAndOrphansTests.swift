// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

/// `variants`/`seeds` and images that wait for a prompt.
@Suite struct VariantsAndOrphansTests {
    @Test func variantsMakeDistinctSeededJobs() throws {
        let plan = try Fixture.plan([("a.txt", "A"), ("a.yaml", "variants: 3\noutput_name: hero")])
        #expect(plan.jobs.map(\.name) == ["a-v1", "a-v2", "a-v3"])
        #expect(plan.jobs.map(\.outputName) == ["hero-v1", "hero-v2", "hero-v3"])
        let seeds = plan.jobs.compactMap(\.request.seed)
        #expect(Set(seeds).count == 3)
        #expect(plan.jobs.allSatisfy { $0.variantCount == 3 && $0.status == .valid })
        // Repeatable: planning twice gives the same seeds.
        #expect(try Fixture.plan([("a.txt", "A"), ("a.yaml", "variants: 3")]).jobs.compactMap(\.request.seed) == seeds)
        #expect(plan.totals.tokens == 3 * 102_960)
    }

    @Test func variantsCountUpFromAnExplicitSeed() throws {
        let plan = try Fixture.plan([("a.txt", "A"), ("a.yaml", "variants: 2\nseed: 4294967295")])
        #expect(plan.jobs.map(\.request.seed) == [4_294_967_295, 0])
        #expect(plan.jobs[1].settings["seed"]?.source.hasPrefix("variant 2 of 2") == true)
    }

    @Test func seedsListAndConflict() throws {
        let plan = try Fixture.plan([("a.txt", "A"), ("a.yaml", "seeds: [10, 20]")])
        #expect(plan.jobs.map(\.request.seed) == [10, 20])
        #expect(plan.jobs.first?.settings["variants"] == EffectiveSetting(value: "2", source: "inbox/a.yaml"))
        #expect(plan.jobs.first?.settings["seed"]?.value == "10")
        let conflict = try Fixture.plan([("a.txt", "A"), ("a.yaml", "seeds: [10, 20]\nvariants: 3")])
        #expect(conflict.jobs.first?.errors.map(\.field) == ["seeds"])
    }

    @Test func singleJobWithoutSeedStaysRandom() throws {
        #expect(try Fixture.single([("a.txt", "A")]).request.seed == nil)
    }

    @Test(arguments: [(599.0, JobStatus.waiting), (600.0, JobStatus.invalid)])
    func imageWithoutPromptWaitsThenFails(age: Double, status: JobStatus) throws {
        let source = Fixture.inbox([("cat.png", "1280x720")])
        let plan = try Fixture.plan(source, now: Fixture.t0.addingTimeInterval(age))
        let job = try #require(plan.jobs.first)
        #expect(job.status == status)
        if status == .waiting {
            #expect(job.errors.isEmpty)
            #expect(job.waitingFor == "a prompt")
            #expect(plan.totals.waiting == 1)
        } else {
            #expect(job.errors.map(\.message) == ["no prompt: add cat.txt, a `prompt:` in cat.yaml, or a folder default prompt."])
            #expect(job.errors.first?.file == "inbox/cat.png")
        }
    }

    @Test func orphanTimeoutCountsFromTheNewestFile() throws {
        var source = Fixture.inbox([("cat.png", "1280x720")])
        source.add("cat.yaml", text: "duration: 4", modified: Fixture.t0.addingTimeInterval(500))
        let plan = try Fixture.plan(source, now: Fixture.t0.addingTimeInterval(900))
        #expect(plan.jobs.first?.status == .waiting)
    }

    @Test func shotFolderWithoutPromptNamesPromptTxt() throws {
        let plan = try Fixture.plan(Fixture.inbox([("shots/s1/first_frame.png", "1280x720")]), orphanTimeout: 0)
        #expect(plan.jobs.first?.errors.first?.message.contains("add prompt.txt to the folder `s1`") == true)
    }
}
