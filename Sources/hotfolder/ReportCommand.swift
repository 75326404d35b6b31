// SPDX-License-Identifier: GPL-2.0-or-later
import ArgumentParser
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO

/// `hotfolder report`: writes the morning report now.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the morning report now: an HTML page, a CSV table and a contact sheet.",
        discussion: """
            Writes YYYY-MM-DD.html (totals, spend per budget and lane, a card per job with its poster; failed \
            and held jobs first), YYYY-MM-DD.csv (a row per job) and YYYY-MM-DD-contact.jpg (a tile per video) \
            into DIR, by default outbox/_reports, and prints their paths. The day is today's in the configured \
            timezone; a report written again the same day replaces the earlier one.

            The report covers the jobs that finished in the period, and every job held or uncertain now. The \
            period starts --since ago, by default at the previous report the service wrote (else 24 hours ago). \
            The service writes the report by itself every day at report.at (default 07:00); this command does \
            not change when the next one is due.

            Examples:
              hotfolder report
              hotfolder report --since 24h --out /tmp/report --config /etc/hotfolder/hotfolder.yaml
            """)

    @OptionGroup var options: ConfigOptions
    @Option(help: ArgumentHelp("How far back the report goes: a duration such as 24h, 90m, 2d or 3600 (seconds).", valueName: "duration"))
    var since: String?
    @Option(help: ArgumentHelp("The folder to write into (created if missing). Default: outbox/_reports.", valueName: "dir"))
    var out: String?

    func validate() throws {
        if let since, Self.seconds(since) == nil {
            throw ValidationError("--since '\(since)' is not a duration; use a number with s, m, h or d, such as 24h")
        }
    }

    func run() async throws {
        let configuration = try options.load()
        let store = try await options.openStore(configuration)
        let now = Date()
        let start: Date
        if let since, let seconds = Self.seconds(since) {
            start = now.addingTimeInterval(-seconds)
        } else {
            start = ReportScheduler.lastReportTime(stateDirectory: configuration.stateDirectory) ?? now.addingTimeInterval(-86_400)
        }
        let directory = out.map(HotFolderService.absolute)
        let writer = MorningReportWriter(configuration: configuration, store: store, directory: directory)
        do {
            let written = try await writer.write(since: start, until: now)
            Terminal.output(written.html)
            Terminal.output(written.csv)
            if let sheet = written.contactSheet { Terminal.output(sheet) }
            Terminal.error("hotfolder report: \(written.jobs) job(s) since \(start.formatted(.iso8601))")
        } catch {
            Terminal.error("hotfolder report: cannot write the report into \(writer.directory): \(error)")
            throw ExitCode.failure
        }
    }

    /// Seconds in `24h`, `90m`, `2d`, `30s` or a plain number; nil when it is not one (or not above 0).
    static func seconds(_ text: String) -> Double? {
        let text = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var number = Substring(text)
        var scale = 1.0
        if let last = text.last, let factor = units[last] {
            number = number.dropLast()
            scale = factor
        }
        guard let value = Double(number), value.isFinite, value > 0 else { return nil }
        return value * scale
    }
}
