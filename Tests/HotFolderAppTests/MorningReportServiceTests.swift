// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import Logging
import SeedanceEmulator
import Testing

/// The morning report of a real overnight run: posters, the scheduled report opened in headless Chromium, and
/// `hotfolder report` on demand.
extension ServiceSuites {
@Suite struct MorningReportServiceTests {
    /// FNV-1a of the prompt mapped to 0…1, as the emulator's `always_fail` fault decides (`EmulatorFault`).
    static func alwaysFails(_ prompt: String, probability: Double) -> Bool {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in prompt.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01B3
        }
        return Double(hash >> 11) / Double(UInt64(1) << 53) < probability
    }

    /// A prompt starting with `text` that the emulator fails (or not), by adding a take number.
    static func prompt(_ text: String, fails: Bool) -> String {
        (1...500).lazy.map { "\(text), take \($0)" }.first { alwaysFails($0, probability: 0.5) == fails }!
    }

    static func isReport(_ event: ServiceEvent) -> Bool {
        if case .reportReady = event { true } else { false }
    }

    @Test func overnightRunReportOpensInChromiumAndOnDemand() async throws {
        let folders = try ServiceFolders("report")
        let emulator = try await startEmulator(faults: [.alwaysFail: 0.5], bundled: false)
        let clock = MovableReportClock()
        var reportPath = ""
        let configure: (inout ServiceConfiguration) -> Void = { configuration in
            configuration.timeZone = TimeZone(identifier: "UTC")!
            configuration.budget = BudgetCaps(daily: 5)
        }
        try await withService(folders, emulator: emulator, configure: configure, reportClock: clock.clock) {
            events, _ in
            try folders.drop("sunset.txt", Self.prompt("A slow sunset over a calm sea", fails: false))
            try folders.drop("portrait/city.txt", Self.prompt("Neon city street in the rain", fails: false))
            try folders.drop("lantern.txt", Self.prompt("<script>alert('x')</script> a paper lantern & a \"moth\"", fails: false))
            try folders.drop("doomed.txt", Self.prompt("A glass whale in a desert", fails: true))
            try folders.drop("bad.txt", "A slow zoom on a mountain")
            try folders.drop("bad.yaml", "duration: 99\n")
            // A lane whose own cap is less than one job: held, with the reason, never failed.
            try folders.drop("night/_defaults.yaml", "lane_budget_daily: 0.001\n")
            try folders.drop("night/harbour.txt", Self.prompt("A harbour at night, lights on the water", fails: false))
            await events.wait(for: "3 videos, 1 failure, 1 invalid drop, 1 held", timeout: 90) {
                $0.filter(\.isDone).count >= 3 && $0.contains(where: \.isFailed) && $0.contains(where: \.isInvalid)
                    && $0.contains { if case .held = $0 { true } else { false } }
            }
            #expect(await events.count(Self.isReport) == 0, "a new installation writes no report at once")
            // The next morning: the scheduler's clock passes 07:00 UTC.
            clock.advance(86_400)
            await events.wait(for: "the morning report", timeout: 30) { $0.contains(where: Self.isReport) }
            for case .reportReady(let path) in await events.events { reportPath = path }
        }
        await emulator.shutdown()

        // Posters beside every video, recorded in the metadata.
        for name in ["sunset", "portrait/city", "lantern"] {
            let header = try ImageHeader.parse(Array(FileManager.default.contents(atPath: folders.outbox + "/\(name).jpg") ?? Data()))
            #expect(header.format == .jpeg, "\(name).jpg")
            #expect(jsonObject(folders.outbox + "/\(name).json")["poster"] as? String == folders.outbox + "/\(name).jpg")
        }
        // The page, the table and the contact sheet, named by the (moved) clock's day.
        let day = MorningReport.day(of: clock.now(), in: TimeZone(identifier: "UTC")!)
        #expect(reportPath == folders.outbox + "/_reports/\(day).html")
        let html = try String(contentsOfFile: reportPath, encoding: .utf8)
        #expect(html.contains("<b>3</b> done") && html.contains("<b>2</b> failed"))
        #expect(html.contains("Why (provider):") && html.contains("Why (invalid):"))
        #expect(html.contains("<b>1</b> held") && html.contains("lane_budget_daily in night/_defaults.yaml"), "the held job and why")
        #expect(html.contains("daily") && html.contains("$5.00"), "the daily cap with its spend")
        #expect(html.contains("&lt;script&gt;") && !html.contains("<script"))
        let csv = try CSVTable.parse(try String(contentsOfFile: folders.outbox + "/_reports/\(day).csv", encoding: .utf8))
        #expect(csv.rows.count == 6)
        let sheet = try ImageHeader.parse(Array(FileManager.default.contents(atPath: folders.outbox + "/_reports/\(day)-contact.jpg") ?? Data()))
        #expect(sheet.width == 3 * 320 + 2 * 4 + 2 * 4, "three tiles in a row")
        let state = try String(contentsOfFile: folders.state + "/report-state.json", encoding: .utf8)
        #expect(state.contains("last_report_at"))

        // A real browser shows every job, loads every poster and fetches nothing from the network.
        let names = ["sunset", "portrait/city", "lantern", "doomed", "bad", "night/harbour"]
        let screenshot = ProcessInfo.processInfo.environment["HOTFOLDER_REPORT_SCREENSHOT"] ?? folders.root + "/report.png"
        let (status, output) = try ReportTools.checkInBrowser(reportPath, expect: names, screenshot: screenshot)
        #expect(status == 0, "the browser check failed: \(output)")
        #expect(FileManager.default.fileExists(atPath: screenshot))

        // On demand, into another folder: the same jobs, links still reaching the outbox.
        let config = folders.root + "/hotfolder.yaml"
        try "inbox: inbox\noutbox: outbox\nfailed: failed\narchive: archive\nstate_dir: state\ntimezone: UTC\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let hotfolder = try ReportTools.hotfolder()
        let out = folders.root + "/on-demand"
        let (code, stdout, stderr) = try ReportTools.run(hotfolder, ["report", "--since", "24h", "--out", out, "--config", config])
        #expect(code == 0, "\(stderr)")
        let today = MorningReport.day(of: Date(), in: TimeZone(identifier: "UTC")!)
        #expect(stdout.contains(out + "/\(today).html") && stdout.contains(out + "/\(today).csv"), "\(stdout)")
        #expect(FileManager.default.fileExists(atPath: out + "/\(today)-contact.jpg"))
        let onDemand = try String(contentsOfFile: out + "/\(today).html", encoding: .utf8)
        #expect(onDemand.contains("src=\"../outbox/portrait/city.jpg\""))
        // On a phone-sized screen.
        let phone = ProcessInfo.processInfo.environment["HOTFOLDER_REPORT_PHONE_SCREENSHOT"] ?? folders.root + "/on-demand.png"
        let (browserStatus, browserOutput) = try ReportTools.checkInBrowser(out + "/\(today).html", expect: names, screenshot: phone, width: 390)
        #expect(browserStatus == 0, "the browser check of the on-demand report failed: \(browserOutput)")

        let (badCode, _, badError) = try ReportTools.run(hotfolder, ["report", "--since", "yesterday", "--config", config])
        #expect(badCode != 0 && badError.contains("--since 'yesterday' is not a duration"), "\(badError)")
    }

    /// The service was down at 07:00: the report is written as soon as it starts, for everything since the last.
    @Test func aReportMissedWhileDownIsWrittenAtStart() async throws {
        let folders = try ServiceFolders("report-missed")
        var configuration = folders.configuration(baseURL: "http://127.0.0.1:1")
        configuration.timeZone = TimeZone(identifier: "Europe/Berlin")!
        let store = try SQLiteStateStore(directory: configuration.stateDirectory)
        let stateFile = ReportScheduler.stateFile(stateDirectory: configuration.stateDirectory)
        let lastReport = Date().addingTimeInterval(-3 * 86_400)
        try Data(#"{"last_report_at": "\#(lastReport.formatted(.iso8601))"}"#.utf8).write(to: URL(fileURLWithPath: stateFile))
        let events = ServiceEvents()
        let scheduler = ReportScheduler(
            writer: MorningReportWriter(configuration: configuration, store: store), configuration: configuration,
            clock: MovableReportClock().clock, logger: Logger(label: "report-test"), observer: events.record)
        let started = Date()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await scheduler.run() }
            await events.wait(for: "the missed report") { $0.contains(where: Self.isReport) }
            group.cancelAll()
        }
        let last = try #require(ReportScheduler.lastReportTime(stateDirectory: configuration.stateDirectory))
        #expect(last >= started.addingTimeInterval(-1) && last <= Date(), "the period ends now")
        let day = MorningReport.day(of: last, in: configuration.timeZone)
        let html = try String(contentsOfFile: folders.outbox + "/_reports/\(day).html", encoding: .utf8)
        #expect(html.contains("No job finished or waited in this period.") && html.contains("No budget set."))
        #expect(html.contains("(Europe/Berlin)"))
        #expect(await events.count(Self.isReport) == 1, "one report for the three days")
        try store.close()
    }
}
}
