// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import SeedanceEmulator
import Testing

@testable import HotFolderIO

/// The key must never appear in an error, a log line or a description.
@Suite struct APIKeyRedactionTests {
    @Test func keyNeverPrints() {
        let key = APIKey(testKey)
        var dumped = ""
        dump(key, to: &dumped)
        for text in ["\(key)", String(describing: key), String(reflecting: key), dumped] {
            #expect(!text.contains(testKey))
        }
        let configuration = VideoAPIConfiguration(baseURL: "http://x", apiKey: key)
        var dumpedConfiguration = ""
        dump(configuration, to: &dumpedConfiguration)
        #expect(!"\(configuration)".contains(testKey) && !dumpedConfiguration.contains(testKey))
        #expect(key.redact("echo: Bearer \(testKey).") == "echo: Bearer \(APIKey.placeholder).")
    }

    @Test func keyNeverLeaksFromFailures() async throws {
        var descriptions: [String] = []
        let request = GenerationRequest(model: SeedanceModel.fast.rawValue, prompt: "x", duration: 2, resolution: "480p")
        for fault in EmulatorFault.allCases {
            let lines = try await Fixture.with({ $0.faults = [fault: 1]; $0.stallSeconds = 10 }) { fixture in
                var found: [String] = []
                for api in [fixture.gateway(timeout: 0.5) as any VideoAPI, fixture.ark(timeout: 0.5)] {
                    found.append(String(describing: api))
                    do {
                        let id = try await api.createTask(request)
                        let task = try await api.task(id: id)
                        found.append("\(task)")
                        if case .succeeded(let url, _) = task.status {
                            try await api.download(from: url, to: fixture.directory.appendingPathComponent("v.mp4").path)
                        }
                        try await api.cancelTask(id: id)
                    } catch {
                        found.append("\(error)")
                        found.append(String(reflecting: error))
                    }
                }
                // A wrong key, too: the server's refusal must not echo either key.
                let wrong = await apiError { _ = try await fixture.gateway(key: "test-other-MARKER-99", timeout: 0.5).createTask(request) }
                found.append("\(String(describing: wrong))")
                return found + fixture.log.all
            }
            descriptions += lines
        }
        #expect(descriptions.count > 20)
        #expect(descriptions.contains { $0.contains("warning") })
        let leaks = descriptions.filter { $0.contains(testKey) || $0.contains("test-other-MARKER-99") }
        #expect(leaks.isEmpty, "leaked: \(leaks.prefix(3))")
    }
}
