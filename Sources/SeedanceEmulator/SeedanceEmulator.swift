// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// A local Seedance server speaking the gateway and Ark protocols, for tests, benchmarks and the demo.
///
/// In-process use:
/// ```swift
/// let emulator = try await SeedanceEmulator.start(configuration)   // port 0 = a free port
/// … emulator.baseURL, emulator.stats, emulator.receivedRequests …
/// await emulator.shutdown()
/// ```
/// or, scoped so it always stops: `try await SeedanceEmulator.withRunning(configuration) { emulator in … }`.
public final class SeedanceEmulator: Sendable {
    /// `http://host:port`, the base URL clients use for both protocols.
    public let baseURL: String
    /// The bound port (useful when the configuration asked for 0).
    public let port: Int
    /// The configuration it runs with.
    public let configuration: EmulatorConfiguration
    /// Where result videos come from: `ffmpeg` or `bundled`.
    public let videoSource: String

    private let state: EmulatorState
    private let group: ServiceGroup
    // The one stored unstructured task: `start`/`shutdown` must outlive the caller's scope (the demo keeps an
    // emulator running beside the service). Scoped callers should prefer `withRunning`.
    private let server: Task<Void, Never>

    private init(
        baseURL: String, port: Int, state: EmulatorState, videoSource: String, group: ServiceGroup, server: Task<Void, Never>
    ) {
        self.group = group
        self.baseURL = baseURL
        self.port = port
        self.configuration = state.configuration
        self.videoSource = videoSource
        self.state = state
        self.server = server
    }

    /// Counters: requests by endpoint, tasks created, uploads, videos, faults.
    public var stats: EmulatorStats { state.stats }

    /// The most recent requests received (up to ``EmulatorConfiguration/recordLimit``), without `Authorization`.
    public var receivedRequests: [ReceivedRequest] { state.records }

    /// Forgets the recorded requests (counters stay).
    public func clearReceivedRequests() { state.clearRecords() }

    /// Starts a server and returns once it listens.
    public static func start(_ configuration: EmulatorConfiguration, logger: Logger = Logger(label: "seedance-emulator")) async throws -> SeedanceEmulator {
        let (application, state, renderer) = try prepare(configuration, logger: logger)
        let (bound, continuation) = AsyncStream.makeStream(of: Result<Int, any Error>.self)
        let group = ServiceGroup(services: [application(continuation)], logger: logger)
        let server = Task {
            do {
                try await group.run()
            } catch {
                continuation.yield(.failure(error))
            }
            continuation.finish()
            try? FileManager.default.removeItem(at: state.directory)
        }
        var iterator = bound.makeAsyncIterator()
        switch await iterator.next() {
        case .success(let port):
            return SeedanceEmulator(
                baseURL: "http://\(urlHost(configuration.host)):\(port)", port: port, state: state,
                videoSource: renderer.ffmpegPath == nil ? "bundled" : "ffmpeg", group: group, server: server)
        case .failure(let error):
            throw EmulatorError.cannotBind(host: configuration.host, port: configuration.port, reason: "\(error)")
        case nil:
            throw EmulatorError.cannotBind(host: configuration.host, port: configuration.port, reason: "the server stopped at once.")
        }
    }

    /// Runs `body` with a started emulator and shuts it down afterwards, whatever happens.
    public static func withRunning<T: Sendable>(
        _ configuration: EmulatorConfiguration, logger: Logger = Logger(label: "seedance-emulator"),
        _ body: (SeedanceEmulator) async throws -> T
    ) async throws -> T {
        let emulator = try await start(configuration, logger: logger)
        do {
            let result = try await body(emulator)
            await emulator.shutdown()
            return result
        } catch {
            await emulator.shutdown()
            throw error
        }
    }

    /// Runs in the foreground until SIGINT or SIGTERM (the `hotfolder emulator` command); `onStart` gets the
    /// base URL and the video source once the server listens.
    public static func runUntilSignalled(
        _ configuration: EmulatorConfiguration, logger: Logger = Logger(label: "seedance-emulator"),
        onStart: @escaping @Sendable (_ baseURL: String, _ videoSource: String) -> Void
    ) async throws {
        let (application, state, renderer) = try prepare(configuration, logger: logger)
        let source = renderer.ffmpegPath == nil ? "bundled" : "ffmpeg"
        let (bound, continuation) = AsyncStream.makeStream(of: Result<Int, any Error>.self)
        defer { try? FileManager.default.removeItem(at: state.directory) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await case .success(let port) in bound {
                    onStart("http://\(urlHost(configuration.host)):\(port)", source)
                }
            }
            group.addTask {
                defer { continuation.finish() }
                try await application(continuation).runService()
            }
            try await group.waitForAll()
        }
    }

    /// Stops the server gracefully: it stops accepting, ends stalled requests, finishes the others.
    public func shutdown() async {
        await group.triggerGracefulShutdown()
        await server.value
    }

    private typealias ApplicationMaker = @Sendable (AsyncStream<Result<Int, any Error>>.Continuation) -> Application<RouterResponder<EmulatorContext>>

    private static func prepare(_ configuration: EmulatorConfiguration, logger: Logger) throws -> (ApplicationMaker, EmulatorState, VideoRenderer) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seedance-emulator-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let ffmpegPath = configuration.videoSource == .automatic ? VideoRenderer.findExecutable("ffmpeg") : nil
        let state = EmulatorState(
            configuration: configuration, directory: directory, videoSource: ffmpegPath == nil ? "bundled" : "ffmpeg")
        let renderer = try VideoRenderer(ffmpegPath: ffmpegPath, directory: directory, logger: logger) {
            state.bump { $0.videosRendered += 1 }
        }
        if renderer.ffmpegPath == nil {
            logger.notice(
                configuration.videoSource == .bundled
                    ? "Serving the bundled 160x90 MP4 for every video (video source: bundled)."
                    : "ffmpeg is not on PATH: serving the bundled 160x90 MP4 instead of rendered videos.")
        }
        let routes = EmulatorRoutes(state: state, renderer: renderer, logger: logger)
        let maker: ApplicationMaker = { continuation in
            Application(
                router: routes.router(),
                configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
                onServerRunning: { channel in continuation.yield(.success(channel.localAddress?.port ?? configuration.port)) },
                logger: logger)
        }
        return (maker, state, renderer)
    }

    private static func urlHost(_ host: String) -> String {
        host.contains(":") ? "[\(host)]" : host
    }
}
