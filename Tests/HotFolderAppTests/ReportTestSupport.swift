// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import Synchronization
import Testing

/// A report clock a test moves forward: now is the real time plus an offset; a wait ends once the moved clock
/// reaches its time.
final class MovableReportClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    init(offset: TimeInterval = 0) { self.offset.withLock { $0 = offset } }

    func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 }) }

    func advance(_ seconds: TimeInterval) { offset.withLock { $0 += seconds } }

    var clock: ReportScheduler.Clock {
        ReportScheduler.Clock(now: { self.now() }) { until in
            while self.now() < until { try await Task.sleep(for: .milliseconds(50)) }
        }
    }
}

/// Runs the built `hotfolder` and the browser check.
enum ReportTools {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Runs a program; returns (exit status, stdout, stderr).
    static func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// `.build/debug/hotfolder`.
    static func hotfolder() throws -> String {
        let binary = packageRoot + "/.build/debug/hotfolder"
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build first: swift build --build-tests")
        return binary
    }

    /// The Python with selenium that scripts/setup.sh makes: `${XDG_CACHE_HOME:-$HOME/.cache}/hotfolder/venv`.
    static func browserPython() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.cache"
        let python = cache + "/hotfolder/venv/bin/python"
        try #require(
            FileManager.default.isExecutableFile(atPath: python),
            "the browser test needs selenium in \(cache)/hotfolder/venv and chromium: run scripts/setup.sh")
        return python
    }

    /// Opens `report` in headless Chromium: every name in `expect` shown, every image loaded, nothing fetched.
    static func checkInBrowser(_ report: String, expect: [String], screenshot: String, width: Int = 1100) throws -> (Int32, String) {
        let script = packageRoot + "/scripts/browser/check_report.py"
        let (status, out, err) = try run(
            try browserPython(),
            [script, report, "--screenshot", screenshot, "--width", String(width)] + expect.flatMap { ["--expect", $0] })
        return (status, out + err)
    }
}
