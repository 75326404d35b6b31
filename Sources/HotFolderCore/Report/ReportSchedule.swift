// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// When the morning report is written: every day at a wall-clock time in a time zone, covering everything since
/// the previous report. Pure: the caller passes the time (tests never wait for 07:00).
///
/// On a day the clocks go forward and the time does not exist (02:30 in Europe/Berlin on the last Sunday of
/// March), the report is written at the first time after the gap; on a day they go back it is written once, at
/// the first of the two.
public struct ReportSchedule: Sendable, Hashable {
    /// A wall-clock time of day.
    public struct TimeOfDay: Sendable, Hashable, CustomStringConvertible {
        /// 0…23.
        public var hour: Int
        /// 0…59.
        public var minute: Int

        /// Creates a time; nil when out of range.
        public init?(hour: Int, minute: Int) {
            guard (0...23).contains(hour), (0...59).contains(minute) else { return nil }
            self.hour = hour
            self.minute = minute
        }

        /// Parses `HH:MM` (`7:00`, `07:00`, `23:30`).
        public init?(_ text: String) {
            let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[1].count == 2, (1...2).contains(parts[0].count),
                let hour = Int(parts[0]), let minute = Int(parts[1])
            else { return nil }
            self.init(hour: hour, minute: minute)
        }

        /// `07:00`.
        public var description: String { String(format: "%02d:%02d", hour, minute) }
    }

    /// What the scheduler should do now.
    public enum Decision: Sendable, Hashable {
        /// Write a report for `since…now` at once: its time has passed since the previous report (also one
        /// missed while the service was down).
        case writeNow(since: Date)
        /// Nothing is due: wait until this time, then ask again.
        case waitUntil(Date)
    }

    /// The time of day.
    public var at: TimeOfDay
    /// The zone `at` is read in.
    public var timeZone: TimeZone

    /// Creates a schedule.
    public init(at: TimeOfDay, timeZone: TimeZone) {
        self.at = at
        self.timeZone = timeZone
    }

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// The report time on the calendar day of `date` (in the time zone).
    public func slot(onDayOf date: Date) -> Date {
        let calendar = self.calendar
        let day = calendar.startOfDay(for: date)
        var components = calendar.dateComponents([.year, .month, .day], from: day)
        components.hour = at.hour
        components.minute = at.minute
        components.second = 0
        if let exact = calendar.date(from: components), calendar.component(.hour, from: exact) == at.hour,
            calendar.component(.minute, from: exact) == at.minute
        {
            // On a day the clocks go back, `date(from:)` may pick the second of two equal wall times.
            let earlier = exact.addingTimeInterval(-3600)
            if calendar.component(.hour, from: earlier) == at.hour, calendar.component(.minute, from: earlier) == at.minute,
                calendar.isDate(earlier, inSameDayAs: exact)
            {
                return earlier
            }
            return exact
        }
        // The wall time does not exist that day (clocks went forward): the first moment after the gap.
        let next = calendar.nextDate(
            after: day, matching: DateComponents(hour: at.hour, minute: at.minute), matchingPolicy: .nextTime,
            repeatedTimePolicy: .first, direction: .forward)
        return next ?? day.addingTimeInterval(Double(at.hour * 3600 + at.minute * 60))
    }

    /// The latest report time at or before `date`.
    public func previousSlot(atOrBefore date: Date) -> Date {
        let today = slot(onDayOf: date)
        if today <= date { return today }
        let yesterday = calendar.date(byAdding: .day, value: -1, to: calendar.startOfDay(for: date)) ?? date.addingTimeInterval(-86_400)
        return slot(onDayOf: yesterday)
    }

    /// The first report time strictly after `date`.
    public func nextSlot(after date: Date) -> Date {
        let today = slot(onDayOf: date)
        if today > date { return today }
        let calendar = self.calendar
        let tomorrow = calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: date)) ?? date.addingTimeInterval(86_400)
        return slot(onDayOf: tomorrow)
    }

    /// What to do at `now`, given when the previous report was written (nil: never; the latest report time
    /// before now then counts as the previous report, so a new installation does not write one at once).
    public func decide(lastReport: Date?, now: Date) -> Decision {
        let last = lastReport ?? previousSlot(atOrBefore: now)
        let due = previousSlot(atOrBefore: now)
        if due > last { return .writeNow(since: last) }
        return .waitUntil(nextSlot(after: max(now, last)))
    }
}
