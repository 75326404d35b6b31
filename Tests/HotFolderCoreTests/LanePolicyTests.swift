// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

/// `lane_budget_daily` and `schedule` in a folder's `_defaults.yaml`: read by the planner into the job's lane policy.
@Suite struct LanePolicyTests {
    @Test func capsAddUpFromTheInboxDownAndTheNearestScheduleWins() throws {
        let job = try Fixture.single([
            ("_defaults.yaml", "lane_budget_daily: 40\nschedule: {windows: [\"22:00-06:00\"], days: [mon-fri]}"),
            ("clients/acme/_defaults.yaml", "lane_budget_daily: 10\nschedule:\n  windows:\n    - \"01:00-05:00\"\nduration: 3"),
            ("clients/acme/spot.txt", "A red kite over the dunes"),
        ])
        #expect(job.errors == [])
        #expect(job.request.duration == 3, "ordinary settings beside them still apply")
        #expect(job.lanePolicy?.budgets == [LaneCap(folder: "", daily: 40), LaneCap(folder: "clients/acme", daily: 10)])
        #expect(job.lanePolicy?.schedule == SubmissionSchedule(windows: [.init(start: 60, end: 300)]))
        #expect(job.lanePolicy?.scheduleSource == "inbox/clients/acme/_defaults.yaml")
    }

    @Test func aJobOutsideTheFolderHasNoneOfItsPolicy() throws {
        let plan = try Fixture.plan([("acme/_defaults.yaml", "lane_budget_daily: 10"), ("other/a.txt", "A kite")])
        #expect(plan.jobs.first?.lanePolicy == nil)
    }

    @Test func aLaneMayRunOnArksOfflineTierAtHalfThePrice() throws {
        let files = [("night/_defaults.yaml", "service_tier: flex\nexecution_expires_after: 86400"), ("night/a.txt", "A kite"), ("day/b.txt", "A kite")]
        var options = PlannerOptions(config: [:], orphanTimeout: 600)
        options.provider = .ark
        let plan = try DropPlanner(options: options).plan(Fixture.inbox(files), now: Fixture.t0.addingTimeInterval(3600))
        let night = try #require(plan.jobs.first { $0.lane == "night" })
        let day = try #require(plan.jobs.first { $0.lane == "day" })
        #expect(night.errors == [])
        #expect(night.request.serviceTier == "flex" && night.request.executionExpiresAfter == 86400)
        #expect(abs((night.estimate?.cost ?? 0) * 2 - (day.estimate?.cost ?? 0)) < 1e-9)
        #expect(day.request.serviceTier == nil)
        // The gateway has no offline tier: said before anything is sent.
        let gateway = try Fixture.single([("_defaults.yaml", "service_tier: flex"), ("a.txt", "A kite")])
        #expect(gateway.errors.contains { $0.message.contains("it is an Ark setting") })
        #expect(try Fixture.single([("_defaults.yaml", "service_tier: cheap"), ("a.txt", "A kite")]).errors.contains { $0.message.contains("`flex`") })
    }

    @Test func wrongValuesAreClearErrorsOnTheJobsBelow() throws {
        let badBudget = try Fixture.single([("_defaults.yaml", "lane_budget_daily: lots"), ("a.txt", "A kite")])
        #expect(badBudget.errors.contains { $0.message.contains("lane_budget_daily") && $0.message.contains("lane_budget_daily: 10") })
        let badWindow = try Fixture.single([("_defaults.yaml", "schedule: {windows: [\"25:00-06:00\"]}"), ("a.txt", "A kite")])
        #expect(badWindow.errors.contains { $0.message.contains("`25:00-06:00` is not a window") })
        let inSidecar = try Fixture.single([("a.txt", "A kite"), ("a.yaml", "lane_budget_daily: 3")])
        #expect(!inSidecar.errors.isEmpty, "a lane cap belongs in a folder's _defaults.yaml, not a sidecar")
    }
}
