// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

/// Builds the dashboard's server-rendered pages: every value from the store or a request goes through ``escape(_:)``.
enum HTML {
    /// `text` safe inside an element or a quoted attribute (the morning report's escaping, shared).
    static func escape(_ text: String) -> String { MorningReport.escape(text) }

    /// A whole page: the navigation, `body`, the stylesheet and the small script (all from this server).
    static func page(title: String, prefix: String, current: String, body: String, showNav: Bool = true) -> String {
        let links = [("Overview", "/"), ("Jobs", "/jobs"), ("Failed & uncertain", "/failed")].map { name, route -> String in
            let here = route == current ? " aria-current=\"page\"" : ""
            return "<a href=\"\(escape(prefix + route))\"\(here)>\(name)</a>"
        }.joined()
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · hotfolder</title>
            <link rel="stylesheet" href="\(escape(prefix))/static/app.css">
            <script src="\(escape(prefix))/static/app.js" defer></script>
            </head><body data-base="\(escape(prefix))">
            <header><strong>hotfolder</strong>\(showNav ? "<nav>\(links)</nav><span id=\"live\" class=\"live\" title=\"live updates\">offline</span>" : "")</header>
            <main>
            \(body)
            </main>
            </body></html>
            """
    }

    /// A `<time>` showing the UTC time, which the script shows in the reader's zone.
    static func time(_ date: Date?) -> String {
        guard let date else { return "—" }
        let text = date.formatted(.iso8601)
        return "<time datetime=\"\(text)\">\(text.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC"))</time>"
    }

    /// A byte count in words (`1.2 GB`).
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// A 24-bar chart of jobs done per hour, as inline SVG (no script needed).
    static func throughputChart(_ hours: [Int]) -> String {
        let highest = max(1, hours.max() ?? 1)
        let (width, height, gap) = (24 * 12, 80, 2)
        let bars = hours.enumerated().map { index, count -> String in
            let barHeight = count == 0 ? 0 : max(2, count * (height - 14) / highest)
            let age = hours.count - index
            return "<rect x=\"\(index * 12)\" y=\"\(height - 12 - barHeight)\" width=\"\(12 - gap)\" height=\"\(barHeight)\"><title>\(count) done \(age - 1)–\(age) h ago</title></rect>"
        }.joined()
        return """
            <svg class="chart" viewBox="0 0 \(width) \(height)" role="img" aria-label="jobs done per hour over the last 24 hours, at most \(highest) per hour">\
            \(bars)<text x="0" y="\(height - 1)">24 h ago</text><text x="\(width)" y="\(height - 1)" text-anchor="end">now</text></svg>
            """
    }

    /// A progress bar for a job (`data-progress` is updated live).
    static func progress(_ percent: Int?, id: String) -> String {
        let value = percent ?? 0
        return "<progress data-job=\"\(escape(id))\" max=\"100\" value=\"\(value)\">\(value)%</progress>"
    }
}
