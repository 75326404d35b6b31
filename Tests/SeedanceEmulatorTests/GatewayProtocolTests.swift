// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import SeedanceEmulator
import Testing

/// The emulator speaks the gateway protocol as `spec/seedance-api.md` describes it.
@Suite struct GatewayProtocolTests {
    static let fast = SeedanceModel.fast.rawValue
    static let quality = SeedanceModel.quality.rawValue

    @Test func createPollEnvelopesAndIDs() async throws {
        try await RawClient.with({ $0.runSeconds = 1000 }) { emulator, client in
            let created = try await client.send(.POST, "/v1/videos/generations", json: ["model": Self.fast, "prompt": "A cat"])
            #expect(created.status == 200)
            #expect(created.json["code"] as? Int == 200)
            let item = try #require((created.json["data"] as? [[String: Any]])?.first)
            #expect(item["status"] as? String == "submitted")
            let id = try #require(item["task_id"] as? String)
            #expect(id.wholeMatch(of: /task_[0-9A-HJKMNP-TV-Z]{26}/) != nil)
            let status = try await client.send(.GET, "/v1/tasks/\(id)")
            #expect(status.json["code"] as? Int == 200)
            #expect(status.data["id"] as? String == id)
            #expect(status.data["status"] as? String == "processing")
            #expect((status.data["progress"] as? Int).map { (1...99).contains($0) } == true)
            #expect(status.data["estimated_time"] as? Int == 1000)
            #expect(emulator.stats.tasksCreated == 1)
        }
    }

    @Test func pendingThenCompletedWithExpiringURL() async throws {
        try await RawClient.with({ $0.queueSeconds = 1000 }) { _, client in
            let id = try await createdID(client, ["model": Self.fast, "prompt": "A cat"])
            let status = try await client.send(.GET, "/v1/tasks/\(id)")
            #expect(status.data["status"] as? String == "pending")
            #expect(status.data["progress"] as? Int == 0)
        }
        try await RawClient.with { emulator, client in
            let id = try await createdID(client, ["model": Self.fast, "prompt": "A cat", "duration": 2, "resolution": "480p"])
            let status = try await client.send(.GET, "/v1/tasks/\(id)")
            #expect(status.data["status"] as? String == "completed")
            let video = try #require(((status.data["result"] as? [String: Any])?["videos"] as? [[String: Any]])?.first)
            let url = try #require((video["url"] as? [String])?.first)
            #expect(url.hasPrefix(emulator.baseURL + "/files/"))
            let expires = try #require(video["expires_at"] as? Int)
            #expect(Double(expires) > Date().timeIntervalSince1970 + 3600)
            var anonymous = client
            anonymous.key = nil
            let file = try await anonymous.send(.GET, url)
            #expect(file.status == 200 && file.headers["content-type"] == "video/mp4")
            #expect(file.body.count == Int(file.headers["content-length"] ?? "") && file.body.count > 1000)
        }
    }

    @Test func authIsChecked() async throws {
        try await RawClient.with { emulator, client in
            var stranger = client
            stranger.key = "test-wrong-MARKER"
            for answer in [
                try await stranger.send(.POST, "/v1/videos/generations", json: ["model": Self.fast, "prompt": "x"]),
                try await stranger.send(.GET, "/v1/tasks/task_01K8SGYNNNVBQTXNR4MM964S7K"),
            ] {
                #expect(answer.status == 401)
                #expect(!String(decoding: answer.body, as: UTF8.self).contains("MARKER"))
            }
            #expect(emulator.stats.tasksCreated == 0)
        }
    }

    @Test(arguments: [
        (["model": "doubao-seedance-9", "prompt": "x"], "model"),
        (["model": "doubao-seedance-1-0-pro-fast", "prompt": "  "], "prompt"),
        (["model": "doubao-seedance-1-0-pro-fast", "prompt": "x", "duration": 1], "duration"),
        (["model": "doubao-seedance-1-0-pro-fast", "prompt": "x", "duration": 13], "duration"),
        (["model": "doubao-seedance-1-0-pro-fast", "prompt": "x", "duration": 4.5], "duration"),
        (["model": "doubao-seedance-1-0-pro-fast", "prompt": "x", "aspect_ratio": "2:1"], "aspect_ratio"),
        (["model": "doubao-seedance-1-0-pro-fast", "prompt": "x", "resolution": "4k"], "resolution"),
        (["model": "doubao-seedance-1-0-pro-fast", "prompt": "x", "seed": -2], "seed"),
        (["model": "doubao-seedance-1-0-pro-fast", "prompt": "x", "seed": 4_294_967_296], "seed"),
        (["model": "doubao-seedance-1-0-pro-quality", "prompt": "x", "image_with_roles": [["url": "http://a/1.png", "role": "first_frame"], ["url": "http://a/2.png", "role": "first_frame"]]], "image_with_roles"),
        (["model": "doubao-seedance-1-0-pro-fast", "prompt": "x", "image_with_roles": [["url": "http://a/1.png", "role": "first_frame"], ["url": "http://a/2.png", "role": "last_frame"]]], "image_with_roles"),
        (["model": "doubao-seedance-1-0-pro-quality", "prompt": "x", "image_with_roles": [["url": "http://a/2.png", "role": "last_frame"]]], "image_with_roles"),
        (["model": "doubao-seedance-1-0-pro-quality", "prompt": "x", "resolution": "1080p", "image_with_roles": [["url": "http://a/r.png", "role": "reference"]]], "resolution"),
        (["model": "doubao-seedance-1-0-pro-quality", "prompt": "x", "resolution": "720p", "image_with_roles": [["url": "http://a/r.png", "role": "reference"], ["url": "http://a/1.png", "role": "first_frame"]]], "image_with_roles"),
        (["model": "doubao-seedance-1-0-pro-quality", "prompt": "x", "image_with_roles": [["url": "http://a/1.png", "role": "middle_frame"]]], "image_with_roles.role"),
        (["model": "doubao-seedance-1-0-pro-quality", "prompt": "x", "image_urls": ["http://a/1.png"], "image_with_roles": [["url": "http://a/1.png", "role": "first_frame"]]], "image_urls"),
    ] as [([String: any Sendable], String)])
    func validationRules(body: [String: any Sendable], param: String) async throws {
        try await RawClient.with { emulator, client in
            let answer = try await client.send(.POST, "/v1/videos/generations", json: body)
            #expect(answer.status == 400)
            #expect(answer.errorParam == param)
            #expect(emulator.stats.tasksCreated == 0)
        }
    }

    @Test func validRequestsAreAccepted() async throws {
        try await RawClient.with { emulator, client in
            let bodies: [[String: Any]] = [
                ["model": Self.quality, "prompt": "x", "duration": 12, "aspect_ratio": "21:9", "resolution": "1080p", "seed": 4_294_967_295],
                ["model": Self.quality, "prompt": "x", "seed": -1, "image_with_roles": [["url": "http://a/1.png", "role": "first_frame"], ["url": "http://a/2.png", "role": "last_frame"]]],
                ["model": Self.fast, "prompt": "x", "resolution": "720p", "image_with_roles": [["url": "http://a/r.png", "role": "reference"]]],
                ["model": Self.fast, "prompt": "x", "unknown_field": true],
            ]
            for body in bodies {
                let answer = try await client.send(.POST, "/v1/videos/generations", json: body)
                #expect(answer.status == 200, "\(body)")
            }
            #expect(emulator.stats.tasksCreated == bodies.count)
        }
    }

    @Test func uploads() async throws {
        try await RawClient.with({ $0.maxUploadBytes = 4096 }) { emulator, client in
            let (body, type) = RawClient.multipart(bytes: RawClient.png)
            let ok = try await client.send(.POST, "/v1/uploads/images", body: body, contentType: type)
            #expect(ok.status == 200)
            #expect(ok.json["content_type"] as? String == "image/png" && ok.json["bytes"] as? Int == RawClient.png.count)
            #expect(ok.json["filename"] as? String == "a.png" && ok.json["created_at"] is Int)
            let url = try #require(ok.json["url"] as? String)
            #expect(try await client.send(.GET, url).body == RawClient.png)

            let (text, textType) = RawClient.multipart(bytes: Data("hello, not an image".utf8))
            #expect(try await client.send(.POST, "/v1/uploads/images", body: text, contentType: textType).status == 400)
            let (missing, missingType) = RawClient.multipart(field: "image", bytes: RawClient.png)
            #expect(try await client.send(.POST, "/v1/uploads/images", body: missing, contentType: missingType).status == 400)
            let (big, bigType) = RawClient.multipart(bytes: RawClient.png + Data(count: 5000))
            #expect(try await client.send(.POST, "/v1/uploads/images", body: big, contentType: bigType).status == 413)
            #expect(try await client.send(.POST, "/v1/uploads/images", body: RawClient.png, contentType: "image/png").status == 400)
            #expect(emulator.stats.imagesUploaded == 1)
            #expect(emulator.stats.requests("gateway.upload") == 5)
        }
    }

    @Test func everyImageFormatByMagicBytes() async throws {
        try await RawClient.with { _, client in
            let samples: [(Data, String)] = [
                (Data([0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 0, count: 20)), "image/jpeg"),
                (Data("GIF89a".utf8) + Data(count: 20), "image/gif"),
                (Data("RIFF".utf8) + Data([0, 0, 0, 0]) + Data("WEBPVP8 ".utf8) + Data(count: 20), "image/webp"),
            ]
            for (bytes, type) in samples {
                let (body, contentType) = RawClient.multipart(fileName: "x.bin", bytes: bytes)
                let answer = try await client.send(.POST, "/v1/uploads/images", body: body, contentType: contentType)
                #expect(answer.json["content_type"] as? String == type)
            }
        }
    }

    @Test func expiredResultAnswers403() async throws {
        try await RawClient.with({ $0.resultLifetime = 0 }) { _, client in
            let id = try await createdID(client, ["model": Self.fast, "prompt": "x"])
            let status = try await client.send(.GET, "/v1/tasks/\(id)")
            let video = try #require(((status.data["result"] as? [String: Any])?["videos"] as? [[String: Any]])?.first)
            let url = try #require((video["url"] as? [String])?.first)
            #expect(try await client.send(.GET, url).status == 403)
        }
    }

    @Test func recordsAndStats() async throws {
        try await RawClient.with { emulator, client in
            _ = try await createdID(client, ["model": Self.fast, "prompt": "record me"])
            let record = try #require(emulator.receivedRequests.first)
            #expect(record.method == "POST" && record.path == "/v1/videos/generations" && record.endpoint == "gateway.create")
            #expect(record.headers["authorization"] == nil && record.headers["content-type"] == "application/json")
            #expect(record.bodyJSON?.contains("record me") == true)
            let stats = try await client.send(.GET, "/_emulator/stats")
            let decoded = try JSONDecoder().decode(EmulatorStats.self, from: stats.body)
            #expect(decoded.tasksCreated == 1 && decoded.requests("gateway.create") == 1)
            #expect(decoded == emulator.stats)
            emulator.clearReceivedRequests()
            #expect(emulator.receivedRequests.isEmpty)
        }
    }

    private func createdID(_ client: RawClient, _ body: [String: Any]) async throws -> String {
        let created = try await client.send(.POST, "/v1/videos/generations", json: body)
        return try #require(((created.json["data"] as? [[String: Any]])?.first)?["task_id"] as? String)
    }
}
