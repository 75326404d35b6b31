// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// The report as one self-contained HTML page: inline CSS, no script, no external URL. Posters and videos are
/// linked by paths relative to the page (`../<lane>/<name>.jpg`), so the page works wherever the outbox is
/// opened from (a shared folder, a copy of it) as long as it stays in `outbox/_reports/`.
extension MorningReport {
    /// The page. Every piece of user text (job names, prompts, reasons) is escaped.
    public func html() -> String {
        var page = ""
        let title = "hotfolder report \(day)"
        page += """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(Self.escape(title))</title>
            <style>\(Self.style)</style>
            </head>
            <body>
            <h1>\(Self.escape(title))</h1>
            <p class="period">From \(Self.escape(time(period.start))) to \(Self.escape(time(period.end))) (\(Self.escape(timeZone.identifier)))</p>

            """
        page += totalsSection()
        page += budgetSection()
        page += laneSection()
        page += jobSection()
        page += contactSection()
        page += "</body>\n</html>\n"
        return page
    }

    // MARK: - Sections

    private func totalsSection() -> String {
        let totals = self.totals
        var html = "<section class=\"totals\">\n"
        for outcome in Outcome.allCases {
            html += "<div class=\"total \(outcome.rawValue)\"><b>\(totals[outcome] ?? 0)</b> \(outcome.rawValue)</div>\n"
        }
        html += "<div class=\"total spent\"><b>\(Self.money(spent))</b> spent</div>\n"
        return html + "</section>\n"
    }

    private func budgetSection() -> String {
        var html = "<h2>Budgets</h2>\n"
        guard !budgets.isEmpty else { return html + "<p class=\"note\">No budget set.</p>\n" }
        html += "<table><thead><tr><th>Budget</th><th>Cap</th><th>Spent</th><th>Reserved</th><th>Left</th><th>Resets</th></tr></thead><tbody>\n"
        for line in budgets {
            html += "<tr><td>\(Self.escape(line.name))</td><td>\(Self.money(line.cap))</td><td>\(Self.money(line.spent))</td>"
                + "<td>\(Self.money(line.reserved))</td><td>\(Self.money(line.left))</td>"
                + "<td>\(line.resetsAt.map { Self.escape(time($0)) } ?? "never")</td></tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    private func laneSection() -> String {
        var html = "<h2>Lanes</h2>\n"
        let lanes = self.lanes
        guard !lanes.isEmpty else { return html + "<p class=\"note\">No jobs in this period.</p>\n" }
        html += "<table><thead><tr><th>Lane</th><th>Jobs</th><th>Videos</th><th>Spent</th></tr></thead><tbody>\n"
        for line in lanes {
            html += "<tr><td>\(line.lane.isEmpty ? "(inbox root)" : Self.escape(line.lane))</td><td>\(line.jobs)</td>"
                + "<td>\(line.done)</td><td>\(Self.money(line.spent))</td></tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    private func jobSection() -> String {
        var html = "<h2>Jobs</h2>\n"
        let entries = sortedEntries
        guard !entries.isEmpty else { return html + "<p class=\"note\">No job finished or waited in this period.</p>\n" }
        html += "<div class=\"cards\">\n"
        for entry in entries { html += card(entry) }
        return html + "</div>\n"
    }

    private func card(_ entry: Entry) -> String {
        var html = "<article class=\"card \(entry.outcome.rawValue)\">\n"
        if let poster = entry.posterPath {
            let image = "<img src=\"\(Self.escape(Self.urlPath(poster)))\" alt=\"poster of \(Self.escape(entry.displayName))\" loading=\"eager\">"
            html += entry.videoPath.map { "<a href=\"\(Self.escape(Self.urlPath($0)))\">\(image)</a>\n" } ?? image + "\n"
        } else if entry.outcome == .done {
            html += "<div class=\"noposter\">no poster</div>\n"
        }
        html += "<h3><span class=\"badge\">\(entry.outcome.rawValue)</span> <span class=\"name\">\(Self.escape(entry.displayName))</span></h3>\n"
        html += "<p class=\"prompt\">\(Self.escape(Self.excerpt(entry.prompt)))</p>\n"
        var facts = [entry.model]
        if let duration = entry.duration { facts.append("\(duration) s") }
        if let ratio = entry.ratio { facts.append(ratio) }
        if let resolution = entry.resolution { facts.append(resolution) }
        facts.append(entry.cost.map { (entry.outcome == .done ? "" : "est. ") + Self.money($0) } ?? "cost unknown")
        if entry.outcome != .held && entry.outcome != .uncertain { facts.append("took \(Self.span(entry.secondsTaken))") }
        html += "<p class=\"facts\">\(Self.escape(facts.joined(separator: " · ")))</p>\n"
        switch entry.outcome {
        case .done:
            if let video = entry.videoPath {
                html += "<p><a href=\"\(Self.escape(Self.urlPath(video)))\">Open the video</a></p>\n"
            }
        case .failed, .cancelled:
            let category = entry.category.map { " (\(Self.escape($0)))" } ?? ""
            html += "<p class=\"reason\"><b>Why\(category):</b> \(Self.escape(entry.reason ?? "no reason was recorded"))</p>\n"
            if let advice = entry.advice { html += "<p class=\"advice\"><b>What to do:</b> \(Self.escape(advice))</p>\n" }
        case .held:
            html += "<p class=\"reason\"><b>Why:</b> \(Self.escape(entry.reason ?? "waiting for a budget or a time window"))</p>\n"
            html += "<p class=\"advice\"><b>Goes:</b> \(entry.nextAttemptAt.map { Self.escape(time($0)) } ?? "when the budget or window allows")</p>\n"
        case .uncertain:
            html += "<p class=\"reason\"><b>Why:</b> \(Self.escape(entry.reason ?? "the create call's outcome is unknown"))</p>\n"
            html += "<p class=\"advice\"><b>What to do:</b> \(Self.escape(entry.advice ?? "check the provider's console, then `hotfolder retry --uncertain` or `hotfolder cancel`"))</p>\n"
        }
        return html + "</article>\n"
    }

    private func contactSection() -> String {
        var html = "<h2>Contact sheet</h2>\n"
        if let sheet = contactSheet {
            html += "<p><a href=\"\(Self.escape(Self.urlPath(sheet)))\"><img class=\"sheet\" src=\"\(Self.escape(Self.urlPath(sheet)))\" alt=\"contact sheet\"></a></p>\n"
        } else {
            html += "<p class=\"note\">\(Self.escape(contactSheetNote ?? "No contact sheet: no video has a poster."))</p>\n"
        }
        return html
    }

    // MARK: - Formatting

    /// `2026-12-03 07:00` in the report's time zone.
    func time(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let p = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d", p.year ?? 0, p.month ?? 0, p.day ?? 0, p.hour ?? 0, p.minute ?? 0)
    }

    /// `$1.23` (three decimals below a cent, so small clips do not read as free).
    static func money(_ value: Double) -> String {
        value != 0 && abs(value) < 0.01 ? String(format: "$%.3f", value) : String(format: "$%.2f", value)
    }

    /// `42 s`, `3 min 5 s`, `2 h 10 min`.
    static func span(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min \(s % 60) s" }
        return "\(s / 3600) h \(s % 3600 / 60) min"
    }

    /// The first 240 characters of a prompt, cut at a word, with `…` when cut.
    static func excerpt(_ prompt: String, limit: Int = 240) -> String {
        guard prompt.count > limit else { return prompt }
        let cut = prompt.prefix(limit)
        let word = cut.lastIndex(where: \.isWhitespace).map { cut[..<$0] } ?? cut
        return word.trimmingCharacters(in: .whitespaces) + "…"
    }

    /// Text safe inside an element or a double-quoted attribute.
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    /// A relative file path as a URL path: each component percent-encoded (`#`, `?`, `%`, spaces), the
    /// separators kept. Never a scheme, so a name such as `javascript:x` stays a file name.
    static func urlPath(_ path: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = path.split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        }.joined(separator: "/")
        // A first component with a colon would read as a scheme; a `./` in front keeps it a path.
        return encoded.contains(":") && !encoded.hasPrefix(".") ? "./" + encoded : encoded
    }

    static let style = """
        body{font-family:system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:0 auto;max-width:1100px;padding:12px;color:#1b1f24;background:#f6f7f9}
        h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.15em;margin:1.2em 0 .4em}
        .period,.note{color:#555}
        .totals{display:flex;flex-wrap:wrap;gap:8px}
        .total{background:#fff;border-radius:8px;padding:8px 12px;box-shadow:0 1px 2px #0002}
        .total b{font-size:1.3em;margin-right:4px}
        .total.failed b{color:#b42318}.total.held b{color:#b54708}.total.uncertain b{color:#6941c6}.total.done b{color:#067647}
        table{border-collapse:collapse;background:#fff;width:100%;max-width:700px}
        th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e4e7ec}
        .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:12px}
        .card{background:#fff;border-radius:8px;padding:10px;box-shadow:0 1px 2px #0002;border-top:4px solid #98a2b3;overflow-wrap:anywhere}
        .card.failed{border-top-color:#d92d20}.card.held{border-top-color:#f79009}.card.uncertain{border-top-color:#7a5af8}.card.done{border-top-color:#17b26a}
        .card img{width:100%;height:auto;border-radius:4px;display:block;background:#000}
        .noposter{background:#eaecf0;color:#667085;padding:40px 0;text-align:center;border-radius:4px}
        .card h3{font-size:1em;margin:.5em 0 .3em}
        .badge{font-size:.75em;text-transform:uppercase;background:#eaecf0;border-radius:4px;padding:1px 5px}
        .prompt{font-style:italic;color:#344054;margin:.3em 0}
        .facts{color:#475467;font-size:.9em;margin:.3em 0}
        .reason,.advice{margin:.3em 0}
        img.sheet{max-width:100%;height:auto}
        @media (max-width:600px){body{padding:8px}.cards{grid-template-columns:1fr}}
        """
}
