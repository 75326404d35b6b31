// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Testing

/// `hotfolder demo` as a user runs it: it must print where the dashboard is (issue 11).
@Suite struct DemoCommandEndToEndTests {
    @Test func theDemoPrintsTheDashboardsAddress() async throws {
        let dir = try TemporaryDirectory("demo")
        let process = Process()
        process.executableURL = try PlanCommandEndToEndTests.hotfolder()
        process.arguments = ["demo", "--directory", dir.file("demo"), "--dashboard-port", "0"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning { process.interrupt() }
            process.waitUntilExit()
        }
        // Read stderr until the dashboard line; a demo that never prints it is stopped after 60 s (its output ends).
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60))
            process.interrupt()
        }
        defer { watchdog.cancel() }
        let reader = err.fileHandleForReading
        let line = await Task.detached { () -> String? in
            var text = ""
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { return nil }  // end of output
                text += String(decoding: chunk, as: UTF8.self)
                if let found = text.split(separator: "\n").first(where: { $0.hasPrefix("  dashboard ") }) { return String(found) }
            }
        }.value
        let found = try #require(line, "hotfolder demo printed no dashboard line")
        #expect(found.contains("http://127.0.0.1:"), "\(found)")
        #expect(!found.contains(":0/"), "the port the dashboard listens on, not the one asked for")
    }
}
