// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

/// Time windows and budget caps as pure values, with an injected clock and time zone.
@Suite struct OvernightRulesTests {
    let berlin: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Berlin")!
        return calendar
    }()

    /// A wall-clock time in Berlin.
    func at(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int = 0) -> Date {
        berlin.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
    }

    func schedule(_ windows: [String], _ days: [String] = []) throws -> SubmissionSchedule {
        try SubmissionSchedule.parse(windows: windows, days: days).get()
    }

    // MARK: Windows

    @Test func aWindowOverMidnightIsOpenOnBothSidesOfIt() throws {
        let night = try schedule(["22:00-06:00"])
        // Thursday 3 December 2026.
        #expect(!night.isOpen(at: at(2026, 12, 3, 21, 59), calendar: berlin))
        #expect(night.isOpen(at: at(2026, 12, 3, 22, 0), calendar: berlin))
        #expect(night.isOpen(at: at(2026, 12, 4, 5, 59), calendar: berlin))
        #expect(!night.isOpen(at: at(2026, 12, 4, 6, 0), calendar: berlin))
        #expect(night.nextOpening(after: at(2026, 12, 3, 18, 48), calendar: berlin) == at(2026, 12, 3, 22, 0))
        #expect(Span.text(at(2026, 12, 3, 22, 0).timeIntervalSince(at(2026, 12, 3, 18, 48))) == "3 h 12 min")
    }

    @Test func listedDaysAreTheDaysAWindowStartsOn() throws {
        let weekdays = try schedule(["22:00-06:00"], ["mon", "tue", "wed", "thu", "fri"])
        // Friday 4 December 22:00 opens; it runs into Saturday morning.
        #expect(weekdays.isOpen(at: at(2026, 12, 5, 3, 0), calendar: berlin))
        // Saturday night is not listed: closed, and the next opening is Monday 22:00.
        #expect(!weekdays.isOpen(at: at(2026, 12, 5, 23, 0), calendar: berlin))
        #expect(!weekdays.isOpen(at: at(2026, 12, 7, 3, 0), calendar: berlin), "Sunday's window is not listed")
        #expect(weekdays.nextOpening(after: at(2026, 12, 5, 23, 0), calendar: berlin) == at(2026, 12, 7, 22, 0))
        #expect(try schedule([], ["mon-fri"]) == schedule([], ["weekdays"]))
        #expect(try schedule([], ["fri-mon"]).days == [6, 7, 1, 2])
    }

    @Test func equalStartAndEndIsTheWholeDayAndNoWindowsIsAlways() throws {
        let allDay = try schedule(["09:00-09:00"])
        #expect(allDay.isOpen(at: at(2026, 12, 3, 8, 59), calendar: berlin))
        #expect(allDay.isOpen(at: at(2026, 12, 3, 9, 0), calendar: berlin))
        let sundays = try schedule([], ["sun"])
        #expect(sundays.isOpen(at: at(2026, 12, 6, 23, 59), calendar: berlin))
        #expect(!sundays.isOpen(at: at(2026, 12, 7, 0, 0), calendar: berlin))
    }

    @Test func aWindowOverADaylightSavingChangeStillOpensAndCloses() throws {
        // 29 March 2026: 02:00 does not exist in Berlin; 25 October 2026: 02:00–03:00 happens twice.
        let early = try schedule(["02:30-04:00"])
        let opens = early.nextOpening(after: at(2026, 3, 29, 0, 0), calendar: berlin)!
        #expect(opens == at(2026, 3, 29, 3, 0) || berlin.component(.hour, from: opens) == 3, "a skipped start opens at the next existing time")
        #expect(early.isOpen(at: at(2026, 3, 29, 3, 30), calendar: berlin))
        #expect(early.isOpen(at: at(2026, 10, 25, 3, 30), calendar: berlin))
    }

    @Test func badWindowsAndDaysSayWhatIsRight() throws {
        #expect(throws: ScheduleError.badWindow("25:00-06:00")) { try SubmissionSchedule.parse(windows: ["25:00-06:00"], days: []).get() }
        #expect(throws: ScheduleError.badDay("mondai")) { try SubmissionSchedule.parse(windows: [], days: ["mondai"]).get() }
        #expect("\(ScheduleError.badWindow("x"))".contains("\"22:00-06:00\""))
        #expect(try SubmissionSchedule.parse(compact: "windows=22:00-06:00,12:00-13:00;days=sat,sun").get()
            == SubmissionSchedule(windows: [.init(start: 1320, end: 360), .init(start: 720, end: 780)], days: [7, 1]))
    }

    // MARK: Budgets

    func gate(daily: Double? = nil, monthly: Double? = nil, lanes: [LaneCap] = []) -> BudgetGate {
        BudgetGate(caps: BudgetCaps(daily: daily, monthly: monthly), laneCaps: lanes, calendar: berlin)
    }

    @Test func aJobThatWouldCrossTheDailyCapIsHeldUntilMidnightWithAReasonPeopleCanRead() {
        let now = at(2026, 12, 3, 21, 0)
        let decision = gate(daily: 50).decide(cost: 0.4, totals: SpendTotals(daily: 49.8), now: now)
        guard case .hold(let cap, let reason, let until, let alert) = decision else {
            Issue.record("admitted: \(decision)")
            return
        }
        #expect(cap == .daily)
        #expect(reason.hasPrefix("daily budget $50.00 reached: $49.80 spent or reserved; resumes at 00:00 Europe/Berlin, or raise budget.daily"))
        #expect(until == at(2026, 12, 4, 0, 0))
        #expect(alert.type == "budget.exhausted")
        #expect(gate(daily: 50).decide(cost: 0.2, totals: SpendTotals(daily: 49.8), now: now) == .admit(alerts: []), "exactly at the cap fits")
    }

    @Test func theMonthlyCapResumesOnTheFirstOfTheNextMonth() {
        let decision = gate(monthly: 800).decide(cost: 2, totals: SpendTotals(monthly: 799), now: at(2026, 12, 31, 23, 0))
        guard case .hold(_, let reason, let until, _) = decision else {
            Issue.record("admitted")
            return
        }
        #expect(until == at(2027, 1, 1, 0, 0))
        #expect(reason.contains("resumes on 1 January at 00:00 Europe/Berlin"))
    }

    @Test func laneCapsCoverTheirFolderAndEverythingBelowIt() {
        let acme = LaneCap(folder: "clients/acme", daily: 10)
        #expect(acme.covers("clients/acme") && acme.covers("clients/acme/spots"))
        #expect(!acme.covers("clients/acme-old") && !acme.covers("clients"))
        let decision = gate(daily: 100, lanes: [acme]).decide(cost: 1, totals: SpendTotals(daily: 20, lanes: ["clients/acme": 9.5]), now: at(2026, 12, 3, 12))
        guard case .hold(let cap, let reason, _, _) = decision else {
            Issue.record("admitted")
            return
        }
        #expect(cap == .lane("clients/acme"))
        #expect(reason.contains("lane_budget_daily in clients/acme/_defaults.yaml"))
    }

    @Test func aJobDearerThanTheWholeCapWaitsUntilTheCapIsRaised() {
        guard case .hold(_, let reason, let until, _) = gate(daily: 1).decide(cost: 2.5, totals: SpendTotals(), now: at(2026, 12, 3, 12)) else {
            Issue.record("admitted")
            return
        }
        #expect(until == nil)
        #expect(reason.contains("more than the whole daily budget"))
    }

    @Test func thresholdsAreReportedOnceWhenCrossed() {
        let caps = BudgetCaps(daily: 10, alertAt: [0.5, 0.8])
        let gate = BudgetGate(caps: caps, laneCaps: [], calendar: berlin)
        #expect(gate.decide(cost: 1, totals: SpendTotals(daily: 3), now: at(2026, 12, 3, 12)) == .admit(alerts: []))
        guard case .admit(let alerts) = gate.decide(cost: 4, totals: SpendTotals(daily: 4.5), now: at(2026, 12, 3, 12)) else {
            Issue.record("held")
            return
        }
        #expect(alerts.map(\.fraction) == [0.5, 0.8])
        #expect(alerts.first?.period == "2026-12-03")
        #expect(alerts.last?.message == "80 % of the daily budget used: $8.50 of $10.00")
    }

    @Test func periodsAreCalendarDaysInTheConfiguredZone() {
        // 23:30 UTC on 3 December is already 4 December in Berlin.
        let late = Date(timeIntervalSince1970: 1_796_340_600)  // 2026-12-03T23:30:00Z
        #expect(SpendPeriod(late, calendar: berlin).day == "2026-12-04")
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        #expect(SpendPeriod(late, calendar: utc).day == "2026-12-03")
        #expect(SpendPeriod(late, calendar: utc).month == "2026-12")
    }
}
