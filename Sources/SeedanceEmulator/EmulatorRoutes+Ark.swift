// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Hummingbird

/// The Ark protocol (`spec/seedance-api.md` §5): create, get, list, delete under `/api/v3/contents/generations/tasks`.
extension EmulatorRoutes {
    /// `POST …/tasks` with `model`, `content[]` and top-level parameters → `{"id":"cgt-…"}`.
    func createArk(_ request: Request, _ context: EmulatorContext) async throws -> Response {
        if let answer = try await preflight(Endpoint.arkCreate, request, context, ark: true) { return answer }
        let object: [String: Any]
        switch await jsonBody(request, endpoint: Endpoint.arkCreate) {
        case .success(let value): object = value
        case .failure(let violation): return EmulatorRoutes.violation(violation, ark: true)
        }
        if state.roll(.insufficientBalance) {
            return EmulatorRoutes.error(
                .forbidden, code: "AccountOverdueError",
                message: "The request failed because your account has an overdue balance.", type: "Forbidden")
        }
        let valid: ValidatedRequest
        do {
            valid = try RequestValidator.ark(object)
        } catch {
            return EmulatorRoutes.violation(error, ark: true)
        }
        let task = state.createTask(
            provider: .ark, model: valid.model, prompt: valid.prompt, duration: valid.duration,
            resolution: valid.resolution, ratio: valid.ratio, seed: valid.seed, images: valid.images,
            serviceTier: valid.serviceTier, executionExpiresAfter: valid.executionExpiresAfter)
        if let lost = await lostCreateAnswer(context, ark: true) { return lost }
        return EmulatorRoutes.json(.ok, ["id": task.id])
    }

    /// `GET …/tasks/{id}`: statuses queued, running, succeeded, failed, cancelled.
    func statusArk(_ request: Request, _ context: EmulatorContext) async throws -> Response {
        if let answer = try await preflight(Endpoint.arkStatus, request, context, ark: true) { return answer }
        record(request, endpoint: Endpoint.arkStatus, body: nil, bytes: 0)
        guard let id = context.parameters.get("id"), let task = state.task(id), task.provider == .ark else {
            return EmulatorRoutes.error(
                .notFound, code: "ResourceNotFound", message: "The specified task was not found.", type: "NotFound")
        }
        return EmulatorRoutes.json(.ok, arkObject(task, request))
    }

    /// `DELETE …/tasks/{id}`: a queued task is cancelled, a finished one deleted, a running one refused.
    func deleteArk(_ request: Request, _ context: EmulatorContext) async throws -> Response {
        if let answer = try await preflight(Endpoint.arkDelete, request, context, ark: true) { return answer }
        record(request, endpoint: Endpoint.arkDelete, body: nil, bytes: 0)
        let id = context.parameters.get("id") ?? ""
        switch state.deleteTask(id) {
        case .cancelled, .deleted:
            return EmulatorRoutes.json(.ok, [String: Any]())
        case .notFound:
            return EmulatorRoutes.error(
                .notFound, code: "ResourceNotFound", message: "The specified task was not found.", type: "NotFound")
        case .notAllowed(let status):
            return EmulatorRoutes.error(
                .conflict, code: "InvalidAction.TaskStatus",
                message: "A task in status \(status) cannot be cancelled or deleted.", type: "BadRequest")
        }
    }

    /// The task object of `GET …/tasks/{id}` and of the list's `items`; `created_at` is unix seconds.
    func arkObject(_ task: EmulatorTask, _ request: Request) -> [String: Any] {
        var object: [String: Any] = [
            "id": task.id, "model": task.model, "error": NSNull(), "created_at": Int(task.createdAt),
            "updated_at": Int(task.createdAt), "seed": task.seed, "resolution": task.resolution.rawValue,
            "ratio": task.ratio.rawValue, "duration": task.duration, "framespersecond": 24, "service_tier": task.serviceTier,
            "execution_expires_after": task.executionExpiresAfter,
        ]
        let phase = task.phase(at: state.now)
        object["status"] = Self.arkStatus(phase)
        switch phase {
        case .pending, .processing:
            break
        case .completed(let at):
            object["updated_at"] = Int(at)
            object["content"] = ["video_url": "\(baseURL(request))/files/\(task.id).mp4"]
            object["usage"] = ["completion_tokens": task.tokens, "total_tokens": task.tokens]
        case .failed(let at):
            object["updated_at"] = Int(at)
            if let failure = task.failure { object["error"] = ["code": failure.code, "message": failure.message] }
        case .cancelled(let at):
            object["updated_at"] = Int(at)
        }
        return object
    }

    /// Ark's name for a phase.
    static func arkStatus(_ phase: EmulatorTask.Phase) -> String {
        switch phase {
        case .pending: "queued"
        case .processing: "running"
        case .completed: "succeeded"
        case .failed: "failed"
        case .cancelled: "cancelled"
        }
    }
}
