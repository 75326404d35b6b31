// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// The spending caps in force (`budget: {daily: 50, monthly: 800, alert_at: [0.5, 0.8]}`), in US dollars.
public struct BudgetCaps: Sendable, Hashable, Codable {
    /// Per calendar day in the service's time zone; nil: no cap.
    public var daily: Double?
    /// Per calendar month; nil: no cap.
    public var monthly: Double?
    /// Fractions of a cap at which people are told (always also at the cap).
    public var alertAt: [Double]

    /// Creates caps.
    public init(daily: Double? = nil, monthly: Double? = nil, alertAt: [Double] = [0.5, 0.8]) {
        self.daily = daily
        self.monthly = monthly
        self.alertAt = alertAt.filter { $0 > 0 && $0 < 1 }.sorted()
    }

    /// These caps with `overrides` (set by `hotfolder budget`) in place of the configured ones.
    public func overridden(by overrides: BudgetOverrides) -> BudgetCaps {
        var caps = self
        if let daily = overrides.daily { caps.daily = daily.value }
        if let monthly = overrides.monthly { caps.monthly = monthly.value }
        return caps
    }
}

/// Caps set with `hotfolder budget`, kept in the state database; they win over the configuration's until
/// cleared (`hotfolder budget --clear`). An override of nil value removes the configured cap.
public struct BudgetOverrides: Sendable, Hashable, Codable {
    /// One overridden cap: the new value (nil: no cap).
    public struct Value: Sendable, Hashable, Codable {
        public var value: Double?
        public init(_ value: Double?) { self.value = value }
    }
    public var daily: Value?
    public var monthly: Value?

    public init(daily: Value? = nil, monthly: Value? = nil) {
        self.daily = daily
        self.monthly = monthly
    }
}

/// A folder's own daily cap (`lane_budget_daily: 10` in its `_defaults.yaml`): it caps the folder and all below it.
public struct LaneCap: Sendable, Hashable, Codable {
    /// The folder, relative to the inbox ("" for the inbox itself).
    public var folder: String
    /// US dollars per calendar day.
    public var daily: Double

    public init(folder: String, daily: Double) {
        self.folder = folder
        self.daily = daily
    }

    /// Whether a job in `lane` counts against this cap.
    public func covers(_ lane: String) -> Bool {
        folder.isEmpty || lane == folder || lane.hasPrefix(folder + "/")
    }
}

/// Which cap something is about.
public enum BudgetCap: Sendable, Hashable, CustomStringConvertible {
    case daily
    case monthly
    case lane(String)

    /// A stable key (`daily`, `monthly`, `lane:clients/acme`), for the database and notifications.
    public var key: String {
        switch self {
        case .daily: "daily"
        case .monthly: "monthly"
        case .lane(let folder): "lane:" + folder
        }
    }

    public var description: String {
        switch self {
        case .daily: "daily budget"
        case .monthly: "monthly budget"
        case .lane(let folder): "daily budget of \(folder.isEmpty ? "the inbox" : "'\(folder)'")"
        }
    }

    /// The setting a person raises.
    public var setting: String {
        switch self {
        case .daily: "budget.daily (or `hotfolder budget --daily N`)"
        case .monthly: "budget.monthly (or `hotfolder budget --monthly N`)"
        case .lane(let folder): "lane_budget_daily in \(folder.isEmpty ? "" : folder + "/")_defaults.yaml"
        }
    }
}

/// The calendar day and month a moment belongs to, in the service's time zone.
public struct SpendPeriod: Sendable, Hashable {
    /// `YYYY-MM-DD`.
    public var day: String
    /// `YYYY-MM`.
    public var month: String
    /// When the day ends (the next midnight).
    public var dayEnds: Date
    /// When the month ends.
    public var monthEnds: Date

    /// The period `date` falls in.
    public init(_ date: Date, calendar: Calendar) {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        day = String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        month = String(format: "%04d-%02d", parts.year ?? 0, parts.month ?? 0)
        let start = calendar.startOfDay(for: date)
        dayEnds = calendar.date(byAdding: .day, value: 1, to: start) ?? start.addingTimeInterval(86400)
        let monthStart = calendar.date(from: DateComponents(year: parts.year, month: parts.month, day: 1)) ?? start
        monthEnds = calendar.date(byAdding: .month, value: 1, to: monthStart) ?? dayEnds
    }
}

/// What is spent or reserved in the current period, per cap.
public struct SpendTotals: Sendable, Hashable {
    public var daily: Double
    public var monthly: Double
    /// Per lane cap's folder.
    public var lanes: [String: Double]

    public init(daily: Double = 0, monthly: Double = 0, lanes: [String: Double] = [:]) {
        self.daily = daily
        self.monthly = monthly
        self.lanes = lanes
    }
}

/// A cap's threshold crossed, or the cap reached.
public struct BudgetAlert: Sendable, Hashable {
    public var cap: BudgetCap
    /// The fraction crossed; 1 when a job was held at the cap.
    public var fraction: Double
    /// Spent and reserved after the change, and the cap.
    public var used: Double
    public var limit: Double
    /// The period it is about (`YYYY-MM-DD`, or `YYYY-MM` for the monthly cap).
    public var period: String

    public init(cap: BudgetCap, fraction: Double, used: Double, limit: Double, period: String) {
        self.cap = cap
        self.fraction = fraction
        self.used = used
        self.limit = limit
        self.period = period
    }

    /// `budget.threshold` or `budget.exhausted`.
    public var type: String { fraction >= 1 ? "budget.exhausted" : "budget.threshold" }

    /// What people read.
    public var message: String {
        fraction >= 1
            ? "\(cap) of \(Money.text(limit)) reached (\(Money.text(used)) spent or reserved); jobs wait"
            : "\(Int((fraction * 100).rounded())) % of the \(cap) used: \(Money.text(used)) of \(Money.text(limit))"
    }
}

/// The budget rules: whether a job's estimated cost fits every cap it counts against. A pure value; the store
/// asks it inside the transaction that reserves the cost, so concurrent submissions can never overshoot.
public struct BudgetGate: Sendable, Hashable {
    public var caps: BudgetCaps
    /// The lane caps that cover the job.
    public var laneCaps: [LaneCap]
    public var calendar: Calendar

    public init(caps: BudgetCaps, laneCaps: [LaneCap], calendar: Calendar) {
        self.caps = caps
        self.laneCaps = laneCaps
        self.calendar = calendar
    }

    /// The answer for one job.
    public enum Decision: Sendable, Hashable {
        /// Reserve the cost; these thresholds were crossed by it.
        case admit(alerts: [BudgetAlert])
        /// Keep the job `held`: `reason` in words; until `until` (the cap's reset; nil: until the cap is raised).
        case hold(cap: BudgetCap, reason: String, until: Date?, alert: BudgetAlert)
    }

    /// Whether `cost` fits, given what is spent or reserved (`totals`) in the period of `now`.
    public func decide(cost: Double, totals: SpendTotals, now: Date) -> Decision {
        let period = SpendPeriod(now, calendar: calendar)
        var checks: [(BudgetCap, Double, Double, Date, String)] = []  // cap, limit, used, resets, period
        if let daily = caps.daily { checks.append((.daily, daily, totals.daily, period.dayEnds, period.day)) }
        if let monthly = caps.monthly { checks.append((.monthly, monthly, totals.monthly, period.monthEnds, period.month)) }
        for lane in laneCaps {
            checks.append((.lane(lane.folder), lane.daily, totals.lanes[lane.folder] ?? 0, period.dayEnds, period.day))
        }
        var alerts: [BudgetAlert] = []
        // A cent of rounding never holds a job.
        let tolerance = 0.005
        for (cap, limit, used, resets, name) in checks {
            if used + cost > limit + tolerance {
                let alert = BudgetAlert(cap: cap, fraction: 1, used: used, limit: limit, period: name)
                return .hold(cap: cap, reason: reason(cap, limit: limit, used: used, cost: cost, resets: resets), until: cost > limit + tolerance ? nil : resets, alert: alert)
            }
            for fraction in caps.alertAt where used < fraction * limit && used + cost >= fraction * limit {
                alerts.append(BudgetAlert(cap: cap, fraction: fraction, used: used + cost, limit: limit, period: name))
            }
        }
        return .admit(alerts: alerts)
    }

    /// "daily budget $50.00 reached: $49.80 spent or reserved; resumes at 00:00 Europe/Berlin, or raise budget.daily".
    func reason(_ cap: BudgetCap, limit: Double, used: Double, cost: Double, resets: Date) -> String {
        if cost > limit + 0.005 {
            return "its estimated cost \(Money.text(cost)) is more than the whole \(cap) of \(Money.text(limit)); raise \(cap.setting)"
        }
        let zone = calendar.timeZone.identifier
        let when: String
        switch cap {
        case .monthly:
            var local = calendar
            local.locale = Locale(identifier: "en_US_POSIX")
            let day = calendar.component(.day, from: resets)
            let month = local.monthSymbols[calendar.component(.month, from: resets) - 1]
            when = "on \(day) \(month) at 00:00 \(zone)"
        case .daily, .lane:
            when = "at 00:00 \(zone)"
        }
        return "\(cap) \(Money.text(limit)) reached: \(Money.text(used)) spent or reserved; resumes \(when), or raise \(cap.setting)"
    }
}

/// Dollar amounts as people read them.
public enum Money {
    /// `$49.80`; amounts under a dollar keep three decimals (`$0.072`).
    public static func text(_ amount: Double) -> String {
        amount < 1 && amount > 0 ? String(format: "$%.3f", amount) : String(format: "$%.2f", amount)
    }
}
