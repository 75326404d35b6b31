// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Hummingbird

/// The server-rendered pages (readable with JavaScript off) and the forms behind their buttons.
extension Dashboard {
    func addPageRoutes(_ router: Router<BasicRequestContext>) {
        router.get(path("/")) { _, _ in await page { overviewPage(try await status()) } }
        router.get(path("/jobs")) { request, _ in
            await page {
                let query = QueryParameters(request.uri.query)
                let (filter, cursor, limit) = try listParameters(query)
                let page = try await store.jobListPage(filter, cursor: cursor, limit: limit)
                return jobsPage(page, filter: filter, lanes: try await store.laneNames(limit: 200))
            }
        }
        router.get(path("/failed")) { request, _ in
            await page {
                let query = QueryParameters(request.uri.query)
                let page = try await store.jobListPage(JobListFilter(states: [.failed, .invalid, .uncertain]), cursor: query["cursor"], limit: 100)
                return failedPage(page, message: query["message"])
            }
        }
        router.get(path("/jobs/:id")) { request, requestContext in
            let id = Result { try jobID(requestContext) }
            return await page {
                let id = try id.get()
                guard let detail = try await detail(id) else { throw DashboardRequestError.notFound("There is no job \(id.lowercasedString).") }
                return jobPage(detail, message: QueryParameters(request.uri.query)["message"])
            }
        }
        router.post(path("/jobs/:id/:action")) { _, requestContext in
            do {
                let id = try jobID(requestContext)
                guard let action = requestContext.parameters.get("action").flatMap(Action.init(rawValue:)) else {
                    throw DashboardRequestError.notFound("There is no such action.")
                }
                let message = try await perform(action, on: [id])
                return DashboardResponses.redirect("\(prefix)/jobs/\(id.lowercasedString)?message=\(DashboardResponses.queryEscape(message))")
            } catch {
                return errorPage(error)
            }
        }
        router.post(path("/failed/retry")) { request, _ in
            do {
                let form = try await Self.form(request)
                let ids = form.filter { $0.name == "id" }.compactMap { UUID(uuidString: $0.value) }
                let message = ids.isEmpty ? "No job was selected." : try await perform(.retry, on: ids)
                return DashboardResponses.redirect("\(prefix)/failed?message=\(DashboardResponses.queryEscape(message))")
            } catch {
                return errorPage(error)
            }
        }
        router.get(path("/static/app.css")) { _, _ in DashboardResponses.text(DashboardAssets.css, contentType: "text/css; charset=utf-8") }
        router.get(path("/static/app.js")) { _, _ in DashboardResponses.text(DashboardAssets.script, contentType: "text/javascript; charset=utf-8") }
    }

    /// Retries or cancels jobs; the sentences say what happened to each.
    func perform(_ action: Action, on ids: [UUID]) async throws -> String {
        var jobs: [StoredJob] = []
        var lines: [String] = []
        for id in ids {
            guard let job = try await store.job(id: id) else { continue }
            if Self.actions(for: job.state).contains(action.rawValue) {
                jobs.append(job)
            } else {
                lines.append("\(job.displayName) is \(job.state.rawValue): nothing to \(action.rawValue).")
            }
        }
        guard !jobs.isEmpty else { return lines.joined(separator: " ") }
        let outcome = action == .retry ? await control.retry(jobs) : await control.cancel(jobs, api: api)
        return (lines + outcome.lines).joined(separator: " ")
    }

    /// Renders a page; errors become an error page with the right status.
    ///
    /// The store reads and the rendering run on the thread pool for blocking work, like the service's own store
    /// calls: on a 2-core machine the cooperative pool has two threads, and a page that held one for its queries
    /// would stall the jobs' tasks meanwhile.
    func page(_ body: () async throws -> String) async -> Response {
        do {
            return DashboardResponses.html(try await body())
        } catch {
            return errorPage(error)
        }
    }

    func errorPage(_ error: any Error) -> Response {
        let (status, message): (HTTPResponse.Status, String) = switch error {
        case DashboardRequestError.badRequest(let message): (.badRequest, message)
        case DashboardRequestError.notFound(let message): (.notFound, message)
        case StateStoreError.badCursor: (.badRequest, "\(error)")
        default: (.internalServerError, "The state database could not answer: \(error)")
        }
        return DashboardResponses.html(
            HTML.page(title: "Error", prefix: prefix, current: "", body: "<h1>\(status.code)</h1><p class=\"error\">\(HTML.escape(message))</p>"),
            status: status)
    }

    /// A `application/x-www-form-urlencoded` body as name/value pairs (at most 64 KB).
    static func form(_ request: Request) async throws -> [(name: String, value: String)] {
        let buffer = try await request.body.collect(upTo: 65536)
        let text = String(buffer: buffer)
        return text.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String { String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }
}
