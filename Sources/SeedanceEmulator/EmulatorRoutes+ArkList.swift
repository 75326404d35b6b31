// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Hummingbird

/// Ark's task list (`spec/seedance-api.md` §5): `GET …/tasks?page_num=&page_size=&filter.…=`.
extension EmulatorRoutes {
    /// The statuses `filter.status` accepts (the emulator never lets a task expire, so `expired` matches none).
    static let arkStatuses: Set<String> = ["queued", "running", "succeeded", "failed", "cancelled", "expired"]

    /// `GET …/tasks` → `{"total": N, "items": [task, …]}`, newest first, filtered by `filter.status`,
    /// `filter.model` and the repeatable `filter.task_ids`; `page_num` and `page_size` are 1–500.
    func listArk(_ request: Request, _ context: EmulatorContext) async throws -> Response {
        if let answer = try await preflight(Endpoint.arkList, request, context, ark: true) { return answer }
        record(request, endpoint: Endpoint.arkList, body: nil, bytes: 0)
        let query = request.uri.queryParameters
        let pageNumber: Int
        let pageSize: Int
        do {
            pageNumber = try Self.pageParameter("page_num", query, default: 1)
            pageSize = try Self.pageParameter("page_size", query, default: 10)
        } catch {
            return EmulatorRoutes.violation(error, ark: true)
        }
        // Empty values (`filter.status=`) mean no filter, as clients fill a URL template.
        let status = query.get("filter.status").flatMap { $0.isEmpty ? nil : $0 }
        if let status, !Self.arkStatuses.contains(status) {
            return EmulatorRoutes.violation(
                RuleViolation(
                    code: "invalid_parameter", param: "filter.status",
                    message: "The parameter filter.status specified in the request is not valid: use one of "
                        + "\(Self.arkStatuses.sorted().joined(separator: ", "))."),
                ark: true)
        }
        let model = query.get("filter.model").flatMap { $0.isEmpty ? nil : $0 }
        let ids = Set(query.getAll("filter.task_ids").filter { !$0.isEmpty })
        let now = state.now
        let matching = state.tasks(of: .ark).filter { task in
            (ids.isEmpty || ids.contains(task.id)) && (model == nil || task.model == model)
                && (status == nil || Self.arkStatus(task.phase(at: now)) == status)
        }
        let items = matching.dropFirst((pageNumber - 1) * pageSize).prefix(pageSize).map { arkObject($0, request) }
        return EmulatorRoutes.json(.ok, ["total": matching.count, "items": Array(items)])
    }

    /// An integer query parameter from 1 to 500, or `fallback` when absent or empty.
    private static func pageParameter(_ name: String, _ query: Parameters, default fallback: Int) throws(RuleViolation) -> Int {
        guard let text = query.get(name), !text.isEmpty else { return fallback }
        guard let value = Int(text), (1...500).contains(value) else {
            throw RuleViolation(
                code: "invalid_parameter", param: name,
                message: "The parameter \(name) specified in the request is not valid: it must be an integer from 1 to 500.")
        }
        return value
    }
}
