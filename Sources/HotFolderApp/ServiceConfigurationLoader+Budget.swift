// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Yams

/// `budget:` and `schedule:`.
extension ServiceConfigurationLoader {
    /// `budget: {daily: 50, monthly: 800, alert_at: [0.5, 0.8]}`: US dollars; absent caps are no caps.
    func parseBudget(_ section: Section) throws -> BudgetCaps {
        var caps = BudgetCaps()
        for (name, node, source) in try Self.entries(section, key: "budget", known: ["daily", "monthly", "alert_at"]) {
            switch name {
            case "alert_at":
                let items = try Self.scalars(node, key: "budget.alert_at", source: source)
                let fractions = items.compactMap { Double($0) }
                guard fractions.count == items.count, fractions.allSatisfy({ $0 > 0 && $0 < 1 }) else {
                    throw ConfigurationError.invalidValue(
                        source: source, key: "budget.alert_at", value: items.joined(separator: ", "),
                        expected: "fractions of a cap between 0 and 1, such as [0.5, 0.8]")
                }
                caps.alertAt = fractions.sorted()
            default:
                let text = try Self.scalar(node, key: "budget.\(name)", source: source) ?? ""
                guard let amount = Double(text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "$", with: "")),
                    amount >= 0, amount.isFinite
                else {
                    throw ConfigurationError.invalidValue(
                        source: source, key: "budget.\(name)", value: text, expected: "US dollars, 0 or more, such as 50")
                }
                if name == "daily" { caps.daily = amount } else { caps.monthly = amount }
            }
        }
        return caps
    }

    /// `schedule: {windows: ["22:00-06:00"], days: [mon, tue, wed, thu, fri]}`.
    func parseSchedule(_ section: Section) throws -> SubmissionSchedule {
        var windows: [String] = []
        var days: [String] = []
        for (name, node, source) in try Self.entries(section, key: "schedule", known: ["windows", "days"]) {
            let items = try Self.scalars(node, key: "schedule.\(name)", source: source)
            if name == "windows" { windows = items } else { days = items }
        }
        switch SubmissionSchedule.parse(windows: windows, days: days) {
        case .success(let schedule): return schedule
        case .failure(let error):
            throw ConfigurationError.invalidValue(
                source: section.source, key: "schedule", value: (windows + days).joined(separator: ", "), expected: "\(error)")
        }
    }

    /// A list of scalars, or one scalar (a list of one).
    static func scalars(_ node: Node, key: String, source: String) throws -> [String] {
        if let scalar = node.scalar { return [scalar.string] }
        guard let sequence = node.sequence, sequence.count <= 64 else {
            throw ConfigurationError.invalidValue(source: source, key: key, value: "a mapping", expected: "a list, such as [a, b]")
        }
        return try sequence.map { item in
            guard let scalar = item.scalar else {
                throw ConfigurationError.invalidValue(source: source, key: key, value: "a nested list", expected: "a list of single values")
            }
            return scalar.string
        }
    }
}
