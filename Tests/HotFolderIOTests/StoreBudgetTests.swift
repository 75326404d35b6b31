// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Synchronization
import Testing

/// Reservations against the caps, in the transaction that commits a job out of the queue: a real SQLite file,
/// concurrent writers, an injected clock for days and months.
@Suite struct StoreBudgetTests {
    let directory: TemporaryDirectory
    // Thursday 3 December 2026, 20:00 in Berlin.
    let clock = TestClock(Date(timeIntervalSince1970: 1_796_324_400))
    let store: SQLiteStateStore
    let berlin: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Berlin")!
        return calendar
    }()

    init() throws {
        directory = try TemporaryDirectory("store-budget")
        store = try SQLiteStateStore(directory: directory.file("state"), clock: clock.closure)
    }

    func job(_ name: String, lane: String = "") throws -> StoredJob {
        try store.insertJob(NewJob(name: name, lane: lane, specJSON: Data("{}".utf8)))
    }

    let leave = JobLifecycle.Commit(from: .ready, to: .submitting, message: "creating the task", counters: JobCounters(), spend: .reserve)

    func request(_ cost: Double, daily: Double? = nil, monthly: Double? = nil, lanes: [LaneCap] = []) -> BudgetRequest {
        BudgetRequest(cost: cost, tokens: 1000, caps: BudgetCaps(daily: daily, monthly: monthly), laneCaps: lanes, calendar: berlin)
    }

    /// Commits `id` out of the queue; the hold when a cap refuses it.
    func submit(_ id: UUID, _ budget: BudgetRequest) async throws -> BudgetHold? {
        do {
            try await store.commit(id, leave, budget: budget)
            return nil
        } catch StateStoreError.budgetHold(let hold) {
            return hold
        }
    }

    @Test func fiftyConcurrentSubmitsNeverOvershootTheCap() async throws {
        let jobs = try (0..<50).map { try job("j\($0)") }
        let holds = await withTaskGroup(of: BudgetHold?.self) { group in
            for job in jobs {
                group.addTask { (try? await self.submit(job.id, self.request(1, daily: 10.5))) ?? nil }
            }
            var holds: [BudgetHold] = []
            for await hold in group { if let hold { holds.append(hold) } }
            return holds
        }
        #expect(holds.count == 40)
        #expect(try store.countsByState()[.submitting] == 10, "exactly the jobs that fit left the queue")
        #expect(try store.countsByState()[.ready] == 40, "a refused commit writes nothing: the job is still queued")
        let summary = try store.spendSummary(now: clock.now, calendar: berlin)
        #expect(summary.day.reserved == 10 && summary.day.spent == 0)
        #expect(holds.allSatisfy { $0.reason.contains("daily budget $10.50 reached: $10.00 spent or reserved") })
    }

    @Test func aNewDayAndANewMonthStartFromNothing() async throws {
        let a = try job("a")
        #expect(try await submit(a.id, request(8, daily: 10, monthly: 15)) == nil)
        let b = try job("b")
        let held = try await submit(b.id, request(4, daily: 10, monthly: 15))
        // 4 hours later it is 4 December in Berlin.
        #expect(held?.until == clock.now.addingTimeInterval(4 * 3600))
        clock.advance(4 * 3600)
        #expect(try await submit(b.id, request(4, daily: 10, monthly: 15)) == nil, "a new day")
        let c = try job("c")
        clock.advance(12 * 3600)
        // 12 of 15 used this month; 5 more do not fit the month although the day has room.
        let monthly = try await submit(c.id, request(5, daily: 10, monthly: 15))
        #expect(monthly?.cap == .monthly)
        #expect(monthly?.reason.contains("resumes on 1 January at 00:00 Europe/Berlin") == true)
        clock.advance(28 * 86400)  // 1 January 2027
        #expect(try await submit(c.id, request(5, daily: 10, monthly: 15)) == nil)
    }

    @Test func raisingACapWithHotfolderBudgetLetsTheHeldJobThroughAndSurvivesARestart() async throws {
        let a = try job("a")
        #expect(try await submit(a.id, request(5, daily: 5)) == nil)
        let b = try job("b")
        #expect(try await submit(b.id, request(5, daily: 5)) != nil)
        try store.setBudgetOverride(.daily, value: 12)
        let reopened = try SQLiteStateStore(directory: directory.file("state"), clock: clock.closure)
        #expect(try reopened.budgetOverrides().daily?.value == 12)
        try await reopened.commit(b.id, leave, budget: request(5, daily: 5))
        #expect(try reopened.spendSummary(now: clock.now, calendar: berlin).day.reserved == 10, "reservations survive a restart")
        try reopened.setBudgetOverride(.daily, value: nil, clear: true)
        #expect(try reopened.budgetOverrides() == BudgetOverrides())
    }

    @Test func aLaneCapCountsItsFolderAndEverythingBelowItOnly() async throws {
        let acme = LaneCap(folder: "clients/acme", daily: 3)
        let inside = try job("spot", lane: "clients/acme/tv")
        #expect(try await submit(inside.id, request(2, lanes: [acme])) == nil)
        let other = try job("other", lane: "clients/acme-old")
        #expect(try await submit(other.id, request(2, lanes: [])) == nil, "a sibling with a longer name is not below the folder")
        let second = try job("second", lane: "clients/acme")
        let hold = try await submit(second.id, request(2, lanes: [acme]))
        #expect(hold?.cap == .lane("clients/acme"))
        let summary = try store.spendSummary(now: clock.now, calendar: berlin, laneFolders: ["clients/acme"])
        #expect(summary.lanes["clients/acme"]?.reserved == 2)
    }

    @Test func releasedReservationsFreeTheCapAndSettledOnesCountTheBilledTokens() async throws {
        let a = try job("a")
        #expect(try await submit(a.id, request(6, daily: 10)) == nil)
        // The task failed at the provider: not billed.
        try await store.commit(a.id, JobLifecycle.Commit(from: .submitting, to: .ready, message: "retry", counters: JobCounters(), spend: .release))
        #expect(try store.spendSummary(now: clock.now, calendar: berlin).day.used == 0)
        #expect(try await submit(a.id, request(6, daily: 10)) == nil)
        _ = try await store.recordTask(a.id, provider: "ark", taskID: "t1", status: "queued", nextPollAt: clock.now)
        // Billed 1,500 tokens against the 1,000 estimated: 9 dollars.
        try await store.commit(a.id, JobLifecycle.Commit(
            from: .submitted, to: .downloading, message: "ready", counters: JobCounters(),
            video: .init(url: "http://v", expiresAt: nil), spend: .settle(tokens: 1500)))
        let line = try store.spendSummary(now: clock.now, calendar: berlin).day
        #expect(line.spent == 9 && line.reserved == 0)
        #expect(try store.spend(ofJob: a.id) == SpendLine(spent: 9, reserved: 0))
        let b = try job("b")
        #expect(try await submit(b.id, request(2, daily: 10)) != nil, "9 spent + 2 is over 10")
    }

    @Test func aThresholdIsRecordedOnceAndTheCapReachedOnce() async throws {
        let a = try job("a")
        #expect(try await submit(a.id, request(6, daily: 10)) == nil)  // crosses 50 %
        #expect(try store.unannouncedBudgetAlerts().map(\.fraction) == [0.5])
        try store.markBudgetAlertsAnnounced(try store.unannouncedBudgetAlerts())
        let b = try job("b")
        let hold = try await submit(b.id, request(6, daily: 10))
        #expect(try store.recordBudgetAlert(#require(hold).alert))
        #expect(try !store.recordBudgetAlert(#require(hold).alert), "people are told once per cap and day")
        #expect(try store.unannouncedBudgetAlerts().map(\.type) == ["budget.exhausted"])
    }
}

/// Found by the clean-checkout run: `hotfolder status` (or a test's look at the database) opening a new database
/// while the service opened it too failed with "table … already exists": both applied the same migration.
@Suite struct ConcurrentOpenTests {
    @Test func manyOpenersOfANewDatabaseAtOnceAllSucceed() throws {
        for round in 0..<5 {
            let directory = try TemporaryDirectory("concurrent-open-\(round)")
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                do {
                    let store = try SQLiteStateStore(directory: directory.file("state"))
                    try store.close()
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        }
    }
}
