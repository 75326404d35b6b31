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
            // Checked now, read into a data URL only while the create call is sent (a memory budget).
            #expect(image.url.hasPrefix(ArkVideoAPI.inlineScheme + image.sha256 + ":"))
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
            let sent = (content.last?["image_url"] as? [String: Any])?["url"] as? String ?? ""
            #expect(sent.hasPrefix("data:image/png;base64,iVBORw0KGgo"))
            #expect(fixture.emulator.stats.requests("gateway.upload") == 0)
        }
    }

    @Test func theOfflineTierIsSentRecordedAndEchoed() async throws {
        try await Fixture.with { fixture in
            let api = fixture.ark()
            var request = GenerationRequest(model: SeedanceModel.fast.rawValue, prompt: "Night harbour", duration: 2)
            request.serviceTier = "flex"
            request.executionExpiresAfter = 86_400
            let id = try await api.createTask(request)
            let body = try #require(fixture.emulator.receivedRequests.first { $0.endpoint == "ark.create" }?.bodyJSON)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            #expect(json["service_tier"] as? String == "flex")
            #expect(json["execution_expires_after"] as? Int == 86_400)
            // The metadata records the body sent, tier included.
            #expect(String(decoding: try #require(api.recordedBody(for: request)), as: UTF8.self).contains(#""service_tier":"flex""#))
            _ = try await api.task(id: id)
            // The gateway's body never carries them when unset (the planner refuses them for the gateway).
            let plain = try JSONEncoder().encode(GenerationRequest(model: SeedanceModel.fast.rawValue, prompt: "x"))
            #expect(!String(decoding: plain, as: UTF8.self).contains("service_tier"))
            // A wrong tier is refused by the emulator as Ark does.
            var wrong = request
            wrong.serviceTier = "cheap"
            #expect(await apiError { _ = try await api.createTask(wrong) }?.category == .invalidRequest)
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

/// Issue 9, path 10: images are opened once without following a link; what was checked is what is sent.
@Suite struct ImageSafetyTests {
    @Test func aSymbolicLinkIsNeverReadAsAnImage() async throws {
        try await Fixture.with { fixture in
            let real = try fixture.pngFile()
            let link = fixture.directory.appendingPathComponent("link.png").path
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
            await #expect(throws: VideoAPIError.self) { try await fixture.ark().prepareImage(at: link) }
            await #expect(throws: VideoAPIError.self) { try await fixture.gateway().prepareImage(at: link) }
            #expect(fixture.emulator.stats.requests("gateway.upload") == 0)
        }
    }

    @Test func anImageSwappedAfterItWasCheckedIsNotSent() async throws {
        try await Fixture.with { fixture in
            let api = fixture.ark()
            let path = try fixture.pngFile()
            let image = try await api.prepareImage(at: path)
            try Data(PNGWriter.gradient(width: 500, height: 400, from: (9, 9, 9), to: (1, 1, 1))).write(to: URL(fileURLWithPath: path))
            let request = GenerationRequest(
                model: SeedanceModel.fast.rawValue, prompt: "Swapped", duration: 3, aspectRatio: "16:9",
                resolution: "480p", seed: 1, imageWithRoles: [ImageWithRole(url: image.url, role: .firstFrame)])
            await #expect(throws: VideoAPIError.self) { _ = try await api.createTask(request) }
            #expect(fixture.emulator.stats.requests("ark.create") == 0)
        }
    }
}
