// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore

/// What the store needs to reserve a job's estimated cost when it leaves the queue.
public struct BudgetRequest: Sendable, Hashable {
    /// The estimate in US dollars, and its tokens (a settled figure is the estimate scaled by billed tokens).
    public var cost: Double
    public var tokens: Int
    /// The configured caps (overrides set with `hotfolder budget` are applied by the store, in the transaction).
    public var caps: BudgetCaps
    /// The lane caps that cover the job.
    public var laneCaps: [LaneCap]
    /// Days and months are counted in this calendar's time zone.
    public var calendar: Calendar

    public init(cost: Double, tokens: Int, caps: BudgetCaps, laneCaps: [LaneCap], calendar: Calendar) {
        self.cost = cost
        self.tokens = tokens
        self.caps = caps
        self.laneCaps = laneCaps
        self.calendar = calendar
    }
}

/// A reservation a cap refused: the job is held with this reason until `until` (nil: until the cap is raised).
public struct BudgetHold: Sendable, Hashable {
    public var cap: BudgetCap
    public var reason: String
    public var until: Date?
    /// The cap reached (recorded once per cap and period with ``SQLiteStateStore/recordBudgetAlert(_:)``).
    public var alert: BudgetAlert
}

/// Spent and reserved money in one period.
public struct SpendLine: Sendable, Hashable {
    /// Settled: billed (the provider's figure where it gives one, else the estimate).
    public var spent: Double = 0
    /// Reserved: create calls whose task has not finished (or may have been billed: uncertain ones).
    public var reserved: Double = 0
    /// Spent plus reserved: what a cap is checked against.
    public var used: Double { spent + reserved }

    public init(spent: Double = 0, reserved: Double = 0) {
        self.spent = spent
        self.reserved = reserved
    }
}

extension SQLiteStateStore {
    /// Applies a commit's spend change inside its transaction (see ``JobLifecycle/SpendChange``).
    func applySpend(
        _ db: Database, jobID: String, lane: String, _ change: JobLifecycle.SpendChange, budget: BudgetRequest?, now: Date
    ) throws {
        switch change {
        case .reserve:
            let open = try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM spend WHERE jobId = ? AND state = 'reserved')"),
                arguments: [jobID]) ?? false
            guard !open else { return }  // a reservation made before a restart still stands
            let calendar = budget?.calendar ?? Calendar.current
            let period = SpendPeriod(now, calendar: calendar)
            let cost = max(0, budget?.cost ?? 0)
            if let budget {
                let caps = budget.caps.overridden(by: try Self.fetchOverrides(db))
                let gate = BudgetGate(caps: caps, laneCaps: budget.laneCaps, calendar: calendar)
                if caps.daily != nil || caps.monthly != nil || !budget.laneCaps.isEmpty {
                    let totals = try Self.totals(db, period: period, caps: caps, laneCaps: budget.laneCaps)
                    switch gate.decide(cost: cost, totals: totals, now: now) {
                    case .hold(let cap, let reason, let until, let alert):
                        throw StateStoreError.budgetHold(BudgetHold(cap: cap, reason: reason, until: until, alert: alert))
                    case .admit(let alerts):
                        for alert in alerts { _ = try Self.insertAlert(db, alert, now: now) }
                    }
                }
            }
            try db.cachedStatement(
                sql: """
                    INSERT INTO spend (jobId, lane, day, month, estimate, tokens, amount, state, reservedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 'reserved', ?)
                    """
            ).execute(arguments: [jobID, lane, period.day, period.month, cost, budget?.tokens ?? 0, cost, now.timeIntervalSince1970])
        case .release:
            try db.cachedStatement(
                sql: "UPDATE spend SET state = 'released', amount = 0, settledAt = ? WHERE jobId = ? AND state = 'reserved'"
            ).execute(arguments: [now.timeIntervalSince1970, jobID])
        case .settle(let tokens):
            try db.cachedStatement(
                sql: """
                    UPDATE spend SET state = 'settled', settledAt = ?,
                        amount = CASE WHEN ? IS NOT NULL AND tokens > 0 THEN estimate * ? / tokens ELSE estimate END
                    WHERE jobId = ? AND state = 'reserved'
                    """
            ).execute(arguments: [now.timeIntervalSince1970, tokens, tokens.map(Double.init), jobID])
        }
    }

    /// Spent plus reserved in the period, for each cap in force.
    static func totals(_ db: Database, period: SpendPeriod, caps: BudgetCaps, laneCaps: [LaneCap]) throws -> SpendTotals {
        var totals = SpendTotals()
        if caps.daily != nil || laneCaps.contains(where: { $0.folder.isEmpty }) {
            totals.daily = try Double.fetchOne(
                db.cachedStatement(sql: "SELECT COALESCE(SUM(amount), 0) FROM spend WHERE day = ?"), arguments: [period.day]) ?? 0
        }
        if caps.monthly != nil {
            totals.monthly = try Double.fetchOne(
                db.cachedStatement(sql: "SELECT COALESCE(SUM(amount), 0) FROM spend WHERE month = ?"), arguments: [period.month]) ?? 0
        }
        for lane in laneCaps {
            totals.lanes[lane.folder] = lane.folder.isEmpty ? totals.daily : try laneTotal(db, day: period.day, folder: lane.folder)
        }
        return totals
    }

    /// Spent plus reserved on `day` by jobs in `folder` and below it.
    static func laneTotal(_ db: Database, day: String, folder: String) throws -> Double {
        // `folder/` … `folder0` is every lane below the folder ('0' follows '/').
        try Double.fetchOne(
            db.cachedStatement(
                sql: "SELECT COALESCE(SUM(amount), 0) FROM spend WHERE day = ? AND (lane = ? OR (lane >= ? AND lane < ?))"),
            arguments: [day, folder, folder + "/", folder + "0"]) ?? 0
    }

    static func insertAlert(_ db: Database, _ alert: BudgetAlert, now: Date) throws -> Bool {
        try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO budgetAlert (cap, period, fraction, used, cap_limit, at) VALUES (?, ?, ?, ?, ?, ?)"
        ).execute(arguments: [alert.cap.key, alert.period, alert.fraction, alert.used, alert.limit, now.timeIntervalSince1970])
        return db.changesCount > 0
    }

    /// Records that a cap was reached in its period; false when it already was (people are told once).
    @discardableResult
    public func recordBudgetAlert(_ alert: BudgetAlert) throws -> Bool {
        let now = clock()
        return try write("record a budget alert") { db in try Self.insertAlert(db, alert, now: now) }
    }

    /// Thresholds crossed and caps reached that nobody was told about yet, oldest first.
    public func unannouncedBudgetAlerts() throws -> [BudgetAlert] {
        try read("list budget alerts") { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT cap, period, fraction, used, cap_limit FROM budgetAlert WHERE announcedAt IS NULL ORDER BY at LIMIT 100")
            ).map { row in
                BudgetAlert(cap: Self.cap(row[0]), fraction: row[2], used: row[3], limit: row[4], period: row[1])
            }
        }
    }

    /// Marks alerts as told.
    public func markBudgetAlertsAnnounced(_ alerts: [BudgetAlert]) throws {
        let now = clock()
        try write("mark budget alerts told") { db in
            for alert in alerts {
                try db.cachedStatement(sql: "UPDATE budgetAlert SET announcedAt = ? WHERE cap = ? AND period = ? AND fraction = ?")
                    .execute(arguments: [now.timeIntervalSince1970, alert.cap.key, alert.period, alert.fraction])
            }
        }
    }

    static func cap(_ key: String) -> BudgetCap {
        switch key {
        case "daily": .daily
        case "monthly": .monthly
        default: .lane(String(key.dropFirst("lane:".count)))
        }
    }

    // MARK: - Overrides

    static func fetchOverrides(_ db: Database) throws -> BudgetOverrides {
        var overrides = BudgetOverrides()
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT cap, value FROM budgetOverride")) {
            let value = BudgetOverrides.Value(row[1] as Double?)
            switch row[0] as String {
            case "daily": overrides.daily = value
            case "monthly": overrides.monthly = value
            default: break
            }
        }
        return overrides
    }

    /// The caps set with `hotfolder budget`.
    public func budgetOverrides() throws -> BudgetOverrides {
        try read("read the budget overrides") { db in try Self.fetchOverrides(db) }
    }

    /// Sets a cap (`value` nil: no cap) over the configuration's, or with `clear` goes back to the configuration's.
    public func setBudgetOverride(_ cap: BudgetCap, value: Double?, clear: Bool = false) throws {
        guard cap == .daily || cap == .monthly else { return }
        let now = clock()
        try write("set a budget") { db in
            if clear {
                try db.execute(sql: "DELETE FROM budgetOverride WHERE cap = ?", arguments: [cap.key])
            } else {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO budgetOverride (cap, value, setAt) VALUES (?, ?, ?)",
                    arguments: [cap.key, value, now.timeIntervalSince1970])
            }
        }
    }

    // MARK: - Reading spend

    /// Spent and reserved today and this month (the periods of `now` in `calendar`), and today per lane folder.
    public func spendSummary(now: Date, calendar: Calendar, laneFolders: [String] = []) throws
        -> (period: SpendPeriod, day: SpendLine, month: SpendLine, lanes: [String: SpendLine])
    {
        let period = SpendPeriod(now, calendar: calendar)
        return try read("read the spend") { db in
            func line(_ sql: String, _ arguments: StatementArguments) throws -> SpendLine {
                var line = SpendLine()
                for row in try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments) {
                    let amount: Double = row[1]
                    switch row[0] as String {
                    case "settled": line.spent += amount
                    case "reserved": line.reserved += amount
                    default: break
                    }
                }
                return line
            }
            let day = try line("SELECT state, SUM(amount) FROM spend WHERE day = ? GROUP BY state", [period.day])
            let month = try line("SELECT state, SUM(amount) FROM spend WHERE month = ? GROUP BY state", [period.month])
            var lanes: [String: SpendLine] = [:]
            for folder in laneFolders {
                lanes[folder] = folder.isEmpty ? day : try line(
                    "SELECT state, SUM(amount) FROM spend WHERE day = ? AND (lane = ? OR (lane >= ? AND lane < ?)) GROUP BY state",
                    [period.day, folder, folder + "/", folder + "0"])
            }
            return (period, day, month, lanes)
        }
    }

    /// What one job has spent (settled) and has reserved, over all its create calls; nil when none was recorded
    /// (a job finished before budgets were kept).
    public func recordedSpend(ofJob id: UUID) throws -> SpendLine? {
        try read("read a job's spend") { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT state, SUM(amount) FROM spend WHERE jobId = ? GROUP BY state"),
                arguments: [id.lowercasedString])
            guard !rows.isEmpty else { return nil }
            var line = SpendLine()
            for row in rows {
                switch row[0] as String {
                case "settled": line.spent = row[1]
                case "reserved": line.reserved = row[1]
                default: break
                }
            }
            return line
        }
    }

    /// What one job has spent (settled) and has reserved, over all its create calls.
    public func spend(ofJob id: UUID) throws -> SpendLine {
        try recordedSpend(ofJob: id) ?? SpendLine()
    }

    /// Held jobs by what holds them (`budget`, `window`).
    public func heldCounts() throws -> [String: Int] {
        try read("count held jobs") { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(
                db.cachedStatement(sql: "SELECT COALESCE(failureCategory, ''), COUNT(*) FROM job WHERE state = 'held' GROUP BY 1"))
            {
                counts[row[0]] = row[1]
            }
            return counts
        }
    }

    /// Held jobs (of one kind, or all), highest priority and oldest first.
    public func heldJobs(kind: String? = nil, limit: Int = 1000) throws -> [StoredJob] {
        try read("list held jobs") { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(Self.jobColumns) FROM job INDEXED BY job_queue WHERE state = 'held'
                            AND (? IS NULL OR failureCategory = ?) ORDER BY priority DESC, createdAt LIMIT ?
                        """),
                arguments: [kind, kind, limit]
            ).map(Self.decodeJob)
        }
    }
}
