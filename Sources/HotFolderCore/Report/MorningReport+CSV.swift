// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// The report as CSV: one row per job, in the page's order, for spreadsheets and scripts (RFC 4180; times in
/// ISO 8601 UTC; cost in US dollars as a plain number).
extension MorningReport {
    /// The column names of ``csv()``.
    public static let csvColumns = [
        "outcome", "lane", "name", "model", "duration", "ratio", "resolution", "cost_usd", "queued_at", "updated_at",
        "seconds_taken", "category", "reason", "next_attempt_at", "video", "poster", "prompt",
    ]

    /// The CSV text, header first, lines ended by CRLF as RFC 4180 says.
    public func csv() -> String {
        var lines = [Self.csvColumns.joined(separator: ",")]
        for entry in sortedEntries {
            let cells: [String] = [
                entry.outcome.rawValue, entry.lane, entry.name, entry.model, entry.duration.map(String.init) ?? "",
                entry.ratio ?? "", entry.resolution ?? "", entry.cost.map { String(format: "%.4f", $0) } ?? "",
                Self.iso(entry.queuedAt), Self.iso(entry.updatedAt), String(Int(entry.secondsTaken.rounded())),
                entry.category ?? "", entry.reason ?? "", entry.nextAttemptAt.map(Self.iso) ?? "",
                entry.videoPath ?? "", entry.posterPath ?? "", entry.prompt,
            ]
            lines.append(cells.map(Self.csvCell).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// A cell quoted when it holds a comma, a quote or a line break (quotes doubled). A cell starting with
    /// `=`, `+`, `-` or `@` gets a leading `'` so a spreadsheet does not run it as a formula.
    static func csvCell(_ text: String) -> String {
        var text = text
        if let first = text.first, "=+-@".contains(first), Double(text) == nil { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == ";" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func iso(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
