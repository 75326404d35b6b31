// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO

/// The pages' HTML (escaped with ``HTML/escape(_:)``; links carry the base path).
extension Dashboard {
    func overviewPage(_ status: DashboardStatus) -> String {
        let e = HTML.escape
        let counts = JobState.allCases.compactMap { state -> String? in
            guard let count = status.counts[state.rawValue], count > 0 else { return nil }
            return "<a class=\"count state-\(state.rawValue)\" href=\"\(e(prefix))/jobs?state=\(state.rawValue)\"><b>\(count)</b> \(state.rawValue)</a>"
        }.joined()
        let waiting = status.waitingFor.isEmpty
            ? "<p>Nothing holds the queue: \(status.inFlight) of \(status.maxInFlight) tasks in flight.</p>"
            : "<ul>" + status.waitingFor.map { line -> String in "<li>\(e(line))</li>" }.joined() + "</ul>"
        let watch = status.watch
        let watchText = """
            <dl><dt>Mode</dt><dd>\(e(watch.mode ?? "starting"))\(watch.fileSystem.map { " (" + e($0) + ")" } ?? "")</dd>
            <dt>Inbox</dt><dd>\(e(context.inbox))\(watch.reachable ? "" : " — <b class=\"error\">unreachable</b>: " + e(watch.problem ?? ""))</dd>
            <dt>Folders watched</dt><dd>\(watch.folders.map { "<span id=\"watch-folders\">\($0)</span>" } ?? "–")\(watch.scanned ? "" : " (first scan under way)")</dd>
            <dt>Last file</dt><dd>\(HTML.time(watch.lastEvent)) (\(watch.events) since the start)</dd></dl>
            """
        let disk = status.outboxDisk.map { "<p>\(HTML.bytes($0.freeBytes)) free of \(HTML.bytes($0.totalBytes)) on the outbox's disk (\(e($0.path))).</p>" }
            ?? "<p>The outbox's disk cannot be read.</p>"
        let budget = status.budget.map { budget -> String in
            "<ul>" + budget.text.map { line -> String in "<li>\(e(line.trimmingCharacters(in: .whitespaces)))</li>" }.joined() + "</ul>"
        } ?? "<p>No spending cap is set.</p>"
        let body = """
            <h1>Overview</h1>
            <section class="counts" id="counts">\(counts.isEmpty ? "<p>No jobs yet: drop a file into the inbox.</p>" : counts)</section>
            <div class="grid">
            <section><h2>Done per hour, last 24 h</h2>\(HTML.throughputChart(status.finishedPerHour))</section>
            <section><h2>The queue</h2>\(waiting)</section>
            <section><h2>Watcher</h2>\(watchText)</section>
            <section><h2>Disk</h2>\(disk)<h2>Spend</h2>\(budget)</section>
            </div>
            <section><h2>Recent failures</h2>\(jobTable(status.recentFailures, empty: "No failures."))</section>
            """
        return HTML.page(title: "Overview", prefix: prefix, current: "/", body: body)
    }

    func jobsPage(_ page: JobListPage, filter: JobListFilter, lanes: [String]) -> String {
        let e = HTML.escape
        let selected = filter.states.first?.rawValue
        let stateOptions = (["" as String] + JobState.allCases.map(\.rawValue)).map { state -> String in
            "<option value=\"\(state)\"\(state == (selected ?? "") ? " selected" : "")>\(state.isEmpty ? "any state" : state)</option>"
        }.joined()
        let laneOptions = ([nil] + lanes.map { Optional($0) }).map { lane -> String in
            let value = lane.map { $0.isEmpty ? "/" : $0 } ?? ""
            let chosen = lane == filter.lane && (lane != nil || filter.lane == nil)
            return "<option value=\"\(e(value))\"\(chosen ? " selected" : "")>\(e(lane.map { $0.isEmpty ? "(inbox)" : $0 } ?? "any lane"))</option>"
        }.joined()
        var next = ""
        if let cursor = page.nextCursor {
            var query = ["cursor=" + DashboardResponses.queryEscape(cursor)]
            if let selected { query.append("state=" + selected) }
            if let lane = filter.lane { query.append("lane=" + DashboardResponses.queryEscape(lane.isEmpty ? "/" : lane)) }
            if let q = filter.query { query.append("q=" + DashboardResponses.queryEscape(q)) }
            next = "<p><a class=\"button\" rel=\"next\" href=\"\(e(prefix))/jobs?\(e(query.joined(separator: "&")))\">Older jobs →</a></p>"
        }
        let body = """
            <h1>Jobs</h1>
            <form class="filter" method="get" action="\(e(prefix))/jobs">
            <select name="state" aria-label="state">\(stateOptions)</select>
            <select name="lane" aria-label="lane">\(laneOptions)</select>
            <input type="search" name="q" value="\(e(filter.query ?? ""))" placeholder="name or prompt" aria-label="search">
            <button type="submit">Show</button></form>
            \(jobTable(page.rows.map { JobSummary($0, prefix: prefix) }, empty: "No job matches."))
            \(next)
            """
        return HTML.page(title: "Jobs", prefix: prefix, current: "/jobs", body: body)
    }

    func failedPage(_ page: JobListPage, message: String?) -> String {
        let e = HTML.escape
        let rows = page.rows.map { row -> String in
            let job = JobSummary(row, prefix: prefix)
            return """
                <tr data-job-row="\(job.id)"><td><input type="checkbox" name="id" value="\(job.id)" checked aria-label="select \(e(job.name))"></td>
                <td><a href="\(e(prefix))/jobs/\(job.id)">\(e(job.lane.isEmpty ? job.name : job.lane + "/" + job.name))</a></td>
                <td class="state state-\(job.state)">\(job.state)</td><td>\(e(job.failureCategory ?? ""))</td><td>\(e(job.failureMessage ?? ""))</td></tr>
                """
        }.joined()
        let body = """
            <h1>Failed and uncertain</h1>
            \(message.map { "<p class=\"message\" role=\"status\">\(e($0))</p>" } ?? "")
            <p>Retrying a failed job moves its files back into the inbox; retrying an uncertain one sends it again (it may be billed twice).</p>
            \(page.rows.isEmpty ? "<p>Nothing failed.</p>" : """
            <form method="post" action="\(e(prefix))/failed/retry">
            <table><thead><tr><th></th><th>Job</th><th>State</th><th>Category</th><th>What happened</th></tr></thead><tbody>\(rows)</tbody></table>
            <button type="submit" id="bulk-retry">Retry selected</button></form>
            """)
            """
        return HTML.page(title: "Failed", prefix: prefix, current: "/failed", body: body)
    }

    /// A table of jobs with poster, state and live progress.
    func jobTable(_ jobs: [JobSummary], empty: String) -> String {
        guard !jobs.isEmpty else { return "<p>\(empty)</p>" }
        let e = HTML.escape
        let rows = jobs.map { job -> String in
            let poster = job.poster.map { "<img src=\"\(e($0))\" alt=\"\" loading=\"lazy\" width=\"80\" height=\"45\">" } ?? ""
            let progress = ["submitted", "running", "downloading"].contains(job.state) ? HTML.progress(job.progress, id: job.id) : ""
            return """
                <tr data-job-row="\(job.id)"><td class="poster">\(poster)</td>
                <td><a href="\(e(prefix))/jobs/\(job.id)">\(e(job.name))</a><div class="prompt">\(e(String((job.prompt ?? job.failureMessage ?? "").prefix(140))))</div></td>
                <td>\(e(job.lane))</td><td class="state state-\(job.state)">\(job.state)\(progress)</td><td>\(HTML.time(job.updatedAt))</td></tr>
                """
        }.joined()
        return "<table class=\"jobs\"><thead><tr><th></th><th>Name</th><th>Lane</th><th>State</th><th>Updated</th></tr></thead><tbody>\(rows)</tbody></table>"
    }
}
