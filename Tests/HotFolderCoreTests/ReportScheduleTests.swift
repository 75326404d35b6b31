// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

/// When the morning report is due, with the clock passed in.
@Suite struct ReportScheduleTests {
    static let seven = ReportSchedule.TimeOfDay(hour: 7, minute: 0)!

    /// A wall-clock time in `zone`.
    static func date(_ text: String, _ zone: String = "UTC") -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zone)!
        let p = text.split(whereSeparator: { "- :".contains($0) }).map { Int($0)! }
        return calendar.date(from: DateComponents(year: p[0], month: p[1], day: p[2], hour: p[3], minute: p[4]))!
    }

    @Test func timeOfDayParses() {
        #expect(ReportSchedule.TimeOfDay("07:00")?.description == "07:00")
        #expect(ReportSchedule.TimeOfDay("6:30")?.description == "06:30")
        for bad in ["7", "24:00", "07:60", "07:0", "seven", "07:00:00", ""] {
            #expect(ReportSchedule.TimeOfDay(bad) == nil, "\(bad)")
        }
    }

    @Test func nextReportAfterTheLastOne() {
        let schedule = ReportSchedule(at: Self.seven, timeZone: TimeZone(identifier: "UTC")!)
        let last = Self.date("2026-12-02 07:00")
        #expect(schedule.decide(lastReport: last, now: Self.date("2026-12-02 09:15")) == .waitUntil(Self.date("2026-12-03 07:00")))
        #expect(schedule.decide(lastReport: last, now: Self.date("2026-12-03 06:59")) == .waitUntil(Self.date("2026-12-03 07:00")))
        #expect(schedule.decide(lastReport: last, now: Self.date("2026-12-03 07:00")) == .writeNow(since: last))
    }

    @Test func aReportMissedWhileDownIsWrittenAtStart() {
        let schedule = ReportSchedule(at: Self.seven, timeZone: TimeZone(identifier: "UTC")!)
        let last = Self.date("2026-11-29 07:00")
        // Down for three days: one report, for everything since the last one.
        #expect(schedule.decide(lastReport: last, now: Self.date("2026-12-02 11:40")) == .writeNow(since: last))
        // Down from 06:50 to 07:30: written at start, not a day late.
        #expect(schedule.decide(lastReport: Self.date("2026-12-01 07:00"), now: Self.date("2026-12-02 07:30"))
            == .writeNow(since: Self.date("2026-12-01 07:00")))
        // Up again before the time: nothing yet.
        #expect(schedule.decide(lastReport: Self.date("2026-12-01 07:00"), now: Self.date("2026-12-02 06:00"))
            == .waitUntil(Self.date("2026-12-02 07:00")))
    }

    @Test func aNewInstallationWaitsForTheNextTime() {
        let schedule = ReportSchedule(at: Self.seven, timeZone: TimeZone(identifier: "UTC")!)
        #expect(schedule.decide(lastReport: nil, now: Self.date("2026-12-02 09:00")) == .waitUntil(Self.date("2026-12-03 07:00")))
        #expect(schedule.previousSlot(atOrBefore: Self.date("2026-12-02 06:00")) == Self.date("2026-12-01 07:00"))
    }

    @Test func theTimeIsReadInTheConfiguredZone() {
        let schedule = ReportSchedule(at: Self.seven, timeZone: TimeZone(identifier: "America/New_York")!)
        // 07:00 in New York in December is 12:00 UTC.
        #expect(schedule.nextSlot(after: Self.date("2026-12-02 11:00")) == Self.date("2026-12-02 12:00"))
        #expect(schedule.nextSlot(after: Self.date("2026-12-02 12:00")) == Self.date("2026-12-03 12:00"))
    }

    @Test func daysTheClocksChange() {
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        // 2026-03-29: clocks go from 02:00 to 03:00; 07:00 CEST is 05:00 UTC (the day before it was 06:00 UTC).
        let seven = ReportSchedule(at: Self.seven, timeZone: berlin)
        #expect(seven.nextSlot(after: Self.date("2026-03-28 07:00", "Europe/Berlin")) == Self.date("2026-03-29 05:00"))
        #expect(seven.nextSlot(after: Self.date("2026-03-29 05:00")) == Self.date("2026-03-30 05:00"))
        // 02:30 does not exist that day: the report comes at 03:00 CEST (01:00 UTC).
        let gap = ReportSchedule(at: ReportSchedule.TimeOfDay(hour: 2, minute: 30)!, timeZone: berlin)
        #expect(gap.nextSlot(after: Self.date("2026-03-28 12:00")) == Self.date("2026-03-29 01:00"))
        // 2026-10-25: 02:30 happens twice; the report comes once, at the first (00:30 UTC), not again at 01:30.
        let twice = gap.nextSlot(after: Self.date("2026-10-24 12:00"))
        #expect(twice == Self.date("2026-10-25 00:30"))
        #expect(gap.nextSlot(after: twice) == Self.date("2026-10-26 01:30"))
        #expect(gap.decide(lastReport: twice, now: Self.date("2026-10-25 01:45")) == .waitUntil(Self.date("2026-10-26 01:30")))
    }
}
