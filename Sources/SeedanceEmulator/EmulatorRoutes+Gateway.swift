// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Hummingbird
import NIOCore
import _NIOFileSystem

/// The gateway protocol (`spec/seedance-api.md` §2–4): upload, create, status.
extension EmulatorRoutes {
    /// `POST /v1/uploads/images`: multipart field `file`, JPEG/PNG/WebP/GIF by magic bytes, at most 20 MB.
    func upload(_ request: Request, _ context: EmulatorContext) async throws -> Response {
        if let answer = try await preflight(Endpoint.upload, request, context, ark: false) { return answer }
        let limit = state.configuration.maxUploadBytes
        guard let body = try? await request.body.collect(upTo: limit + 64 * 1024) else {
            record(request, endpoint: Endpoint.upload, body: nil, bytes: 0)
            return EmulatorRoutes.error(
                .contentTooLarge, code: "file_too_large", message: "The file is larger than \(limit / 1_048_576) MB.",
                type: "invalid_request_error")
        }
        record(request, endpoint: Endpoint.upload, body: nil, bytes: body.readableBytes)
        guard let boundary = MultipartForm.boundary(contentType: request.headers[.contentType] ?? "") else {
            return EmulatorRoutes.error(
                .badRequest, code: "invalid_content_type", message: "Send multipart/form-data with a file field.",
                type: "invalid_request_error")
        }
        let bytes = Array(body.readableBytesView)
        guard let part = MultipartForm.filePart(named: "file", in: bytes, boundary: boundary), !part.range.isEmpty else {
            return EmulatorRoutes.error(
                .badRequest, code: "missing_file", message: "The form has no file field.", type: "invalid_request_error",
                param: "file")
        }
        guard part.range.count <= limit else {
            return EmulatorRoutes.error(
                .contentTooLarge, code: "file_too_large", message: "The file is larger than \(limit / 1_048_576) MB.",
                type: "invalid_request_error")
        }
        guard let format = ImageContentType.sniff(bytes[part.range].prefix(12)) else {
            return EmulatorRoutes.error(
                .badRequest, code: "invalid_file_format", message: "Only JPEG, PNG, WebP and GIF images are accepted.",
                type: "invalid_request_error", param: "file")
        }
        let now = state.now
        let name = "\(UUID().uuidString.lowercased()).\(format.fileExtension)"
        let path = state.directory.appendingPathComponent("upload-\(name)").path
        let file = body.getSlice(at: body.readerIndex + part.range.lowerBound, length: part.range.count)!
        try await file.write(toFileAt: FilePath(path))
        state.storeUpload(name: name, .init(path: path, contentType: format.mimeType, createdAt: now))
        return EmulatorRoutes.json(
            .ok,
            [
                "url": "\(baseURL(request))/uploads/\(name)", "filename": part.fileName ?? name,
                "content_type": format.mimeType, "bytes": part.range.count, "created_at": Int(now),
                "expires_at": Int(now + state.configuration.uploadLifetime),
            ])
    }

    /// `POST /v1/videos/generations` → `{"code":200,"data":[{"status":"submitted","task_id":"task_…"}]}`.
    func createGateway(_ request: Request, _ context: EmulatorContext) async throws -> Response {
        if let answer = try await preflight(Endpoint.create, request, context, ark: false) { return answer }
        let object: [String: Any]
        switch await jsonBody(request, endpoint: Endpoint.create) {
        case .success(let value): object = value
        case .failure(let violation): return EmulatorRoutes.violation(violation, ark: false)
        }
        if state.roll(.insufficientBalance) {
            return EmulatorRoutes.error(
                .init(code: 402, reasonPhrase: "Payment Required"), code: "insufficient_balance",
                message: "Insufficient account balance, please top up and try again.", type: "insufficient_quota")
        }
        let valid: ValidatedRequest
        do {
            valid = try RequestValidator.gateway(object)
        } catch {
            return EmulatorRoutes.violation(error, ark: false)
        }
        let task = state.createTask(
            provider: .gateway, model: valid.model, prompt: valid.prompt, duration: valid.duration,
            resolution: valid.resolution, ratio: valid.ratio, seed: valid.seed, images: valid.images)
        if let lost = await lostCreateAnswer(context, ark: false) { return lost }
        return EmulatorRoutes.json(.ok, ["code": 200, "data": [["status": "submitted", "task_id": task.id]]])
    }

    /// `GET /v1/tasks/{id}` → `{"code":200,"data":{id,status,progress,created,estimated_time,result?,error?}}`.
    func statusGateway(_ request: Request, _ context: EmulatorContext) async throws -> Response {
        if let answer = try await preflight(Endpoint.status, request, context, ark: false) { return answer }
        record(request, endpoint: Endpoint.status, body: nil, bytes: 0)
        guard let id = context.parameters.get("id"), let task = state.task(id), task.provider == .gateway else {
            return EmulatorRoutes.error(.notFound, code: "task_not_found", message: "Task not found.", type: "invalid_request_error")
        }
        let now = state.now
        var data: [String: Any] = [
            "id": task.id, "created": Int(task.createdAt),
            "estimated_time": Int((task.queueSeconds + task.runSeconds).rounded(.up)),
        ]
        switch task.phase(at: now) {
        case .pending:
            data["status"] = "pending"
            data["progress"] = 0
        case .processing(let progress):
            data["status"] = "processing"
            data["progress"] = progress
        case .completed(let at):
            data["status"] = "completed"
            data["progress"] = 100
            data["completed"] = Int(at)
            data["actual_time"] = Int((at - task.createdAt).rounded())
            data["result"] = [
                "videos": [
                    [
                        "url": ["\(baseURL(request))/files/\(task.id).mp4"],
                        "expires_at": Int(at + state.configuration.resultLifetime),
                    ]
                ]
            ]
        case .failed(let at):
            data["status"] = "failed"
            data["progress"] = 100
            data["completed"] = Int(at)
            if let failure = task.failure {
                data["error"] = ["code": failure.code, "message": failure.message, "type": failure.gatewayType]
            }
        case .cancelled:
            data["status"] = "cancelled"
        }
        return EmulatorRoutes.json(.ok, ["code": 200, "data": data])
    }
}
