// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import SeedanceEmulator
import Testing

/// The billing counters: outcomes are exact whenever read, polled or not, and survive deletion.
@Suite struct BillingStatsTests {
    @Test func outcomesCountWithoutStatusCalls() async throws {
        // The task must still be running when the counters are first read, right after the create call: 0.5 s was
        // not enough on a loaded 2-core machine (the suite failed once with the task already done).
        try await RawClient.with({ $0.runSeconds = 3 }) { emulator, client in
            let id = try await client.arkTask("A fox")
            #expect(emulator.stats.tasksCreated == 1 && emulator.stats.tasksSucceeded == 0)
            #expect(try await RawClient.eventually { emulator.stats.tasksSucceeded == 1 })
            #expect(emulator.stats.requests("ark.status") == 0)
            #expect(emulator.stats.tokensBilled == 640 * 640 * 24 * 2 / 1024)
            #expect(try await client.send(.DELETE, "\(RawClient.arkTasks)/\(id)").status == 200)
            #expect(try await client.arkList().total == 0)
            #expect(emulator.stats.tasksSucceeded == 1 && emulator.stats.tokensBilled == 640 * 640 * 24 * 2 / 1024, "still billed")
        }
    }

    @Test func failedAndCancelledTasksAreNotBilled() async throws {
        try await RawClient.with({ $0.faults = [.moderation: 1] }) { emulator, client in
            let id = try await client.arkTask("A fox")
            #expect(try await client.send(.DELETE, "\(RawClient.arkTasks)/\(id)").status == 200)
            #expect(emulator.stats.tasksFailed == 1 && emulator.stats.tasksSucceeded == 0 && emulator.stats.tokensBilled == 0)
        }
        try await RawClient.with({ $0.queueSeconds = 1000 }) { emulator, client in
            let id = try await client.arkTask("A fox")
            #expect(try await client.send(.DELETE, "\(RawClient.arkTasks)/\(id)").status == 200)
            #expect(emulator.stats.tasksFailed == 0 && emulator.stats.tasksSucceeded == 0 && emulator.stats.tasksCreated == 1)
        }
    }

    @Test func statsEndpointHasTheNewKeys() async throws {
        try await RawClient.with({ $0.faults = [.noTaskID: 1] }) { emulator, client in
            _ = try await client.send(.POST, "/v1/videos/generations", json: RawClient.gatewayBody("A cat"))
            let answer = try await client.send(.GET, "/_emulator/stats")
            let json = answer.json
            #expect(json["tasks_created"] as? Int == 1 && json["tasks_succeeded"] as? Int == 1 && json["tasks_failed"] as? Int == 0)
            #expect(json["create_answers_lost"] as? Int == 1 && json["tokens_billed"] as? Int == 640 * 640 * 24 * 2 / 1024)
            #expect(json["videos_served"] as? Int == 0)
            #expect(try JSONDecoder().decode(EmulatorStats.self, from: answer.body) == emulator.stats)
        }
    }
}
