// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import SeedanceEmulator
import Testing

/// Faults that create the task but lose the answer: the task exists, runs and is billed all the same.
@Suite struct LostCreateAnswerTests {
    @Test func createdThen502OnTheGateway() async throws {
        try await RawClient.with({ $0.faults = [.createdThen502: 1] }) { emulator, client in
            let answer = try await client.send(.POST, "/v1/videos/generations", json: RawClient.gatewayBody("A cat"))
            #expect(answer.status == 502)
            #expect(answer.headers["content-type"]?.hasPrefix("text/html") == true)
            let page = String(decoding: answer.body, as: UTF8.self)
            #expect(page.contains("<title>502 Bad Gateway</title>") && page.contains("nginx"))
            #expect(!page.contains("task_"))
            let stats = emulator.stats
            #expect(stats.tasksCreated == 1 && stats.createAnswersLost == 1 && stats.faultsInjected["created_then_502"] == 1)
            #expect(stats.tasksSucceeded == 1 && stats.tokensBilled == 640 * 640 * 24 * 2 / 1024, "billed though unanswered")
        }
    }

    @Test func createdThen502OnArkIsFoundInTheList() async throws {
        try await RawClient.with({ $0.faults = [.createdThen502: 1] }) { emulator, client in
            let answer = try await client.send(.POST, RawClient.arkTasks, json: RawClient.arkBody("A fox"))
            #expect(answer.status == 502 && answer.headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(answer.json.isEmpty)
            let list = try await client.arkList()
            #expect(list.total == 1)
            let id = try #require(list.ids.first)
            let task = try await client.send(.GET, "\(RawClient.arkTasks)/\(id)").json
            #expect(task["status"] as? String == "succeeded")
            #expect((task["usage"] as? [String: Any])?["completion_tokens"] as? Int == 640 * 640 * 24 * 2 / 1024)
            #expect(emulator.stats.tasksCreated == 1 && emulator.stats.tasksSucceeded == 1)
        }
    }

    @Test func createdThenResetOnBothProtocols() async throws {
        try await RawClient.with({ $0.faults = [.createdThenReset: 1] }) { emulator, client in
            await #expect(throws: (any Error).self) {
                try await client.send(.POST, "/v1/videos/generations", json: RawClient.gatewayBody("A cat"))
            }
            await #expect(throws: (any Error).self) {
                try await client.send(.POST, RawClient.arkTasks, json: RawClient.arkBody("A fox"))
            }
            let list = try await client.arkList()
            #expect(list.total == 1 && list.items.first?["status"] as? String == "succeeded")
            let stats = emulator.stats
            #expect(stats.tasksCreated == 2 && stats.createAnswersLost == 2 && stats.faultsInjected["created_then_reset"] == 2)
            #expect(stats.tasksSucceeded == 2)
        }
    }

    @Test func noTaskIDOnBothProtocols() async throws {
        try await RawClient.with({ $0.faults = [.noTaskID: 1] }) { emulator, client in
            let gateway = try await client.send(.POST, "/v1/videos/generations", json: RawClient.gatewayBody("A cat"))
            #expect(gateway.status == 200 && gateway.json["code"] as? Int == 200)
            let items = try #require(gateway.json["data"] as? [[String: Any]])
            #expect(items.count == 1 && items[0]["status"] as? String == "submitted" && items[0]["task_id"] == nil)
            let ark = try await client.send(.POST, RawClient.arkTasks, json: RawClient.arkBody("A fox"))
            #expect(ark.status == 200 && ark.json.isEmpty && String(decoding: ark.body, as: UTF8.self) == "{}")
            #expect(try await client.arkList().total == 1)
            #expect(emulator.stats.tasksCreated == 2 && emulator.stats.createAnswersLost == 2)
        }
    }

    @Test func invalidRequestsCreateNothingToLose() async throws {
        let faults: [EmulatorFault: Double] = [.createdThen502: 1, .createdThenReset: 1, .noTaskID: 1]
        try await RawClient.with({ $0.faults = faults }) { emulator, client in
            let gateway = try await client.send(.POST, "/v1/videos/generations", json: ["model": "doubao-seedance-1-0-pro-fast"])
            let ark = try await client.send(.POST, RawClient.arkTasks, json: ["model": RawClient.arkFast])
            #expect(gateway.status == 400 && ark.status == 400)
            #expect(emulator.stats.tasksCreated == 0 && emulator.stats.createAnswersLost == 0)
        }
    }
}
