// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import SeedanceEmulator
import Testing

/// Faults decided when a task is created: a slow run, a flaky CDN, a prompt that always fails.
@Suite struct TaskFaultTests {
    @Test func slowTaskReportsProgressAsItGoes() async throws {
        try await RawClient.with({ $0.faults = [.slowTask: 1]; $0.slowTaskSeconds = 3 }) { emulator, client in
            let id = try await client.gatewayTask("A slow cat")
            let arkID = try await client.arkTask("A slow fox")
            #expect(try await client.send(.GET, "\(RawClient.arkTasks)/\(arkID)").json["status"] as? String == "running")
            var progresses: [Int] = []
            var final: [String: Any] = [:]
            let finished = try await RawClient.eventually {
                let data = try await client.send(.GET, "/v1/tasks/\(id)").data
                if data["status"] as? String == "processing" { progresses.append(data["progress"] as? Int ?? -1) }
                final = data
                return data["status"] as? String != "processing"
            }
            #expect(finished && final["status"] as? String == "completed")
            #expect(final["estimated_time"] as? Int == 3)
            #expect(!progresses.isEmpty && progresses.allSatisfy { (1...99).contains($0) }, "\(progresses)")
            #expect(progresses == progresses.sorted())
            #expect(progresses.contains { (10...90).contains($0) }, "seen midway: \(progresses)")
            #expect(emulator.stats.faultsInjected["slow_task"] == 2)
        }
    }

    @Test func cdnFlakyFailsTheFirstDownloadsThenServesTheVideo() async throws {
        try await RawClient.with({ $0.faults = [.cdnFlaky: 1] }) { emulator, client in
            #expect(emulator.configuration.cdnFlakyFailures == 3)
            let url = try await client.gatewayVideoURL(try await client.gatewayTask("A boat"))
            var anonymous = client
            anonymous.key = nil
            #expect(try await anonymous.send(.GET, url).status == 503)
            await #expect(throws: (any Error).self, "a body cut short") { try await anonymous.send(.GET, url) }
            #expect(try await anonymous.send(.GET, url).status == 503)
            #expect(emulator.stats.videosServed == 0)
            let file = try await anonymous.send(.GET, url)
            #expect(file.status == 200 && file.headers["content-type"] == "video/mp4")
            #expect(file.body.count > 1000 && file.body.count == Int(file.headers["content-length"] ?? ""))
            #expect(Array(file.body[4..<8]) == Array("ftyp".utf8))
            #expect(try await anonymous.send(.GET, url).body == file.body)
            #expect(emulator.stats.videosServed == 2 && emulator.stats.requests("files.video") == 5)
        }
    }

    @Test func cdnFlakyOnArkWithOneFailure() async throws {
        try await RawClient.with({ $0.faults = [.cdnFlaky: 1]; $0.cdnFlakyFailures = 1 }) { emulator, client in
            let id = try await client.arkTask("A boat")
            let task = try await client.send(.GET, "\(RawClient.arkTasks)/\(id)").json
            let url = try #require((task["content"] as? [String: Any])?["video_url"] as? String)
            #expect(try await client.send(.GET, url).status == 503)
            #expect(try await client.send(.GET, url).status == 200)
            #expect(emulator.stats.videosServed == 1)
        }
    }

    @Test func alwaysFailFailsTheSamePromptEveryTime() async throws {
        try await RawClient.with({ $0.faults = [.alwaysFail: 1] }) { emulator, client in
            for _ in 0..<2 {
                let id = try await client.gatewayTask("A doomed cat")
                let data = try await client.send(.GET, "/v1/tasks/\(id)").data
                #expect(data["status"] as? String == "failed" && data["result"] == nil)
                let error = data["error"] as? [String: Any]
                #expect(error?["code"] as? String == "InternalServiceError")
                #expect(error?["message"] as? String == "The service encountered an unexpected internal error.")
                #expect(try await client.send(.GET, "\(emulator.baseURL)/files/\(id).mp4").status == 404)
            }
            let id = try await client.arkTask("A doomed fox")
            let task = try await client.send(.GET, "\(RawClient.arkTasks)/\(id)").json
            #expect(task["status"] as? String == "failed" && task["usage"] == nil)
            #expect((task["error"] as? [String: Any])?["code"] as? String == "InternalServiceError")
            let stats = emulator.stats
            #expect(stats.tasksCreated == 3 && stats.tasksFailed == 3 && stats.tasksSucceeded == 0 && stats.tokensBilled == 0)
            #expect(stats.faultsInjected["always_fail"] == 3)
        }
    }

    @Test func alwaysFailIsDecidedByThePromptNotTheDice() async throws {
        let prompts = (1...24).map { "Shot \($0): a lighthouse at dusk" }
        func outcomes(seed: UInt64) async throws -> [Bool] {
            try await RawClient.with({ $0.faults = [.alwaysFail: 0.5]; $0.seed = seed }) { emulator, client in
                var failed: [Bool] = []
                for prompt in prompts + prompts {
                    let id = try await client.gatewayTask(prompt)
                    failed.append(try await client.send(.GET, "/v1/tasks/\(id)").data["status"] as? String == "failed")
                }
                #expect(emulator.stats.tasksFailed == failed.filter { $0 }.count)
                #expect(emulator.stats.tasksSucceeded == failed.filter { !$0 }.count)
                return failed
            }
        }
        let first = try await outcomes(seed: 1)
        #expect(Array(first[..<prompts.count]) == Array(first[prompts.count...]), "a resubmitted prompt fails again")
        #expect(Set(first) == [true, false], "about half the prompts fail")
        #expect(try await outcomes(seed: 99) == first)
    }
}
