// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import Synchronization
import Testing

/// The report built from a real state database: which jobs it reads, and what it says about each.
@Suite struct MorningReportWriterTests {
    static func spec(_ name: String, lane: String = "", prompt: String, cost: Double) throws -> Data {
        let spec = JobSpec(
            name: name, lane: lane, mode: .textToVideo, status: .valid,
            request: GenerationRequest(
                model: SeedanceModel.quality.rawValue, prompt: prompt, duration: 5, aspectRatio: "9:16", resolution: "1080p"),
            images: [], settings: [:], inputFiles: [name + ".txt"], priority: 0, outputName: name,
            estimate: CostEstimate(tokens: 1000, cost: cost), errors: [], newestModification: Date(timeIntervalSince1970: 0))
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(spec)
    }

    @Test func finishedInThePeriodPlusEveryHeldAndUncertainJob() async throws {
        let folders = try ServiceFolders("report-writer")
        var configuration = folders.configuration(baseURL: "http://127.0.0.1:1")
        configuration.timeZone = TimeZone(identifier: "UTC")!
        let start = Date(timeIntervalSince1970: 1_796_000_000)
        let time = Mutex(start.addingTimeInterval(-86_400))
        let store = try SQLiteStateStore(directory: folders.state, clock: { time.withLock { $0 } })
        func at(_ seconds: TimeInterval) { time.withLock { $0 = start.addingTimeInterval(seconds) } }
        func job(_ name: String, lane: String = "", cost: Double = 0.5, path: [JobState], update: @escaping (inout StoredJob) -> Void = { _ in }) throws {
            let id = try store.insertJob(NewJob(name: name, lane: lane, specJSON: try Self.spec(name, lane: lane, prompt: "Prompt of \(name)", cost: cost))).id
            for (from, to) in zip([.ready] + path, path) {
                try store.transition(id, from: from, to: to, update: to == path.last ? update : { _ in })
            }
        }
        let toDone: [JobState] = [.submitting, .submitted, .running, .downloading, .done]
        // Finished the day before the period: not in the report.
        try job("yesterday", path: toDone)
        at(3600)
        try FileManager.default.createDirectory(atPath: folders.outbox + "/wide", withIntermediateDirectories: true)
        try Data([0xFF, 0xD8, 0xFF]).write(to: URL(fileURLWithPath: folders.outbox + "/wide/sea-2.jpg"))
        try job("sea", lane: "wide", cost: 1.25, path: toDone) { $0.outputPath = folders.outbox + "/wide/sea-2" }
        try job("rejected", path: [.submitting, .failed]) {
            $0.failureCategory = "moderation"
            $0.failureMessage = "the content filter rejected the prompt"
        }
        try job("stopped", path: [.cancelled])
        // Held and uncertain jobs are shown whenever they were last changed.
        at(-30 * 86_400)
        try job("later", path: [.held]) {
            $0.failureMessage = "budget nightly ($20) reached"
            $0.nextAttemptAt = start.addingTimeInterval(86_400 + 3600)
        }
        try job("lost", path: [.submitting, .uncertain]) { $0.failureMessage = "the create call timed out" }
        at(2 * 86_400)
        try job("tomorrow", path: toDone)

        let writer = MorningReportWriter(configuration: configuration, store: store)
        let report = try await writer.report(since: start, until: start.addingTimeInterval(86_400))
        let byName = Dictionary(uniqueKeysWithValues: report.entries.map { ($0.displayName, $0) })
        #expect(Set(byName.keys) == ["wide/sea-2", "rejected", "stopped", "later", "lost"])
        #expect(report.totals == [.done: 1, .failed: 1, .held: 1, .uncertain: 1, .cancelled: 1])

        let sea = try #require(byName["wide/sea-2"])
        #expect(sea.posterPath == "../wide/sea-2.jpg" && sea.videoPath == "../wide/sea-2.mp4")
        #expect(sea.cost == 1.25 && sea.model == "quality" && sea.ratio == "9:16" && sea.resolution == "1080p" && sea.duration == 5)
        #expect(byName["rejected"]?.category == "moderation")
        #expect(byName["rejected"]?.advice?.contains("Rephrase the prompt") == true)
        #expect(byName["later"]?.reason == "budget nightly ($20) reached")
        #expect(byName["later"]?.nextAttemptAt == start.addingTimeInterval(86_400 + 3600))
        #expect(byName["lost"]?.advice?.contains("hotfolder retry lost") == true)
        #expect(report.budgets.isEmpty)

        // Budgets come from the source the budget feature plugs in.
        var budgeted = writer
        budgeted.budgets = { _ in [MorningReport.BudgetLine(name: "nightly", cap: 20, spent: 1.25)] }
        let written = try await budgeted.write(since: start, until: start.addingTimeInterval(86_400))
        let html = try String(contentsOfFile: written.html, encoding: .utf8)
        #expect(written.html == folders.outbox + "/_reports/2026-12-01.html")
        #expect(html.contains("<td>nightly</td>") && html.contains("<b>Goes:</b> 2026-12-01 01:53"))
        #expect(written.contactSheet == nil && html.contains("No contact sheet: "), "the fake poster is not an image ffmpeg reads")
        try store.close()
    }

    @Test func reportsOlderThanKeepDaysAreRemoved() throws {
        let folders = try ServiceFolders("report-keep")
        var configuration = folders.configuration(baseURL: "http://127.0.0.1:1")
        configuration.timeZone = TimeZone(identifier: "UTC")!
        let store = try SQLiteStateStore(directory: folders.state)
        let writer = MorningReportWriter(configuration: configuration, store: store)
        let reports = folders.outbox + "/_reports"
        try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
        let names = [
            "2026-08-01.html", "2026-08-01.csv", "2026-08-01-contact.jpg", "2026-09-02.html", "2026-09-03.html",
            "2026-12-02.html", "2026-08-01-notes.txt", "readme.txt",
        ]
        for name in names { try Data("x".utf8).write(to: URL(fileURLWithPath: reports + "/" + name)) }
        let today = ReportScheduleTestsClock.date("2026-12-02 07:00")
        #expect(writer.removeReports(olderThan: 0, today: today).isEmpty, "0 keeps everything")
        let removed = writer.removeReports(olderThan: 90, today: today)
        #expect(removed == ["2026-08-01-contact.jpg", "2026-08-01.csv", "2026-08-01.html", "2026-09-02.html"], "90 days before is kept")
        #expect(try FileManager.default.contentsOfDirectory(atPath: reports).sorted()
            == ["2026-08-01-notes.txt", "2026-09-03.html", "2026-12-02.html", "readme.txt"])
        try store.close()
    }

    @Test func relativePaths() {
        #expect(MorningReportWriter.relativePath(from: "/srv/outbox/_reports", to: "/srv/outbox/a/b.jpg") == "../a/b.jpg")
        #expect(MorningReportWriter.relativePath(from: "/srv/outbox/_reports", to: "/srv/outbox/b.jpg") == "../b.jpg")
        #expect(MorningReportWriter.relativePath(from: "/tmp/r", to: "/srv/outbox/b.jpg") == "../../srv/outbox/b.jpg")
    }
}

/// UTC wall-clock times for the report tests.
enum ReportScheduleTestsClock {
    static func date(_ text: String) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let p = text.split(whereSeparator: { "- :".contains($0) }).map { Int($0)! }
        return calendar.date(from: DateComponents(year: p[0], month: p[1], day: p[2], hour: p[3], minute: p[4]))!
    }
}
