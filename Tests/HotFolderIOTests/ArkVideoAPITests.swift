// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import SeedanceEmulator
import Testing

@testable import HotFolderIO

@Suite struct ArkVideoAPITests {
    @Test func createWithDataURLPollAndDownload() async throws {
        try await Fixture.with { fixture in
            let api = fixture.ark()
            let image = try await api.prepareImage(at: try fixture.pngFile())
            #expect(image.url.hasPrefix("data:image/png;base64,iVBORw0KGgo"))
            let request = GenerationRequest(
                model: SeedanceModel.quality.rawValue, prompt: "Day to night", duration: 3, aspectRatio: "9:16",
                resolution: "720p", seed: 42, imageWithRoles: [ImageWithRole(url: image.url, role: .firstFrame)])
            let id = try await api.createTask(request)
            #expect(id.hasPrefix("cgt-"))
            guard case .succeeded(let url, let expiresAt) = try await api.task(id: id).status else {
                Issue.record("expected success")
                return
            }
            #expect(expiresAt != nil)
            try await api.download(from: url, to: fixture.directory.appendingPathComponent("ark.mp4").path)
            #expect(try fixture.files().contains("ark.mp4"))
            // The body is Ark's: model id mapped, content array with text and the image's role, ratio/duration fields.
            let body = try #require(fixture.emulator.receivedRequests.first { $0.endpoint == "ark.create" }?.bodyJSON)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            #expect(json["model"] as? String == "doubao-seedance-1-0-pro-250528")
            #expect(json["ratio"] as? String == "9:16")
            #expect(json["duration"] as? Int == 3)
            let content = try #require(json["content"] as? [[String: Any]])
            #expect(content.first?["type"] as? String == "text")
            #expect(content.last?["role"] as? String == "first_frame")
            #expect(fixture.emulator.stats.requests("gateway.upload") == 0)
        }
    }

    @Test func cancelQueuedTaskThenRefuseRunning() async throws {
        try await Fixture.with({ $0.queueSeconds = 1000 }) { fixture in
            let api = fixture.ark()
            let id = try await api.createTask(GenerationRequest(model: SeedanceModel.fast.rawValue, prompt: "x"))
            #expect(try await api.task(id: id).status == .queued)
            try await api.cancelTask(id: id)
            #expect(try await api.task(id: id).status == .cancelled)
            let again = await apiError { try await api.cancelTask(id: id) }
            #expect(again?.category == .invalidRequest)
        }
        try await Fixture.with({ $0.runSeconds = 1000 }) { fixture in
            let api = fixture.ark()
            let id = try await api.createTask(GenerationRequest(model: SeedanceModel.fast.rawValue, prompt: "x"))
            #expect(try await api.task(id: id).status == .running(progress: nil))
            let error = await apiError { try await api.cancelTask(id: id) }
            #expect(error?.category == .invalidRequest)
        }
    }

    @Test func deletingAFinishedTaskRemovesIt() async throws {
        try await Fixture.with { fixture in
            let api = fixture.ark()
            let id = try await api.createTask(GenerationRequest(model: SeedanceModel.fast.rawValue, prompt: "x"))
            try await api.cancelTask(id: id)
            let error = await apiError { _ = try await api.task(id: id) }
            guard case .rejected(.status, 404, _, _) = error else {
                Issue.record("expected 404 after delete, got \(String(describing: error))")
                return
            }
        }
    }
}
