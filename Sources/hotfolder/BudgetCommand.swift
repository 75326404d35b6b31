// SPDX-License-Identifier: GPL-2.0-or-later
import ArgumentParser
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO

/// `hotfolder budget`: shows and changes the spending caps while the service runs.
struct BudgetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budget",
        abstract: "Show spend against the budget caps, or change a cap while the service runs.",
        discussion: """
            Without options: each cap (daily, monthly, and the lane caps of waiting jobs) with what is spent
            (billed), reserved (tasks running, or uncertain create calls that may have been billed) and left,
            and how many jobs a budget or a time window holds.

            --daily and --monthly set a cap over the configuration's (in US dollars; `none` removes the cap)
            and stay in force, across restarts, until --reset. Jobs held by a budget then go back into the
            queue in priority order, and are held again only if they still do not fit. The running service
            sees the change at once: caps are checked in the same transaction that reserves a job's cost.
            Lane caps are set in a folder's _defaults.yaml (lane_budget_daily).
            """)

    @OptionGroup var options: ConfigOptions
    @Option(help: ArgumentHelp("The daily cap in US dollars, or `none`.", valueName: "dollars")) var daily: String?
    @Option(help: ArgumentHelp("The monthly cap in US dollars, or `none`.", valueName: "dollars")) var monthly: String?
    @Flag(help: "Go back to the caps of the configuration.") var reset = false
    @Flag(help: "Print one JSON document.") var json = false

    func run() async throws {
        let configuration = try options.load()
        let store = try await options.openStore(configuration)
        var changed = false
        do {
            if reset {
                try await store.setOverride(.daily, value: nil, clear: true)
                try await store.setOverride(.monthly, value: nil, clear: true)
                changed = true
            }
            for (cap, text) in [(BudgetCap.daily, daily), (.monthly, monthly)] {
                guard let text else { continue }
                try await store.setOverride(cap, value: try Self.amount(text, option: cap == .daily ? "--daily" : "--monthly"), clear: false)
                changed = true
            }
            if changed {
                let released = try await JobControl(store: store, configuration: configuration).releaseHeld(kind: "budget")
                if released > 0 { Terminal.error("\(released) job(s) held by a budget went back into the queue") }
            }
            let status = try await BudgetStatus.read(store: store, configuration: configuration, laneCaps: await BudgetStatus.laneCaps(store: store))
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                Terminal.output(String(decoding: try encoder.encode(status), as: UTF8.self))
            } else {
                Terminal.output((["spend (\(status.timeZone)):"] + status.text).joined(separator: "\n"))
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            Terminal.error("hotfolder: \(error)")
            throw ExitCode.failure
        }
    }

    static func amount(_ text: String, option: String) throws -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "$", with: "")
        if ["none", "off", "no"].contains(trimmed.lowercased()) { return nil }
        guard let value = Double(trimmed), value >= 0, value.isFinite else {
            throw ValidationError("\(option) takes US dollars (0 or more, such as 80) or `none`, not `\(text)`")
        }
        return value
    }
}
