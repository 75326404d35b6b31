// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// One job's page: video, actions, settings with their sources, the request sent, the timeline, the log, inputs.
extension Dashboard {
    func jobPage(_ detail: JobDetail, message: String?) -> String {
        let e = HTML.escape
        let job = detail.job
        let base = "\(prefix)/jobs/\(job.id)"
        var actions = ""
        if detail.actions.contains("retry") {
            let label = job.state == "uncertain" ? "Resolve: send again (may bill twice)" : "Retry"
            actions += "<form method=\"post\" action=\"\(e(base))/retry\"><button type=\"submit\" id=\"retry\">\(label)</button></form>"
        }
        if detail.actions.contains("cancel") {
            let label = job.state == "uncertain" ? "Resolve: give up" : "Cancel"
            actions += "<form method=\"post\" action=\"\(e(base))/cancel\"><button type=\"submit\" id=\"cancel\" class=\"danger\">\(label)</button></form>"
        }
        let video = job.video.map {
            "<video controls preload=\"metadata\" src=\"\(e($0))\"\(job.poster.map { " poster=\"\(e($0))\"" } ?? "")></video>"
        } ?? ""
        let progress = ["submitted", "running", "downloading"].contains(job.state) ? HTML.progress(job.progress, id: job.id) : ""
        let settings = detail.settings.map { s -> String in "<tr><th>\(e(s.name))</th><td>\(e(s.value))</td><td class=\"source\">\(e(s.source))</td></tr>" }.joined()
        let timeline = detail.timeline.map { entry -> String in
            let change = entry.to.map { to in (entry.from.map { "\($0) → " } ?? "") + to } ?? entry.kind
            return "<li>\(HTML.time(entry.at)) <b>\(e(change))</b> \(e(entry.message ?? ""))</li>"
        }.joined()
        let inputs = detail.inputs.map { input -> String in
            let thumb = input.url.map { "<img src=\"\(e($0))\" alt=\"\(e(input.path))\" loading=\"lazy\">" } ?? ""
            return "<figure>\(thumb)<figcaption>\(e(input.path))</figcaption></figure>"
        }.joined()
        let request = detail.request.flatMap { try? DashboardResponses.prettyEncoder.encode($0) }.map { String(decoding: $0, as: UTF8.self) }
        let body = """
            <h1 data-job-page="\(job.id)">\(e(job.lane.isEmpty ? job.name : job.lane + "/" + job.name))</h1>
            \(message.map { "<p class=\"message\" role=\"status\">\(e($0))</p>" } ?? "")
            <p>State: <span class="state state-\(job.state)" id="job-state">\(job.state)</span>\(progress)
            \(job.failureMessage.map { " — <span class=\"error\">\(e((job.failureCategory.map { $0 + ": " } ?? "") + $0))</span>" } ?? "")</p>
            <div class="actions">\(actions)</div>
            \(video)
            <div class="grid">
            <section><h2>Settings and where each came from</h2><table>\(settings)</table></section>
            <section><h2>Timeline</h2><ol class="timeline">\(timeline)</ol></section>
            </div>
            \(inputs.isEmpty ? "" : "<section><h2>Inputs</h2><div class=\"inputs\">\(inputs)</div></section>")
            \(request.map { "<section><h2>Request sent</h2><pre>\(e($0))</pre></section>" } ?? "")
            \(detail.log.map { "<section><h2>Log</h2><pre class=\"log\">\(e($0))</pre></section>" } ?? "")
            <p class="id">Job id \(job.id)</p>
            """
        return HTML.page(title: job.name, prefix: prefix, current: "", body: body)
    }
}
