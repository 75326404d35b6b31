// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing

/// A webhook receiver on 127.0.0.1 for the notification tests: records every POST, and can be told to answer
/// with an error, to answer late, or be stopped and started again on the same port.
final class WebhookReceiver: Sendable {
    /// One request as received.
    struct Received: Sendable {
        var headers: [String: String]
        var body: Data
        var at: Date

        /// The body as a JSON object.
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:] }
        var id: String { json["id"] as? String ?? "" }
        var type: String { json["type"] as? String ?? "" }
        var job: [String: Any] { json["job"] as? [String: Any] ?? [:] }
    }

    /// How to answer the next requests.
    enum Answer: Sendable {
        case status(Int)
        /// Waits this long, then answers 200.
        case late(Double)
    }

    private struct State {
        var received: [Received] = []
        /// Answers for the next requests, in order; then 200.
        var script: [Answer] = []
        var server: (group: ServiceGroup, task: Task<Void, Never>)?
    }

    private let state = Mutex(State())
    /// The bound port, fixed after the first start.
    let port: Int

    var url: String { "http://127.0.0.1:\(port)/hook" }
    var received: [Received] { state.withLock { $0.received } }

    /// Starts a receiver on a free port.
    static func start(script: [Answer] = []) async throws -> WebhookReceiver {
        let (group, task, port) = try await serve(port: 0, sink: nil)
        let receiver = WebhookReceiver(port: port)
        await group.triggerGracefulShutdown()
        await task.value
        receiver.script(script)
        try await receiver.restart()
        return receiver
    }

    private init(port: Int) {
        self.port = port
    }

    /// Sets the answers for the next requests.
    func script(_ answers: [Answer]) {
        state.withLock { $0.script = answers }
    }

    /// Starts again on the same port (after ``stop()``).
    func restart() async throws {
        let (group, task, _) = try await Self.serve(port: port, sink: self)
        state.withLock { $0.server = (group, task) }
    }

    /// Stops listening; requests get "connection refused" until ``restart()``.
    func stop() async {
        guard let server = state.withLock({ state -> (group: ServiceGroup, task: Task<Void, Never>)? in
            defer { state.server = nil }
            return state.server
        }) else { return }
        await server.group.triggerGracefulShutdown()
        await server.task.value
    }

    fileprivate func handle(headers: [String: String], body: Data) async -> Int {
        let answer = state.withLock { state -> Answer in
            state.received.append(Received(headers: headers, body: body, at: Date()))
            return state.script.isEmpty ? .status(200) : state.script.removeFirst()
        }
        switch answer {
        case .status(let code):
            return code
        case .late(let seconds):
            try? await Task.sleep(for: .seconds(seconds))
            return 200
        }
    }

    /// Waits until `condition` holds on what was received (polled: the receiver has no event to await), or
    /// records an issue after `timeout` seconds.
    @discardableResult
    func wait(
        for what: String, timeout: Double = 20, sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: ([Received]) -> Bool
    ) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(received) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        if condition(received) { return true }
        Issue.record("timed out after \(timeout) s waiting for \(what); received: \(received.map(\.type))", sourceLocation: sourceLocation)
        return false
    }

    private static func serve(port: Int, sink: WebhookReceiver?) async throws -> (ServiceGroup, Task<Void, Never>, Int) {
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let code = await sink?.handle(headers: headers, body: Data(buffer.readableBytesView)) ?? 200
            return Response(status: .init(code: code))
        }
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .critical
        let (bound, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? port) }, logger: logger)
        let group = ServiceGroup(services: [application], logger: logger)
        let task = Task {
            try? await group.run()
            continuation.finish()
        }
        var iterator = bound.makeAsyncIterator()
        guard let actual = await iterator.next() else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "the webhook receiver could not bind port \(port)"])
        }
        return (group, task, actual)
    }
}
