// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// Everything the morning report shows, as a plain value: the period, totals, spend against each budget and per
/// lane, and one entry per job. ``html()`` and ``csv()`` render it; nothing here reads a file or a clock.
///
/// The service fills it from the state database (`MorningReportBuilder` in HotFolderApp); tests build it by hand.
public struct MorningReport: Sendable, Hashable {
    /// How a job ended, or why it is still waiting, as the report groups them.
    public enum Outcome: String, Sendable, Hashable, CaseIterable, Codable {
        /// Failed (or rejected before any money was spent): a person must act.
        case failed
        /// Held by a budget or a time window: it goes by itself later.
        case held
        /// Its create call's outcome is unknown: a person decides whether to send it again.
        case uncertain
        /// The video is in the outbox.
        case done
        /// Cancelled by an operator or at the provider.
        case cancelled

        /// The order cards are shown in: what needs a person first.
        public var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }
    }

    /// One budget's spend over its own period.
    public struct BudgetLine: Sendable, Hashable {
        /// What people call the budget (`nightly`, `daily`, `lane portrait`).
        public var name: String
        /// The cap in US dollars.
        public var cap: Double
        /// What finished jobs cost so far in the budget's period.
        public var spent: Double
        /// What jobs under way have reserved.
        public var reserved: Double
        /// When the budget starts again from zero; nil when it never does.
        public var resetsAt: Date?

        /// Creates a line.
        public init(name: String, cap: Double, spent: Double, reserved: Double = 0, resetsAt: Date? = nil) {
            self.name = name
            self.cap = cap
            self.spent = spent
            self.reserved = reserved
            self.resetsAt = resetsAt
        }

        /// What is left of the cap (never below zero).
        public var left: Double { max(0, cap - spent - reserved) }
    }

    /// Jobs and spend of one lane (an inbox subfolder; "" is the inbox root).
    public struct LaneLine: Sendable, Hashable {
        /// The lane.
        public var lane: String
        /// Jobs of the lane in the report.
        public var jobs: Int
        /// Videos it produced.
        public var done: Int
        /// What its finished videos cost.
        public var spent: Double

        /// Creates a line.
        public init(lane: String, jobs: Int, done: Int, spent: Double) {
            self.lane = lane
            self.jobs = jobs
            self.done = done
            self.spent = spent
        }
    }

    /// One job in the report.
    public struct Entry: Sendable, Hashable {
        /// The job's name (the output's name for a finished job).
        public var name: String
        /// The lane ("" for the inbox root).
        public var lane: String
        /// How it ended or why it waits.
        public var outcome: Outcome
        /// The prompt as sent (the page shows an excerpt).
        public var prompt: String
        /// The model's short name (`fast`, `quality`) or full name.
        public var model: String
        /// Seconds of video asked for.
        public var duration: Int?
        /// `16:9`, `9:16`, ….
        public var ratio: String?
        /// `480p`, `720p`, `1080p`.
        public var resolution: String?
        /// What the job cost in US dollars (for a finished video) or would cost (for one still to go); nil when unknown.
        public var cost: Double?
        /// When the job was queued.
        public var queuedAt: Date
        /// When it reached its present state (finished, failed, held).
        public var updatedAt: Date
        /// The video, relative to the report's folder (`../portrait/cat.mp4`); nil when there is none.
        public var videoPath: String?
        /// The poster frame, relative to the report's folder; nil when none was made.
        public var posterPath: String?
        /// For a failed or cancelled job: the failure category (`moderation`, `invalid`, …).
        public var category: String?
        /// Why it failed, is held or is uncertain, in the service's words.
        public var reason: String?
        /// What a person should do about it.
        public var advice: String?
        /// For a held job: when it goes by itself; for an uncertain one: its next search.
        public var nextAttemptAt: Date?

        /// Creates an entry.
        public init(
            name: String, lane: String, outcome: Outcome, prompt: String, model: String, duration: Int? = nil,
            ratio: String? = nil, resolution: String? = nil, cost: Double? = nil, queuedAt: Date, updatedAt: Date,
            videoPath: String? = nil, posterPath: String? = nil, category: String? = nil, reason: String? = nil,
            advice: String? = nil, nextAttemptAt: Date? = nil
        ) {
            self.name = name
            self.lane = lane
            self.outcome = outcome
            self.prompt = prompt
            self.model = model
            self.duration = duration
            self.ratio = ratio
            self.resolution = resolution
            self.cost = cost
            self.queuedAt = queuedAt
            self.updatedAt = updatedAt
            self.videoPath = videoPath
            self.posterPath = posterPath
            self.category = category
            self.reason = reason
            self.advice = advice
            self.nextAttemptAt = nextAttemptAt
        }

        /// `lane/name`, or `name` in the inbox root.
        public var displayName: String { lane.isEmpty ? name : lane + "/" + name }

        /// Seconds from queued to its present state.
        public var secondsTaken: Double { max(0, updatedAt.timeIntervalSince(queuedAt)) }
    }

    /// The report's start (the previous report) and end (when it was made).
    public var period: DateInterval
    /// The zone dates and times are shown in.
    public var timeZone: TimeZone
    /// Budgets and their spend; empty when none is set (the page then says so).
    public var budgets: [BudgetLine]
    /// Every job of the report, in any order (``sortedEntries`` orders them).
    public var entries: [Entry]
    /// The contact sheet's file name beside the page (`2026-12-03-contact.jpg`); nil when none was made.
    public var contactSheet: String?
    /// Why there is no contact sheet, when there is none (shown instead of it).
    public var contactSheetNote: String?

    /// Creates a report.
    public init(
        period: DateInterval, timeZone: TimeZone, budgets: [BudgetLine] = [], entries: [Entry],
        contactSheet: String? = nil, contactSheetNote: String? = nil
    ) {
        self.period = period
        self.timeZone = timeZone
        self.budgets = budgets
        self.entries = entries
        self.contactSheet = contactSheet
        self.contactSheetNote = contactSheetNote
    }

    /// Failed first, then held and uncertain (they need a person or say when they go), then done, then
    /// cancelled; within each group, oldest first, then by name.
    public var sortedEntries: [Entry] {
        entries.sorted { a, b in
            if a.outcome.rank != b.outcome.rank { return a.outcome.rank < b.outcome.rank }
            if a.updatedAt != b.updatedAt { return a.updatedAt < b.updatedAt }
            return a.displayName < b.displayName
        }
    }

    /// How many jobs ended (or wait) each way; outcomes without jobs count 0.
    public var totals: [Outcome: Int] {
        var counts = Dictionary(uniqueKeysWithValues: Outcome.allCases.map { ($0, 0) })
        for entry in entries { counts[entry.outcome, default: 0] += 1 }
        return counts
    }

    /// What the finished videos cost, all lanes together.
    public var spent: Double {
        entries.filter { $0.outcome == .done }.compactMap(\.cost).reduce(0, +)
    }

    /// Jobs, videos and spend per lane, by lane name (the inbox root first).
    public var lanes: [LaneLine] {
        var lines: [String: LaneLine] = [:]
        for entry in entries {
            var line = lines[entry.lane] ?? LaneLine(lane: entry.lane, jobs: 0, done: 0, spent: 0)
            line.jobs += 1
            if entry.outcome == .done {
                line.done += 1
                line.spent += entry.cost ?? 0
            }
            lines[entry.lane] = line
        }
        return lines.values.sorted { $0.lane < $1.lane }
    }

    /// `YYYY-MM-DD` of the report's end in its time zone: the name of its files.
    public var day: String { Self.day(of: period.end, in: timeZone) }

    /// `YYYY-MM-DD` of `date` in `timeZone`.
    public static func day(of date: Date, in timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}
