// SPDX-License-Identifier: GPL-2.0-or-later
import AsyncHTTPClient
import Foundation
import HotFolderCore
import Logging
import SeedanceEmulator
import Synchronization
import Testing

@testable import HotFolderIO

/// A test marker standing in for a key; never a real key.
let testKey = "test-key-MARKER-5f1c9e2a"

/// Log lines captured from the clients, to check that the key never appears.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    /// A logger at trace level that writes here.
    func logger(_ label: String = "test") -> Logger {
        var logger = Logger(label: label) { _ in CapturingHandler(log: self) }
        logger.logLevel = .trace
        return logger
    }
}

struct CapturingHandler: LogHandler {
    let log: CapturedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        log.append("\(event.level) \(event.message) \(merged.map { "\($0)=\($1)" }.sorted().joined(separator: " "))")
    }
}

/// Everything a client test needs: a running emulator, a shared HTTP client, both API clients, a temp folder.
struct Fixture: Sendable {
    let emulator: SeedanceEmulator
    let http: HTTPClient
    let log: CapturedLog
    let directory: URL
    let cache: InMemoryUploadCache

    func configuration(key: String = testKey, timeout: Double = 5) -> VideoAPIConfiguration {
        var configuration = VideoAPIConfiguration(baseURL: emulator.baseURL, apiKey: APIKey(key))
        configuration.requestTimeout = timeout
        configuration.uploadTimeout = timeout
        configuration.downloadTimeout = max(timeout, 10)
        return configuration
    }

    func gateway(key: String = testKey, timeout: Double = 5) -> GatewayVideoAPI {
        GatewayVideoAPI(httpClient: http, configuration: configuration(key: key, timeout: timeout), uploadCache: cache, logger: log.logger("gateway"))
    }

    func ark(key: String = testKey, timeout: Double = 5) -> ArkVideoAPI {
        ArkVideoAPI(httpClient: http, configuration: configuration(key: key, timeout: timeout), logger: log.logger("ark"))
    }

    /// Writes a small file that passes the PNG magic-byte check.
    func pngFile(_ name: String = "image.png", seed: UInt8 = 1) throws -> String {
        let bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<2000).map { UInt8(truncatingIfNeeded: Int($0) &* Int(seed)) }
        let path = directory.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Names of the files in the temp folder.
    func files() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    /// Runs `body` against a fresh emulator (port 0, immediate tasks, bundled video) and cleans up.
    static func with<T: Sendable>(
        _ adjust: (inout EmulatorConfiguration) -> Void = { _ in }, _ body: (Fixture) async throws -> T
    ) async throws -> T {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.apiKey = testKey
        configuration.queueSeconds = 0
        configuration.runSeconds = 0
        configuration.videoSource = .bundled
        adjust(&configuration)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotfolder-io-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let result = try await SeedanceEmulator.withRunning(configuration) { emulator in
                try await body(
                    Fixture(emulator: emulator, http: http, log: CapturedLog(), directory: directory, cache: InMemoryUploadCache()))
            }
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}

/// The error a call threw, as a ``VideoAPIError`` (fails the test if it threw something else or nothing).
func apiError(_ body: () async throws -> Void) async -> VideoAPIError? {
    do {
        try await body()
        return nil
    } catch let error as VideoAPIError {
        return error
    } catch {
        Issue.record("expected a VideoAPIError, got \(error)")
        return nil
    }
}
