// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import PostgresNIO

// Money limits that hold across every node: a reservation is checked against the spend of all of them, in the same
// transaction as the commit that makes the create call possible (as in SQLiteStateStore+Budget.swift).
extension PostgresStateStore {
    /// Applies a commit's spend change inside its transaction (see ``JobLifecycle/SpendChange``).
    func applySpend(
        _ connection: PostgresConnection, _ id: UUID, lane: String, _ change: JobLifecycle.SpendChange,
        budget: BudgetRequest?, now: Date
    ) async throws {
        let seconds = now.timeIntervalSince1970
        switch change {
        case .reserve:
            // Reservations (and every other spend write) take turns until the transaction ends: two nodes checking
            // the same cap at once would each see the other's reservation missing and both get through. A lock that
            // ends with the transaction, unlike an advisory lock, also works behind PgBouncer.
            try await connection.query("LOCK TABLE spend IN SHARE ROW EXCLUSIVE MODE", logger: logger)
            let open = try await rows(connection, "SELECT 1 FROM spend WHERE job_id = \(id) AND state = 'reserved'")
            guard open.isEmpty else { return }  // a reservation made before a restart still stands
            let calendar = budget?.calendar ?? Calendar.current
            let period = SpendPeriod(now, calendar: calendar)
            let cost = max(0, budget?.cost ?? 0)
            if let budget {
                let caps = budget.caps.overridden(by: try await overrides(connection))
                if caps.daily != nil || caps.monthly != nil || !budget.laneCaps.isEmpty {
                    let totals = try await totals(connection, period: period, caps: caps, laneCaps: budget.laneCaps)
                    let gate = BudgetGate(caps: caps, laneCaps: budget.laneCaps, calendar: calendar)
                    switch gate.decide(cost: cost, totals: totals, now: now) {
                    case .hold(let cap, let reason, let until, let alert):
                        throw StateStoreError.budgetHold(BudgetHold(cap: cap, reason: reason, until: until, alert: alert))
                    case .admit(let alerts):
                        for alert in alerts { try await insertAlert(connection, alert, now: now) }
                    }
                }
            }
            try await connection.query(
                """
                INSERT INTO spend (job_id, lane, day, month, estimate, tokens, amount, state, reserved_at)
                VALUES (\(id), \(lane), \(period.day), \(period.month), \(cost), \(budget?.tokens ?? 0), \(cost),
                    'reserved', \(seconds))
                """, logger: logger)
        case .release:
            try await connection.query(
                "UPDATE spend SET state = 'released', amount = 0, settled_at = \(seconds) WHERE job_id = \(id) AND state = 'reserved'",
                logger: logger)
        case .settle(let tokens):
            let billed = tokens.map(Double.init)
            try await connection.query(
                """
                UPDATE spend SET state = 'settled', settled_at = \(seconds),
                    amount = CASE WHEN \(billed)::double precision IS NOT NULL AND tokens > 0
                        THEN estimate * \(billed) / tokens ELSE estimate END
                WHERE job_id = \(id) AND state = 'reserved'
                """, logger: logger)
        }
    }

    /// Spent plus reserved in the period, for each cap in force.
    private func totals(
        _ connection: PostgresConnection, period: SpendPeriod, caps: BudgetCaps, laneCaps: [LaneCap]
    ) async throws -> SpendTotals {
        func sum(_ query: PostgresQuery) async throws -> Double {
            try await rows(connection, query).first?[0].decode(Double.self) ?? 0
        }
        var totals = SpendTotals()
        if caps.daily != nil || laneCaps.contains(where: { $0.folder.isEmpty }) {
            totals.daily = try await sum("SELECT COALESCE(SUM(amount), 0)::double precision FROM spend WHERE day = \(period.day)")
        }
        if caps.monthly != nil {
            totals.monthly = try await sum("SELECT COALESCE(SUM(amount), 0)::double precision FROM spend WHERE month = \(period.month)")
        }
        for lane in laneCaps {
            // `folder/` … `folder0` is every lane below the folder ('0' follows '/'); C collation compares bytes.
            totals.lanes[lane.folder] =
                lane.folder.isEmpty
                ? totals.daily
                : try await sum(
                    """
                    SELECT COALESCE(SUM(amount), 0)::double precision FROM spend WHERE day = \(period.day)
                        AND (lane = \(lane.folder) OR (lane COLLATE "C" >= \(lane.folder + "/") AND lane COLLATE "C" < \(lane.folder + "0")))
                    """)
        }
        return totals
    }

    /// The caps set with `hotfolder budget` (``setOverride(_:value:clear:)``), inside the caller's call.
    func overrides(_ connection: PostgresConnection) async throws -> BudgetOverrides {
        var overrides = BudgetOverrides()
        for row in try await rows(connection, "SELECT cap, value FROM budget_override") {
            let value = BudgetOverrides.Value(try row[1].decode(Double?.self))
            switch try row[0].decode(String.self) {
            case "daily": overrides.daily = value
            case "monthly": overrides.monthly = value
            default: break
            }
        }
        return overrides
    }

    /// Records an alert unless this one (cap, period, fraction) was recorded already; true when it was new.
    @discardableResult
    func insertAlert(_ connection: PostgresConnection, _ alert: BudgetAlert, now: Date) async throws -> Bool {
        try await execute(
            connection,
            """
            INSERT INTO budget_alert (cap, period, fraction, used, cap_limit, at)
            VALUES (\(alert.cap.key), \(alert.period), \(alert.fraction), \(alert.used), \(alert.limit), \(now.timeIntervalSince1970))
            ON CONFLICT DO NOTHING
            RETURNING cap
            """) == 1
    }
}
