// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

/// The morning report's page and table, rendered from hand-made values.
@Suite struct MorningReportTests {
    static let start = Date(timeIntervalSince1970: 1_796_000_000)
    static let utc = TimeZone(identifier: "UTC")!

    static func entry(
        _ name: String, _ outcome: MorningReport.Outcome, lane: String = "", minutes: Double = 10, cost: Double? = 0.05,
        prompt: String = "a calm sea at dawn"
    ) -> MorningReport.Entry {
        var entry = MorningReport.Entry(
            name: name, lane: lane, outcome: outcome, prompt: prompt, model: "fast", duration: 5, ratio: "16:9",
            resolution: "720p", cost: cost, queuedAt: start, updatedAt: start.addingTimeInterval(minutes * 60))
        switch outcome {
        case .done:
            entry.videoPath = "../\(lane.isEmpty ? "" : lane + "/")\(name).mp4"
            entry.posterPath = "../\(lane.isEmpty ? "" : lane + "/")\(name).jpg"
        case .failed:
            entry.category = "moderation"
            entry.reason = "the content filter rejected the prompt"
            entry.advice = "Rephrase the prompt."
        case .held:
            entry.reason = "budget nightly reached"
            entry.nextAttemptAt = start.addingTimeInterval(86_400)
        default: break
        }
        return entry
    }

    static var sample: MorningReport {
        MorningReport(
            period: DateInterval(start: start, duration: 86_400), timeZone: utc,
            entries: [
                entry("sunset", .done, minutes: 5, cost: 0.10),
                entry("cat", .done, lane: "portrait", minutes: 7, cost: 0.25),
                entry("bad", .failed, minutes: 20),
                entry("later", .held, minutes: 30),
                entry("lost", .uncertain, minutes: 1),
                entry("stopped", .cancelled, minutes: 2),
            ])
    }

    @Test func everyJobAppearsFailedAndHeldFirst() throws {
        let html = Self.sample.html()
        for name in ["sunset", "portrait/cat", "bad", "later", "lost", "stopped"] {
            #expect(html.contains(">\(name)</span>"), "\(name) is missing")
        }
        let order = ["bad", "later", "lost", "sunset", "portrait/cat", "stopped"].map { html.range(of: ">\($0)</span>")!.lowerBound }
        #expect(order == order.sorted(), "failed, held, uncertain, done, cancelled")
        #expect(html.contains("Why (moderation):</b> the content filter rejected the prompt"))
        #expect(html.contains("What to do:</b> Rephrase the prompt."))
        #expect(html.contains("<b>Goes:</b> 2026-12-01"))
        #expect(html.contains("src=\"../portrait/cat.jpg\""))
        #expect(html.contains("href=\"../sunset.mp4\""))
    }

    @Test func totalsSpendAndLanes() {
        let report = Self.sample
        #expect(report.totals == [.done: 2, .failed: 1, .held: 1, .uncertain: 1, .cancelled: 1])
        #expect(abs(report.spent - 0.35) < 1e-9, "only finished videos count as spent")
        #expect(report.lanes == [
            .init(lane: "", jobs: 5, done: 1, spent: 0.10), .init(lane: "portrait", jobs: 1, done: 1, spent: 0.25),
        ])
        let html = report.html()
        #expect(html.contains("<b>2</b> done") && html.contains("<b>1</b> failed") && html.contains("<b>$0.35</b> spent"))
        #expect(html.contains("No budget set."))
        #expect(report.day == "2026-12-01")
    }

    @Test func budgetsAreListed() {
        var report = Self.sample
        report.budgets = [.init(name: "nightly", cap: 20, spent: 12.5, reserved: 1.5, resetsAt: Self.start.addingTimeInterval(86_400))]
        let html = report.html()
        #expect(!html.contains("No budget set."))
        #expect(html.contains("<td>nightly</td><td>$20.00</td><td>$12.50</td><td>$1.50</td><td>$6.00</td><td>2026-12-01 "))
    }

    @Test func userTextIsEscapedAndNothingIsFetched() {
        var report = Self.sample
        report.entries.append(Self.entry(
            "<img src=x onerror=alert(1)>", .done, prompt: "<script>alert('hi')</script> & \"quotes\""))
        report.entries.append(Self.entry("q#1 50% off?", .done))
        let html = report.html()
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;script&gt;alert(&#39;hi&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;"))
        #expect(!html.contains("<img src=x"))
        #expect(html.contains("src=\"../q%231%2050%25%20off%3F.jpg\""))
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("//fonts"), "no external URL")
        #expect(!html.lowercased().contains("<script"), "no script at all")
    }

    @Test func longPromptsAreCut() {
        let long = String(repeating: "word ", count: 100)
        let html = MorningReport(
            period: DateInterval(start: Self.start, duration: 60), timeZone: Self.utc,
            entries: [Self.entry("long", .done, prompt: long)]
        ).html()
        #expect(html.contains("word…"))
        #expect(!html.contains(long.trimmingCharacters(in: .whitespaces)))
    }

    @Test func emptyReportSaysSo() {
        let html = MorningReport(period: DateInterval(start: Self.start, duration: 60), timeZone: Self.utc, entries: []).html()
        #expect(html.contains("No job finished or waited in this period."))
        #expect(html.contains("No contact sheet"))
    }

    @Test func csvHasOneQuotedRowPerJob() throws {
        var report = Self.sample
        report.entries.append(Self.entry("comma", .done, prompt: "one, two \"three\"\nfour"))
        report.entries.append(Self.entry("formula", .done, prompt: "=HYPERLINK(\"x\")"))
        let csv = report.csv()
        let table = try CSVTable.parse(csv)
        #expect(table.header == MorningReport.csvColumns)
        #expect(table.rows.count == report.entries.count)
        let prompt = try #require(table.header.firstIndex(of: "prompt"))
        let name = try #require(table.header.firstIndex(of: "name"))
        let byName = Dictionary(uniqueKeysWithValues: table.rows.map { ($0.cells[name], $0.cells) })
        #expect(byName["comma"]?[prompt] == "one, two \"three\"\nfour")
        #expect(byName["formula"]?[prompt] == "'=HYPERLINK(\"x\")", "a formula is not run by a spreadsheet")
        #expect(table.rows.first?.cells.first == "failed")
        let costColumn = try #require(table.header.firstIndex(of: "cost_usd"))
        #expect(byName["sunset"]?[costColumn] == "0.1000")
    }

    @Test func timesAreShownInTheReportsZone() {
        var report = Self.sample
        report.timeZone = TimeZone(identifier: "Asia/Tokyo")!
        // 1_796_000_000 is 2026-11-30 00:53 UTC, 09:53 in Tokyo.
        #expect(report.html().contains("From 2026-11-30 09:53"))
    }
}
