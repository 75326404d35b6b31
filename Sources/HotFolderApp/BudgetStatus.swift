// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO

/// Each spending cap with what is spent, reserved and left: for `hotfolder status`, `hotfolder budget` and the
/// morning report.
public struct BudgetStatus: Encodable, Sendable, Hashable {
    /// One cap.
    public struct Line: Encodable, Sendable, Hashable {
        /// `daily`, `monthly`, `lane:<folder>`.
        public var cap: String
        /// US dollars; nil when there is no cap (spend is still shown).
        public var limit: Double?
        /// Billed (the provider's figure where it gives one, else the estimate).
        public var spent: Double
        /// Create calls whose task has not finished, or may have been billed (uncertain ones).
        public var reserved: Double
        /// What is left; nil without a cap.
        public var remaining: Double?
        /// Where the cap comes from: `configuration`, `hotfolder budget`, or a folder's `_defaults.yaml`.
        public var source: String
        /// When the period ends.
        public var resetsAt: Date
    }

    /// The caps (daily and monthly always listed, with or without a cap; lane caps seen on held or recent jobs).
    public var lines: [Line]
    /// Jobs held by a budget, and by a time window.
    public var heldByBudget: Int
    public var heldByWindow: Int
    /// The time zone days and months are counted in.
    public var timeZone: String

    /// Reads the caps in force (configuration and `hotfolder budget` overrides) and the spend at `now`.
    public static func read(store: any ServiceStore, configuration: ServiceConfiguration, now: Date = Date(), laneCaps: [LaneCap] = [])
        async throws -> BudgetStatus
    {
        let overrides = try await store.budgetOverrideValues()
        let caps = configuration.budget.overridden(by: overrides)
        let summary = try await store.spending(at: now, calendar: configuration.calendar, laneFolders: laneCaps.map(\.folder))
        func line(_ cap: String, _ limit: Double?, _ spend: SpendLine, _ source: String, _ resets: Date) -> Line {
            Line(
                cap: cap, limit: limit, spent: spend.spent, reserved: spend.reserved,
                remaining: limit.map { max(0, $0 - spend.used) }, source: source, resetsAt: resets)
        }
        var lines = [
            line("daily", caps.daily, summary.day, overrides.daily != nil ? "hotfolder budget" : "configuration", summary.period.dayEnds),
            line("monthly", caps.monthly, summary.month, overrides.monthly != nil ? "hotfolder budget" : "configuration", summary.period.monthEnds),
        ]
        for lane in laneCaps {
            lines.append(line("lane:" + lane.folder, lane.daily, summary.lanes[lane.folder] ?? SpendLine(),
                              (lane.folder.isEmpty ? "" : lane.folder + "/") + "_defaults.yaml", summary.period.dayEnds))
        }
        let held = try await store.heldJobCounts()
        return BudgetStatus(
            lines: lines, heldByBudget: held["budget"] ?? 0, heldByWindow: held["window"] ?? 0,
            timeZone: configuration.timeZone.identifier)
    }

    /// The lane caps of held and waiting jobs, so `status` shows the caps that matter now.
    public static func laneCaps(store: any ServiceStore) async -> [LaneCap] {
        var seen: [String: LaneCap] = [:]
        for job in (try? await store.listJobs(in: [.held, .ready, .submitting, .submitted, .running], limit: 200)) ?? [] {
            for cap in job.spec?.lanePolicy?.budgets ?? [] { seen[cap.folder] = cap }
        }
        return seen.values.sorted { $0.folder < $1.folder }
    }

    /// Lines for a terminal.
    public var text: [String] {
        var result: [String] = []
        for line in lines {
            let name = line.cap.hasPrefix("lane:") ? "lane '\(line.cap.dropFirst(5))' daily" : line.cap
            let used = "\(Money.text(line.spent)) spent, \(Money.text(line.reserved)) reserved"
            if let limit = line.limit {
                result.append("  \(name): \(used) of \(Money.text(limit)); \(Money.text(line.remaining ?? 0)) left (\(line.source)); resets \(line.resetsAt.formatted(.iso8601)) (\(timeZone))")
            } else {
                result.append("  \(name): \(used); no cap")
            }
        }
        if heldByBudget > 0 { result.append("  \(heldByBudget) job(s) held by a budget") }
        if heldByWindow > 0 { result.append("  \(heldByWindow) job(s) waiting for their time window") }
        return result
    }
}
