// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import SeedanceEmulator
import Testing

/// The Ark endpoints: create, get, delete and their statuses.
@Suite struct ArkProtocolTests {
    static let tasks = "/api/v3/contents/generations/tasks"
    let body: [String: Any] = [
        "model": "doubao-seedance-1-0-pro-fast-251015", "content": [["type": "text", "text": "A fox"]],
        "resolution": "480p", "ratio": "1:1", "duration": 2,
    ]

    @Test func lifecycle() async throws {
        try await RawClient.with { emulator, client in
            let created = try await client.send(.POST, Self.tasks, json: body)
            let id = try #require(created.json["id"] as? String)
            #expect(id.wholeMatch(of: /cgt-\d{14}-[a-z0-9]{5}/) != nil)
            let task = try await client.send(.GET, "\(Self.tasks)/\(id)").json
            #expect(task["status"] as? String == "succeeded")
            #expect(task["ratio"] as? String == "1:1" && task["resolution"] as? String == "480p" && task["framespersecond"] as? Int == 24)
            #expect((task["content"] as? [String: Any])?["video_url"] as? String == "\(emulator.baseURL)/files/\(id).mp4")
            #expect((task["usage"] as? [String: Any])?["completion_tokens"] as? Int == 640 * 640 * 24 * 2 / 1024)
            #expect(try await client.send(.DELETE, "\(Self.tasks)/\(id)").status == 200)
            #expect(try await client.send(.GET, "\(Self.tasks)/\(id)").status == 404)
            #expect(emulator.stats.requests("ark.create") == 1 && emulator.stats.requests("ark.status") == 2)
        }
    }

    @Test func queuedRunningCancelled() async throws {
        try await RawClient.with({ $0.queueSeconds = 1000 }) { _, client in
            let id = try #require(try await client.send(.POST, Self.tasks, json: body).json["id"] as? String)
            #expect(try await client.send(.GET, "\(Self.tasks)/\(id)").json["status"] as? String == "queued")
            #expect(try await client.send(.DELETE, "\(Self.tasks)/\(id)").status == 200)
            #expect(try await client.send(.GET, "\(Self.tasks)/\(id)").json["status"] as? String == "cancelled")
            #expect(try await client.send(.DELETE, "\(Self.tasks)/\(id)").status == 409)
        }
        try await RawClient.with({ $0.runSeconds = 1000 }) { _, client in
            let id = try #require(try await client.send(.POST, Self.tasks, json: body).json["id"] as? String)
            #expect(try await client.send(.GET, "\(Self.tasks)/\(id)").json["status"] as? String == "running")
            #expect(try await client.send(.DELETE, "\(Self.tasks)/\(id)").status == 409)
        }
    }

    @Test func validationAndAuth() async throws {
        try await RawClient.with { emulator, client in
            var lastWithoutFirst = body
            lastWithoutFirst["model"] = "doubao-seedance-1-0-pro-250528"
            lastWithoutFirst["content"] = [["type": "text", "text": "x"], ["type": "image_url", "image_url": ["url": "http://a/b.png"], "role": "last_frame"]]
            var fastLast = body
            fastLast["content"] = [
                ["type": "text", "text": "x"], ["type": "image_url", "image_url": ["url": "http://a/a.png"], "role": "first_frame"],
                ["type": "image_url", "image_url": ["url": "http://a/b.png"], "role": "last_frame"],
            ]
            var noText = body
            noText["content"] = [[String: Any]]()
            var badDuration = body
            badDuration["duration"] = 30
            for bad in [lastWithoutFirst, fastLast, noText, badDuration] {
                let answer = try await client.send(.POST, Self.tasks, json: bad)
                #expect(answer.status == 400)
                #expect((answer.json["error"] as? [String: Any])?["code"] is String)
            }
            var stranger = client
            stranger.key = nil
            #expect(try await stranger.send(.POST, Self.tasks, json: body).status == 401)
            #expect(emulator.stats.tasksCreated == 0)
        }
    }
}
