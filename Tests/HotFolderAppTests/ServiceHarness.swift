// SPDX-License-Identifier: GPL-2.0-or-later
import AsyncHTTPClient
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import Logging
import SeedanceEmulator
import ServiceLifecycle
import Synchronization
import Testing

/// The service suites run one test at a time: they start processes, emulators and inotify watchers,
/// and on a 2-core machine running them side by side only makes timing-sensitive steps flaky.
@Suite(.serialized) enum ServiceSuites {}

/// A marker standing in for the API key; every test checks it never lands in a file or a log line.
let serviceTestKey = "svc-key-MARKER-7d2e41b9"

/// A folder layout for one service test: inbox, outbox, failed, archive and state, removed afterwards.
final class ServiceFolders: Sendable {
    let root: String

    init(_ label: String) throws {
        root = NSTemporaryDirectory() + "hotfolder-\(label)-\(UUID().uuidString.prefix(8))"
        for folder in ["inbox", "outbox", "failed", "archive", "state"] {
            try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    var inbox: String { root + "/inbox" }
    var outbox: String { root + "/outbox" }
    var failed: String { root + "/failed" }
    var state: String { root + "/state" }

    /// A configuration for these folders talking to `baseURL`, tuned so tests run in seconds.
    func configuration(baseURL: String) -> ServiceConfiguration {
        var configuration = ServiceConfiguration(inbox: inbox, stateDirectory: state)
        configuration.outbox = outbox
        configuration.failed = failed
        configuration.archive = root + "/archive"
        configuration.baseURL = baseURL
        configuration.settle = .milliseconds(100)
        configuration.pollFirstDelay = .milliseconds(50)
        configuration.pollMinInterval = .milliseconds(50)
        configuration.pollMaxInterval = .milliseconds(300)
        configuration.maxStatusCallsPerSecond = 200
        configuration.backoffBase = .milliseconds(20)
        configuration.backoffMax = .milliseconds(200)
        configuration.requestTimeout = .seconds(5)
        configuration.pauseProbeInterval = .milliseconds(200)
        configuration.shutdownGrace = .seconds(2)
        configuration.maxInFlight = 8
        configuration.defaults = ["resolution": "480p", "duration": "2"]
        return configuration
    }

    /// Writes a file below the inbox (creating folders).
    func drop(_ relative: String, _ text: String) throws {
        try drop(relative, Data(text.utf8))
    }

    func drop(_ relative: String, _ data: Data) throws {
        let path = inbox + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// Every regular file below `folder`, relative, sorted.
    func files(in folder: String) -> [String] {
        let base = root + "/" + folder
        guard let enumerator = FileManager.default.enumerator(atPath: base) else { return [] }
        var result: [String] = []
        while let path = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: base + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
                result.append(path)
            }
        }
        return result.sorted()
    }

    /// Every file the run wrote that contains `marker`.
    func filesContaining(_ marker: String) -> [String] {
        let needle = Data(marker.utf8)
        return files(in: "").filter { path in
            (FileManager.default.contents(atPath: root + "/" + path) ?? Data()).range(of: needle) != nil
        }
    }
}

/// Records service events and lets a test await conditions on them.
actor ServiceEvents {
    private(set) var events: [ServiceEvent] = []
    private var waiters: [(id: UUID, check: @Sendable ([ServiceEvent]) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []
    private var cancelled: Set<UUID> = []

    nonisolated func record(_ event: ServiceEvent) {
        Task { await self.append(event) }
    }

    private func append(_ event: ServiceEvent) {
        events.append(event)
        let ready = waiters.filter { $0.check(events) }
        waiters.removeAll { waiter in ready.contains { $0.id == waiter.id } }
        ready.forEach { $0.continuation.resume() }
    }

    func count(_ predicate: (ServiceEvent) -> Bool) -> Int { events.filter(predicate).count }

    /// Waits until `condition` holds, or records a test issue after `timeout` seconds.
    func wait(
        for what: String, timeout: Double = 30, sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: @escaping @Sendable ([ServiceEvent]) -> Bool
    ) async {
        if condition(events) { return }
        let id = UUID()
        let timedOut = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    Task { await self.add(id: id, check: condition, continuation: continuation) }
                }
                return false
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(timeout))
                return true
            }
            let first = await group.next()!
            if first { self.cancel(id) }
            group.cancelAll()
            return first
        }
        if timedOut {
            Issue.record("timed out after \(timeout) s waiting for \(what); events: \(events)", sourceLocation: sourceLocation)
        }
    }

    private func add(id: UUID, check: @escaping @Sendable ([ServiceEvent]) -> Bool, continuation: CheckedContinuation<Void, Never>) {
        if cancelled.remove(id) != nil || check(events) {
            continuation.resume()
        } else {
            waiters.append((id, check, continuation))
        }
    }

    private func cancel(_ id: UUID) {
        if let index = waiters.firstIndex(where: { $0.id == id }) {
            waiters.remove(at: index).continuation.resume()
        } else {
            cancelled.insert(id)
        }
    }
}

extension ServiceEvent {
    var isDone: Bool { if case .done = self { true } else { false } }
    var isFailed: Bool { if case .failed = self { true } else { false } }
    var isInvalid: Bool { if case .invalid = self { true } else { false } }
    var isUncertain: Bool { if case .uncertain = self { true } else { false } }
}

/// Captured log lines of the service (to search for the key).
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }

    func logger() -> Logger {
        var logger = Logger(label: "hotfolder-test") { _ in LineHandler(sink: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }
}

private struct LineHandler: LogHandler {
    let sink: LogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        sink.append("\(event.level) \(event.message) \(event.metadata ?? [:]) \(metadata)")
    }
}

/// Runs the service in-process against `emulator` for the duration of `body`, then shuts it down gracefully.
func withService(
    _ folders: ServiceFolders, emulator: SeedanceEmulator, logs: LogLines = LogLines(),
    configure: (inout ServiceConfiguration) -> Void = { _ in }, clock: ShiftedClock? = nil,
    reportClock: ReportScheduler.Clock = .system,
    _ body: (ServiceEvents, SQLiteStateStore) async throws -> Void
) async throws {
    var configuration = folders.configuration(baseURL: emulator.baseURL)
    configure(&configuration)
    let wallClock: @Sendable () -> Date = { Date() }
    let now = clock?.closure ?? wallClock
    let store = try SQLiteStateStore(directory: configuration.stateDirectory, clock: now)
    let events = ServiceEvents()
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    let logger = logs.logger()
    let api = ServiceLauncher.makeAPI(configuration: configuration, apiKey: serviceTestKey, httpClient: client, uploadCache: store, logger: logger)
    let service = HotFolderService(
        configuration: configuration, api: api, store: store, logger: logger, clock: now, observer: events.record,
        reportClock: reportClock)
    let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: logger))
    do {
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await body(events, store)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    } catch {
        try? await client.shutdown()
        throw error
    }
    try await client.shutdown()
    #expect(logs.all.allSatisfy { !$0.contains(serviceTestKey) }, "the API key appeared in a log line")
    #expect(folders.filesContaining(serviceTestKey).isEmpty, "the API key appeared in a file the run wrote")
}

/// The wall clock moved by a test (a window opens, a new day starts); time still passes as usual.
final class ShiftedClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    var now: Date { Date().addingTimeInterval(offset.withLock { $0 }) }

    func advance(_ seconds: TimeInterval) { offset.withLock { $0 += seconds } }

    var closure: @Sendable () -> Date { { self.now } }
}

/// Starts an emulator for a test (queue and run time 0 unless given).
func startEmulator(
    port: Int = 0, run: Double = 0, faults: [EmulatorFault: Double] = [:], bundled: Bool = true, stall: Double = 30,
    slowTask: Double = 40, cdnFailures: Int = 3
) async throws -> SeedanceEmulator {
    var configuration = EmulatorConfiguration()
    configuration.slowTaskSeconds = slowTask
    configuration.cdnFlakyFailures = cdnFailures
    configuration.port = port
    configuration.apiKey = serviceTestKey
    configuration.queueSeconds = 0
    configuration.runSeconds = run
    configuration.faults = faults
    configuration.stallSeconds = stall
    configuration.videoSource = bundled ? .bundled : .automatic
    var logger = Logger(label: "emulator")
    logger.logLevel = .warning
    return try await SeedanceEmulator.start(configuration, logger: logger)
}

/// Reads a JSON file as a dictionary.
func jsonObject(_ path: String) -> [String: Any] {
    guard let data = FileManager.default.contents(atPath: path),
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return [:] }
    return object
}

/// Polls `condition` until it holds (a store change no event announces), or records an issue after `timeout` s.
func waitUntil(
    _ what: String, timeout: Double = 20, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async throws -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    if try await condition() { return }
    Issue.record("timed out after \(timeout) s waiting for \(what)", sourceLocation: sourceLocation)
}
