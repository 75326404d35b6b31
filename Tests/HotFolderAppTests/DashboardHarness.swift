// SPDX-License-Identifier: GPL-2.0-or-later
import AsyncHTTPClient
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import Logging
import NIOCore
import NIOHTTP1
import SeedanceEmulator
import ServiceLifecycle
import Testing

/// A running service with its dashboard on a free loopback port, and an HTTP client for the test.
struct DashboardClient: Sendable {
    /// `http://127.0.0.1:PORT` plus the base path.
    let base: String
    let client: HTTPClient

    /// One answer, its body collected.
    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: String
        /// The body's length in bytes.
        var bytes: Int
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] }
    }

    /// Sends a request to `path` (under the base) and collects the answer (redirects are not followed).
    func send(
        _ path: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: String? = nil
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(request, timeout: .seconds(10))
        let buffer = try await response.body.collect(upTo: 32 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, body: String(buffer: buffer), bytes: buffer.readableBytes)
    }
}

/// Runs the service and its dashboard (`http.listen` on 127.0.0.1, a free port) against `emulator` for `body`.
func withDashboard(
    _ folders: ServiceFolders, emulator: SeedanceEmulator, token: String? = nil,
    configure: (inout ServiceConfiguration) -> Void = { _ in },
    _ body: (DashboardClient, ServiceEvents, SQLiteStateStore) async throws -> Void
) async throws {
    var configuration = folders.configuration(baseURL: emulator.baseURL)
    configuration.http.port = 0
    configure(&configuration)
    let store = try SQLiteStateStore(directory: configuration.stateDirectory)
    let events = ServiceEvents()
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
    let logs = LogLines()
    let logger = logs.logger()
    let api = ServiceLauncher.makeAPI(configuration: configuration, apiKey: serviceTestKey, httpClient: client, uploadCache: store, logger: logger)
    let service = HotFolderService(configuration: configuration, api: api, store: store, logger: logger, observer: events.record)
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let dashboard = DashboardServer(service: service, token: token, api: api, logger: logger) { continuation.yield($0) }
    let group = ServiceGroup(configuration: .init(services: [.init(service: service), .init(service: dashboard)], logger: logger))
    do {
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            let http = configuration.http
            try await body(DashboardClient(base: "http://127.0.0.1:\(port)\(http.prefix)", client: client), events, store)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    } catch {
        try? await client.shutdown()
        throw error
    }
    try await client.shutdown()
    if let token {
        let leaks = logs.all.filter { $0.contains(token) }
        #expect(leaks.isEmpty, "the dashboard token appeared in a log line: \(leaks.prefix(3))")
    }
}
