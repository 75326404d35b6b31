// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// When jobs may be *submitted* (`schedule: {windows: ["22:00-06:00"], days: [mon, tue]}`): a pure value.
///
/// Rules, as people write them:
/// - A window `HH:MM-HH:MM` opens at its start and closes at its end; one that ends earlier than it starts runs
///   over midnight (`22:00-06:00`); equal start and end means the whole day.
/// - `days` lists the days a window *starts* on: with `days: [fri]`, `22:00-06:00` is open from Friday 22:00
///   to Saturday 06:00. No `days` means every day; no windows means all day on the listed days.
/// - A schedule only gates submission: tasks already created are polled and downloaded at any hour.
/// Times are wall-clock times in the service's time zone (`timezone:`); a window's opening that a daylight
/// saving change skips opens at the next existing minute.
public struct SubmissionSchedule: Sendable, Hashable, Codable, CustomStringConvertible {
    /// One daily window, in minutes after midnight.
    public struct Window: Sendable, Hashable, Codable, CustomStringConvertible {
        public var start: Int
        public var end: Int

        /// Creates a window from minutes after midnight (0…1439).
        public init(start: Int, end: Int) {
            self.start = start
            self.end = end
        }

        /// Minutes the window stays open (1440 for a whole day).
        public var length: Int { end > start ? end - start : end + 1440 - start }

        public var description: String { "\(Self.clock(start))-\(Self.clock(end))" }

        static func clock(_ minutes: Int) -> String {
            String(format: "%02d:%02d", minutes / 60, minutes % 60)
        }

        /// Parses `22:00-06:00` (also `22-6`, `22:00–06:00`).
        public static func parse(_ text: String) -> Window? {
            let parts = text.replacingOccurrences(of: "–", with: "-").split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, let start = minutes(parts[0]), let end = minutes(parts[1]) else { return nil }
            return Window(start: start, end: end)
        }

        static func minutes(_ text: Substring) -> Int? {
            let pieces = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
            guard (1...2).contains(pieces.count), let hours = Int(pieces[0]), (0...24).contains(hours) else { return nil }
            let minutes = pieces.count == 2 ? Int(pieces[1]) : 0
            guard let minutes, (0...59).contains(minutes), pieces.count == 1 || pieces[1].count == 2 else { return nil }
            if hours == 24 { return minutes == 0 ? 0 : nil }
            return hours * 60 + minutes
        }
    }

    /// The daily windows (empty: all day).
    public var windows: [Window]
    /// The days windows start on, 1 = Sunday … 7 = Saturday as `Calendar` counts (empty: every day).
    public var days: Set<Int>

    /// Creates a schedule.
    public init(windows: [Window], days: Set<Int> = []) {
        self.windows = windows
        self.days = days
    }

    /// Day names as written, in `Calendar` weekday order.
    public static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// Parses written windows and days; the error says what is wrong and shows the right form.
    public static func parse(windows: [String], days: [String]) -> Result<SubmissionSchedule, ScheduleError> {
        var parsed: [Window] = []
        for text in windows {
            guard let window = Window.parse(text) else { return .failure(.badWindow(text)) }
            parsed.append(window)
        }
        var numbers: Set<Int> = []
        for text in days {
            let word = text.trimmingCharacters(in: .whitespaces).lowercased()
            if let range = dayRange(word) {
                numbers.formUnion(range)
            } else {
                return .failure(.badDay(text))
            }
        }
        return .success(SubmissionSchedule(windows: parsed, days: numbers))
    }

    /// `mon`, `monday`, or a range `mon-fri` (wrapping: `fri-mon`); `weekdays`, `weekends`.
    static func dayRange(_ word: String) -> Set<Int>? {
        if word == "weekdays" { return [2, 3, 4, 5, 6] }
        if word == "weekends" || word == "weekend" { return [1, 7] }
        let fullNames = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
        func day(_ text: Substring) -> Int? {
            let word = text.trimmingCharacters(in: .whitespaces)
            return (dayNames.firstIndex(of: word) ?? fullNames.firstIndex(of: word)).map { $0 + 1 }
        }
        let ends = word.split(separator: "-")
        if ends.count == 1, let one = day(ends[0]) { return [one] }
        guard ends.count == 2, let first = day(ends[0]), let last = day(ends[1]) else { return nil }
        var result: Set<Int> = [first]
        var current = first
        while current != last {
            current = current % 7 + 1
            result.insert(current)
        }
        return result
    }

    /// The one-line form `windows=22:00-06:00,01:00-02:00;days=mon,fri` a folder's `_defaults.yaml` block is
    /// stored as (see ``SettingsDocument``), parsed back.
    public static func parse(compact text: String) -> Result<SubmissionSchedule, ScheduleError> {
        var windows: [String] = []
        var days: [String] = []
        for part in text.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1)
            let items = pair.count == 2 ? pair[1].split(separator: ",").map(String.init) : []
            switch pair.first.map({ $0.trimmingCharacters(in: .whitespaces) }) {
            case "windows": windows += items
            case "days": days += items
            case let other: return .failure(.badKey(other ?? ""))
            }
        }
        return parse(windows: windows, days: days)
    }

    /// The compact form (see ``parse(compact:)``).
    public var compact: String {
        var parts: [String] = []
        if !windows.isEmpty { parts.append("windows=" + windows.map(\.description).joined(separator: ",")) }
        if !days.isEmpty { parts.append("days=" + days.sorted().map { Self.dayNames[$0 - 1] }.joined(separator: ",")) }
        return parts.joined(separator: ";")
    }

    /// `22:00–06:00 mon–fri`, for messages.
    public var description: String {
        let hours = windows.isEmpty ? "all day" : windows.map { "\(Window.clock($0.start))–\(Window.clock($0.end))" }.joined(separator: ", ")
        guard !days.isEmpty, days.count < 7 else { return hours }
        return hours + " on " + days.sorted().map { Self.dayNames[$0 - 1] }.joined(separator: ", ")
    }

    // MARK: - Asking

    /// Whether a job may be submitted at `date`.
    public func isOpen(at date: Date, calendar: Calendar) -> Bool {
        openInterval(containing: date, calendar: calendar) != nil
    }

    /// The next time the schedule opens, at or after `date` (`date` itself when it is open); nil when it never
    /// opens (no day is listed, which parsing does not produce).
    public func nextOpening(after date: Date, calendar: Calendar) -> Date? {
        if isOpen(at: date, calendar: calendar) { return date }
        var best: Date?
        let today = calendar.startOfDay(for: date)
        for offset in 0...8 {
            guard let day = calendar.date(byAdding: .day, value: offset, to: today) else { continue }
            for opening in openings(on: day, calendar: calendar) where opening.start > date {
                if best.map({ opening.start < $0 }) ?? true { best = opening.start }
            }
            if best != nil { break }
        }
        return best
    }

    /// The open interval that contains `date`, if any.
    func openInterval(containing date: Date, calendar: Calendar) -> DateInterval? {
        let today = calendar.startOfDay(for: date)
        // A window that started yesterday may still be open (over midnight).
        for offset in [-1, 0] {
            guard let day = calendar.date(byAdding: .day, value: offset, to: today) else { continue }
            for interval in openings(on: day, calendar: calendar) where interval.start <= date && date < interval.end {
                return interval
            }
        }
        return nil
    }

    /// The windows that start on the day beginning at `day` (a start of day), as intervals.
    func openings(on day: Date, calendar: Calendar) -> [DateInterval] {
        guard days.isEmpty || days.contains(calendar.component(.weekday, from: day)) else { return [] }
        let windows = windows.isEmpty ? [Window(start: 0, end: 0)] : windows
        return windows.compactMap { window in
            guard let start = Self.time(window.start, on: day, calendar: calendar) else { return nil }
            let endDay = window.end > window.start ? day : calendar.date(byAdding: .day, value: 1, to: day) ?? day
            guard let end = Self.time(window.end, on: endDay, calendar: calendar), end > start else { return nil }
            return DateInterval(start: start, end: end)
        }
    }

    /// The wall-clock time `minutes` after midnight on `day`; a time a DST change skips is the next that exists.
    static func time(_ minutes: Int, on day: Date, calendar: Calendar) -> Date? {
        calendar.date(
            bySettingHour: minutes / 60, minute: minutes % 60, second: 0, of: day, matchingPolicy: .nextTime,
            repeatedTimePolicy: .first, direction: .forward)
    }
}

/// Why a written schedule is wrong, as a sentence.
public enum ScheduleError: Error, Sendable, Hashable, CustomStringConvertible {
    case badWindow(String)
    case badDay(String)
    case badKey(String)

    public var description: String {
        switch self {
        case .badWindow(let text): "`\(text)` is not a window; write start-end in 24-hour time, e.g. \"22:00-06:00\""
        case .badDay(let text): "`\(text)` is not a day; write mon, tue, wed, thu, fri, sat, sun, a range such as mon-fri, weekdays or weekends"
        case .badKey(let text): "`\(text)` is not part of a schedule; it takes `windows` and `days`"
        }
    }
}

/// Spans of time as people read them: `3 h 12 min`, `45 min`, `2 d 3 h`, `20 s`.
public enum Span {
    public static func text(_ seconds: Double) -> String {
        let total = Int(max(0, seconds).rounded(.up))
        guard total >= 60 else { return "\(total) s" }
        let allMinutes = (total + 59) / 60
        let (days, hours, minutes) = (allMinutes / 1440, allMinutes % 1440 / 60, allMinutes % 60)
        if days > 0 { return hours > 0 ? "\(days) d \(hours) h" : "\(days) d" }
        if hours > 0 { return minutes > 0 ? "\(hours) h \(minutes) min" : "\(hours) h" }
        return "\(minutes) min"
    }
}
