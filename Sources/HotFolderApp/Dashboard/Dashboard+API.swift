// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Hummingbird

/// `/healthz`, `/readyz`, `/metrics` and the JSON API under `/api/v1` (described in `etc/openapi.yaml`).
extension Dashboard {
    func addHealthRoutes(_ router: Router<BasicRequestContext>) {
        router.get(path("/healthz")) { _, _ in DashboardResponses.text("ok\n") }
        router.get(path("/readyz")) { _, _ in await answer { await readiness() } }
        router.get(path("/metrics")) { _, _ in
            await answer {
                DashboardResponses.text(
                    await context.metrics.scrape(store: store, configuration: context.configuration, clients: store.liveFeed.subscriberCount),
                    contentType: "text/plain; version=0.0.4; charset=utf-8")
            }
        }
    }

    /// Ready when the database takes a write, the inbox is reachable and the queue is not paused.
    func readiness() async -> Response {
        var problems: [String] = []
        if await !store.canWrite() { problems.append("the state database does not take writes") }
        if FileSystemProbe.lstat(context.inbox)?.kind != .directory || !context.watchHealth.current.reachable {
            problems.append("the inbox \(context.inbox) is not reachable")
        }
        if let pause = QueuePause.load(stateDirectory: context.configuration.stateDirectory) {
            problems.append("the queue is paused (\(pause.category)): \(pause.reason)")
        }
        guard problems.isEmpty else { return DashboardResponses.text("not ready: " + problems.joined(separator: "; ") + "\n", status: .serviceUnavailable) }
        return DashboardResponses.text("ready\n")
    }

    func addAPIRoutes(_ router: Router<BasicRequestContext>) {
        router.get(path("/api/v1/status")) { _, _ in
            await answer { DashboardResponses.json(try await status()) }
        }
        router.get(path("/api/v1/jobs")) { request, _ in
            await answer {
                let (filter, cursor, limit) = try listParameters(QueryParameters(request.uri.query))
                let page = try await store.jobListPage(filter, cursor: cursor, limit: limit)
                return DashboardResponses.json(JobList(jobs: page.rows.map { JobSummary($0, prefix: prefix) }, nextCursor: page.nextCursor))
            }
        }
        router.get(path("/api/v1/jobs/:id")) { _, requestContext in
            let id = Result { try jobID(requestContext) }
            return await answer {
                let id = try id.get()
                guard let detail = try await detail(id) else { return DashboardResponses.error(.notFound, "There is no job \(id.lowercasedString).") }
                return DashboardResponses.json(detail)
            }
        }
        router.post(path("/api/v1/jobs/:id/retry")) { _, requestContext in
            try await answerAsync { try await act(.retry, on: try jobID(requestContext)) }
        }
        router.post(path("/api/v1/jobs/:id/cancel")) { _, requestContext in
            try await answerAsync { try await act(.cancel, on: try jobID(requestContext)) }
        }
        router.get(path("/api/v1/events")) { _, _ in events() }
    }

    /// The job list's answer.
    struct JobList: Encodable {
        var jobs: [JobSummary]
        var nextCursor: String?
    }

    /// The answer to a retry or cancel.
    struct ActionResult: Encodable {
        var job: JobSummary
        var message: String
    }

    enum Action: String {
        case retry, cancel
    }

    /// Retries or cancels one job through ``JobControl``, as `hotfolder retry` and `hotfolder cancel` do.
    func act(_ action: Action, on id: UUID) async throws -> Response {
        guard let job = try await store.job(id: id) else { return DashboardResponses.error(.notFound, "There is no job \(id.lowercasedString).") }
        guard Self.actions(for: job.state).contains(action.rawValue) else {
            return DashboardResponses.error(.conflict, "\(job.displayName) is \(job.state.rawValue): there is nothing to \(action.rawValue).")
        }
        let outcome = action == .retry ? await control.retry([job]) : await control.cancel([job], api: api)
        let message = outcome.lines.joined(separator: " ")
        guard !outcome.hadErrors else { return DashboardResponses.error(.conflict, message) }
        let after = try await store.job(id: id) ?? job
        return DashboardResponses.json(ActionResult(job: JobSummary(after, task: try await store.activeTask(ofJob: id), prefix: prefix), message: message))
    }

    /// The list's filter, cursor and page size from the query, or a 400 that says which is wrong.
    func listParameters(_ query: QueryParameters) throws -> (JobListFilter, String?, Int) {
        var filter = JobListFilter()
        if let states = query["state"] {
            filter.states = try states.split(separator: ",").map { name in
                guard let state = JobState(rawValue: String(name)) else {
                    throw DashboardRequestError.badRequest(
                        "`state` is '\(name)'; use one of \(JobState.allCases.map(\.rawValue).joined(separator: ", ")), comma-separated.")
                }
                return state
            }
        }
        filter.lane = query["lane"].map { $0 == "/" ? "" : $0 }
        filter.query = query["q"]
        var limit = 50
        if let text = query["limit"] {
            guard let value = Int(text), (1...500).contains(value) else {
                throw DashboardRequestError.badRequest("`limit` is '\(text)'; use a whole number from 1 to 500.")
            }
            limit = value
        }
        return (filter, query["cursor"], limit)
    }

    func jobID(_ requestContext: BasicRequestContext) throws -> UUID {
        let text = requestContext.parameters.get("id") ?? ""
        guard let id = UUID(uuidString: text) else { throw DashboardRequestError.notFound("There is no job '\(text)' (a job id is a UUID).") }
        return id
    }

    /// Runs `body`, turning a bad request, a missing thing or a store failure into a JSON error (never a stack trace).
    /// Answers from the store on the thread pool for blocking work (see ``page(_:)``); errors become JSON errors.
    /// `body`'s response, or the error's (the store's reads are async: SQLite's run on the blocking pool).
    func answer(_ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch {
            return Self.errorResponse(error)
        }
    }

    func answerAsync(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch {
            return Self.errorResponse(error)
        }
    }

    static func errorResponse(_ error: any Error) -> Response {
        switch error {
        case DashboardRequestError.badRequest(let message): DashboardResponses.error(.badRequest, message)
        case DashboardRequestError.notFound(let message): DashboardResponses.error(.notFound, message)
        case StateStoreError.badCursor: DashboardResponses.error(.badRequest, "\(error)")
        default: DashboardResponses.error(.internalServerError, "The state database could not answer: \(error)")
        }
    }
}

/// A request the dashboard cannot answer as asked.
enum DashboardRequestError: Error {
    case badRequest(String)
    case notFound(String)
}
