// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import SeedanceEmulator
import Testing

/// Real answers of the API against `etc/openapi.yaml` (checked by jsonschema in the test venv).
extension ServiceSuites {
@Suite struct DashboardOpenAPITests {
    @Test func realAnswersMatchTheSpec() async throws {
        let folders = try ServiceFolders("dash-openapi")
        let emulator = try await startEmulator()
        try await withDashboard(folders, emulator: emulator) { http, events, store in
            try folders.drop("fox.txt", "A red fox running through fresh snow")
            try folders.drop("owl.txt", "An owl at dusk")
            await events.wait(for: "2 videos") { $0.filter(\.isDone).count >= 2 }
            let fox = try #require(try store.findJobs("fox").first)
            let (status, output) = try await ReportTools.runOffThread(
                try ReportTools.browserPython(),
                [ReportTools.packageRoot + "/scripts/api/check_openapi.py", ReportTools.packageRoot + "/etc/openapi.yaml", http.base,
                 fox.id.lowercasedString])
            #expect(status == 0, "\(output)")
            #expect(output.contains("ok   GET /api/v1/jobs/\(fox.id.lowercasedString) -> 200"), "\(output)")
            #expect(output.contains("-> 409"), "cancelling a done job is a conflict: \(output)")
        }
        await emulator.shutdown()
    }

    @Test func schemathesisFindsNoServerError() async throws {
        let folders = try ServiceFolders("dash-fuzz")
        let emulator = try await startEmulator()
        try await withDashboard(folders, emulator: emulator) { http, events, _ in
            try folders.drop("fox.txt", "A red fox running through fresh snow")
            await events.wait(for: "a video") { $0.contains(where: \.isDone) }
            let schemathesis = (try ReportTools.browserPython() as NSString).deletingLastPathComponent + "/schemathesis"
            try #require(FileManager.default.isExecutableFile(atPath: schemathesis), "run scripts/setup.sh (schemathesis)")
            let (status, output) = try await ReportTools.runOffThread(
                schemathesis,
                [
                    "run", ReportTools.packageRoot + "/etc/openapi.yaml", "--url", http.base, "--checks", "not_a_server_error",
                    "--max-examples", "40", "--seed", "11", "--exclude-path", "/api/v1/events", "--request-timeout", "10",
                    "--no-color",
                ])
            #expect(status == 0, "\(output)")
            #expect(output.contains("Tested: 5") && output.contains("generated"), "schemathesis ran every operation but the stream: \(output)")
        }
        await emulator.shutdown()
    }
}
}

extension ReportTools {
    /// ``run(_:_:)`` on a thread of its own, so the in-process server it talks to keeps the cooperative pool.
    static func runOffThread(_ executable: String, _ arguments: [String]) async throws -> (Int32, String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    let (status, out, err) = try run(executable, arguments)
                    continuation.resume(returning: (status, out + err))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
