// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The request context: Hummingbird's basics plus the channel, which the `reset` and `truncate` faults close.
struct EmulatorContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Endpoint names used in counters and records.
enum Endpoint {
    static let upload = "gateway.upload"
    static let create = "gateway.create"
    static let status = "gateway.status"
    static let arkCreate = "ark.create"
    static let arkStatus = "ark.status"
    static let arkList = "ark.list"
    static let arkDelete = "ark.delete"
    static let video = "files.video"
    static let image = "files.upload"
}

/// The emulator's HTTP surface: the gateway and Ark protocols, result and upload files, and `/_emulator/stats`.
struct EmulatorRoutes: Sendable {
    let state: EmulatorState
    let renderer: VideoRenderer
    let logger: Logger

    /// Path prefix of Ark's task endpoints.
    static let arkTasks = "/api/v3/contents/generations/tasks"

    func router() -> Router<EmulatorContext> {
        let router = Router(context: EmulatorContext.self)
        router.post("/v1/uploads/images") { request, context in try await upload(request, context) }
        router.post("/v1/videos/generations") { request, context in try await createGateway(request, context) }
        router.get("/v1/tasks/:id") { request, context in try await statusGateway(request, context) }
        router.post(.init(stringLiteral: Self.arkTasks)) { request, context in try await createArk(request, context) }
        router.get(.init(stringLiteral: Self.arkTasks)) { request, context in try await listArk(request, context) }
        router.get(.init(stringLiteral: Self.arkTasks + "/:id")) { request, context in try await statusArk(request, context) }
        router.delete(.init(stringLiteral: Self.arkTasks + "/:id")) { request, context in try await deleteArk(request, context) }
        router.get("/files/:name") { request, context in try await video(request, context) }
        router.get("/uploads/:name") { request, context in try await uploadedImage(request, context) }
        router.get("/_emulator/stats") { _, _ in try EmulatorRoutes.encoded(state.stats) }
        router.get("/_emulator/requests") { _, _ in try EmulatorRoutes.encoded(state.records) }
        return router
    }

    // MARK: Shared steps

    /// Counts the call, then applies the request-level faults and the key check; a non-nil answer ends the request.
    func preflight(_ endpoint: String, _ request: Request, _ context: EmulatorContext, ark: Bool) async throws -> Response? {
        state.count(endpoint)
        if state.roll(.reset) {
            // Close without answering: the client sees the connection drop, as with a reset.
            try? await context.channel.close()
            return Response(status: .ok)
        }
        if state.roll(.stall) {
            // Hold the answer, but let a shutdown end the wait instead of blocking it.
            try? await cancelWhenGracefulShutdown {
                try await Task.sleep(for: .milliseconds(Int64(state.configuration.stallSeconds * 1000)))
            }
        }
        if state.roll(.rateLimit) {
            var response = EmulatorRoutes.error(
                .tooManyRequests, code: ark ? "RateLimitExceeded.EndpointRPM" : "rate_limit_exceeded",
                message: "Too many requests, please retry later.", type: ark ? "TooManyRequests" : "rate_limit_error")
            response.headers[.retryAfter] = "\(state.configuration.retryAfterSeconds)"
            return response
        }
        if state.roll(.serverError) {
            let status = state.pick([HTTPResponse.Status.internalServerError, .badGateway, .serviceUnavailable])
            return EmulatorRoutes.error(
                status, code: ark ? "InternalServiceError" : "server_error",
                message: "The server had an error while processing your request.", type: "server_error")
        }
        guard request.headers[.authorization] == "Bearer \(state.configuration.apiKey)" else {
            return EmulatorRoutes.error(
                .unauthorized, code: ark ? "AuthenticationError" : "invalid_api_key",
                message: "The API key in the request is missing or invalid.",
                type: ark ? "Unauthorized" : "authentication_error")
        }
        return nil
    }

    /// After a task was created, applies the faults that lose its answer (`created_then_502`, `created_then_reset`,
    /// `no_task_id`); a non-nil answer replaces the one carrying the task id.
    func lostCreateAnswer(_ context: EmulatorContext, ark: Bool) async -> Response? {
        if state.roll(.createdThen502) {
            state.bump { $0.createAnswersLost += 1 }
            return EmulatorRoutes.badGatewayPage()
        }
        if state.roll(.createdThenReset) {
            // Counted before the close, so a client that sees the drop also sees the count.
            state.bump { $0.createAnswersLost += 1 }
            try? await context.channel.close()
            return Response(status: .ok)
        }
        if state.roll(.noTaskID) {
            state.bump { $0.createAnswersLost += 1 }
            return ark ? EmulatorRoutes.json(.ok, [String: Any]()) : EmulatorRoutes.json(.ok, ["code": 200, "data": [["status": "submitted"]]])
        }
        return nil
    }

    /// Reads a JSON body (at most 1 MB), records the request, and parses the object.
    func jsonBody(_ request: Request, endpoint: String) async -> Result<[String: Any], RuleViolation> {
        guard let buffer = try? await request.body.collect(upTo: 1 << 20) else {
            record(request, endpoint: endpoint, body: nil, bytes: 0)
            return .failure(RuleViolation(status: 413, code: "request_too_large", message: "The request body is larger than 1 MB."))
        }
        record(request, endpoint: endpoint, body: String(buffer: buffer), bytes: buffer.readableBytes)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] else {
            return .failure(RuleViolation(code: "invalid_json", message: "The request body is not a JSON object."))
        }
        return .success(object)
    }

    func record(_ request: Request, endpoint: String, body: String?, bytes: Int) {
        guard state.configuration.recordLimit > 0 else { return }
        var headers: [String: String] = [:]
        for field in request.headers where field.name != .authorization {
            headers[field.name.canonicalName] = field.value
        }
        state.record(
            ReceivedRequest(
                method: request.method.rawValue, path: request.uri.description, endpoint: endpoint, headers: headers,
                bodyJSON: body, bodyBytes: bytes, receivedAt: state.now))
    }

    /// `http://host:port` as the client addressed us, for absolute result and upload URLs.
    func baseURL(_ request: Request) -> String {
        let host = request.head.authority ?? "\(state.configuration.host):\(state.configuration.port)"
        return "http://\(host)"
    }

    // MARK: Responses

    static func json(_ status: HTTPResponse.Status, _ object: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: .withoutEscapingSlashes)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// nginx's 502 page, what a gateway's front answers when the backend behind it drops the call.
    static func badGatewayPage() -> Response {
        let html =
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n"
            + "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        return Response(status: .badGateway, headers: [.contentType: "text/html"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// `{"error":{"code","message","type"[,"param"]}}`, the shape both gateways and Ark use.
    static func error(_ status: HTTPResponse.Status, code: String, message: String, type: String, param: String? = nil) -> Response {
        var detail: [String: Any] = ["code": code, "message": message, "type": type]
        if let param { detail["param"] = param }
        return json(status, ["error": detail])
    }

    static func violation(_ violation: RuleViolation, ark: Bool) -> Response {
        error(
            HTTPResponse.Status(code: violation.status), code: ark && violation.code.hasPrefix("invalid") ? "InvalidParameter" : violation.code,
            message: violation.message, type: ark ? "BadRequest" : "invalid_request_error", param: violation.param)
    }

    static func encoded(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
