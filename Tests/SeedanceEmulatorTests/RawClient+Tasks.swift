// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Testing

/// Shortcuts for the fault tests: create a task in either protocol, find its video, wait for a condition.
extension RawClient {
    /// Ark's task endpoints.
    static let arkTasks = "/api/v3/contents/generations/tasks"
    /// The fast model's Ark id.
    static let arkFast = "doubao-seedance-1-0-pro-fast-251015"
    /// The quality model's Ark id.
    static let arkQuality = "doubao-seedance-1-0-pro-250528"

    /// A small gateway create body (480p, 1:1, 2 s).
    static func gatewayBody(_ prompt: String) -> [String: Any] {
        ["model": "doubao-seedance-1-0-pro-fast", "prompt": prompt, "duration": 2, "resolution": "480p", "aspect_ratio": "1:1"]
    }

    /// A small Ark create body (480p, 1:1, 2 s).
    static func arkBody(_ prompt: String, model: String = arkFast) -> [String: Any] {
        ["model": model, "content": [["type": "text", "text": prompt]], "resolution": "480p", "ratio": "1:1", "duration": 2]
    }

    /// Creates a gateway task and returns its id.
    func gatewayTask(_ prompt: String) async throws -> String {
        let created = try await send(.POST, "/v1/videos/generations", json: Self.gatewayBody(prompt))
        return try #require(((created.json["data"] as? [[String: Any]])?.first)?["task_id"] as? String, "\(created.status)")
    }

    /// Creates an Ark task and returns its id.
    func arkTask(_ prompt: String, model: String = arkFast) async throws -> String {
        let created = try await send(.POST, Self.arkTasks, json: Self.arkBody(prompt, model: model))
        return try #require(created.json["id"] as? String, "\(created.status)")
    }

    /// The video URL of a completed gateway task.
    func gatewayVideoURL(_ id: String) async throws -> String {
        let status = try await send(.GET, "/v1/tasks/\(id)")
        let video = ((status.data["result"] as? [String: Any])?["videos"] as? [[String: Any]])?.first
        return try #require((video?["url"] as? [String])?.first, "\(status.data)")
    }

    /// Ark's task list for a query string (without `?`).
    func arkList(_ query: String = "") async throws -> (total: Int?, ids: [String], items: [[String: Any]]) {
        let answer = try await send(.GET, query.isEmpty ? Self.arkTasks : "\(Self.arkTasks)?\(query)")
        let items = answer.json["items"] as? [[String: Any]] ?? []
        return (answer.json["total"] as? Int, items.compactMap { $0["id"] as? String }, items)
    }

    /// Checks `condition` every 50 ms until it holds (true) or `seconds` pass (false).
    static func eventually(within seconds: Double = 20, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }
}
