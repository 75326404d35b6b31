// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import SeedanceEmulator
import Testing

@testable import HotFolderIO

@Suite struct GatewayVideoAPITests {
    @Test func uploadCreatePollDownload() async throws {
        try await Fixture.with { fixture in
            let api = fixture.gateway()
            let image = try await api.prepareImage(at: try fixture.pngFile())
            #expect(image.url.hasPrefix(fixture.emulator.baseURL + "/uploads/"))
            #expect(!image.reused)
            let request = GenerationRequest(
                model: SeedanceModel.fast.rawValue, prompt: "A kitten", duration: 2, aspectRatio: "16:9",
                resolution: "480p", imageWithRoles: [ImageWithRole(url: image.url, role: .firstFrame)])
            let id = try await api.createTask(request)
            #expect(id.hasPrefix("task_") && id.count == 31)
            let task = try await api.task(id: id)
            guard case .succeeded(let url, let expiresAt) = task.status else {
                Issue.record("expected success, got \(task.status)")
                return
            }
            #expect(expiresAt.map { $0 > Date() } == true)
            #expect(task.estimatedSeconds == 0)
            let destination = fixture.directory.appendingPathComponent("out.mp4").path
            let bytes = try await api.download(from: url, to: destination)
            #expect(bytes > 1000)
            #expect(try fixture.files() == ["image.png", "out.mp4"])
            // The emulator saw the exact gateway body.
            let create = fixture.emulator.receivedRequests.first { $0.endpoint == "gateway.create" }
            let body = try #require(create?.bodyJSON)
            let decoded = try JSONDecoder().decode(GenerationRequest.self, from: Data(body.utf8))
            #expect(decoded == request)
            #expect(create?.headers["authorization"] == nil)
        }
    }

    @Test func uploadIsReusedForTheSameContent() async throws {
        try await Fixture.with { fixture in
            let api = fixture.gateway()
            let first = try await api.prepareImage(at: try fixture.pngFile("a.png"))
            let again = try await api.prepareImage(at: try fixture.pngFile("copy-of-a.png"))
            #expect(again.reused && again.url == first.url && again.sha256 == first.sha256)
            #expect(fixture.emulator.stats.requests("gateway.upload") == 1)
            let other = try await api.prepareImage(at: try fixture.pngFile("b.png", seed: 7))
            #expect(!other.reused)
            #expect(fixture.emulator.stats.imagesUploaded == 2)
        }
    }

    /// With the hash taken when the drop was planned, the file is read once: hashed as it is sent (issue 14: big
    /// images were read three times), and its upload is reused for the same content afterwards.
    @Test func aPlannedHashSendsTheFileOnceAndItsUploadIsReused() async throws {
        try await Fixture.with { fixture in
            let api = fixture.gateway()
            let path = try fixture.pngFile("a.png")
            let planned = try FileDigest.sha256(ofFile: path)
            let first = try await api.prepareImage(at: path, expectedSHA256: planned)
            #expect(!first.reused && first.sha256 == planned)
            let again = try await api.prepareImage(at: try fixture.pngFile("copy-of-a.png"), expectedSHA256: planned)
            #expect(again.reused && again.url == first.url)
            // Cached under the content's hash, so the unplanned path finds it too.
            let unplanned = try await api.prepareImage(at: path)
            #expect(unplanned.reused && unplanned.url == first.url)
            #expect(fixture.emulator.stats.requests("gateway.upload") == 1)
            // No planned hash (the store did not answer): checked and hashed, then sent, as before.
            let other = try await api.prepareImage(at: try fixture.pngFile("b.png", seed: 7), expectedSHA256: "")
            #expect(!other.reused)
            #expect(fixture.emulator.stats.imagesUploaded == 2)
        }
    }

    /// A file rewritten in place since it was planned (same size and time) is sent as what it is now, as without a
    /// planned hash: cached under its own hash, never under the planned one, and never answered with the planned
    /// content's upload.
    @Test func contentThatIsNotThePlannedOneIsSentAsWhatItIsAndNeverCachedUnderThePlannedHash() async throws {
        try await Fixture.with { fixture in
            let api = fixture.gateway()
            let plannedPath = try fixture.pngFile("b.png", seed: 7)
            let planned = try FileDigest.sha256(ofFile: plannedPath)
            let rewritten = try fixture.pngFile("a.png")
            let actual = try FileDigest.sha256(ofFile: rewritten)
            let a = try await api.prepareImage(at: rewritten, expectedSHA256: planned)
            #expect(!a.reused && a.sha256 == actual)
            // The planned content has no upload yet: it is sent, not answered with a's.
            let b = try await api.prepareImage(at: plannedPath, expectedSHA256: planned)
            #expect(!b.reused && b.sha256 == planned && b.url != a.url)
            // a's upload was cached under a's hash; with b's upload cached, a file planned as b but holding a's bytes
            // gets a's upload.
            let again = try await api.prepareImage(at: rewritten, expectedSHA256: planned)
            #expect(again.reused && again.url == a.url && again.sha256 == actual)
            #expect(fixture.emulator.stats.requests("gateway.upload") == 2)
        }
    }

    @Test func expiringUploadIsNotReused() async throws {
        try await Fixture.with { fixture in
            let cache = InMemoryUploadCache()
            let path = try fixture.pngFile()
            let sha = try await LocalImage.inspect(path: path, maxBytes: 1 << 20).sha256
            // Valid for 10 more minutes: less than the reuse margin, so upload again.
            await cache.store(CachedUpload(sha256: sha, url: "http://old/u.png", expiresAt: Date().addingTimeInterval(600)))
            let api = GatewayVideoAPI(httpClient: fixture.http, configuration: fixture.configuration(), uploadCache: cache)
            let image = try await api.prepareImage(at: path)
            #expect(!image.reused && image.url != "http://old/u.png")
            #expect(fixture.emulator.stats.requests("gateway.upload") == 1)
        }
    }

    @Test func pendingAndRunningStatuses() async throws {
        try await Fixture.with({ $0.queueSeconds = 1000 }) { fixture in
            let id = try await fixture.gateway().createTask(GenerationRequest(model: SeedanceModel.fast.rawValue, prompt: "x"))
            #expect(try await fixture.gateway().task(id: id).status == .queued)
            #expect(try await fixture.gateway().task(id: id).estimatedSeconds == 1000)
        }
        try await Fixture.with({ $0.runSeconds = 1000 }) { fixture in
            let id = try await fixture.gateway().createTask(GenerationRequest(model: SeedanceModel.fast.rawValue, prompt: "x"))
            guard case .running(let progress) = try await fixture.gateway().task(id: id).status else {
                Issue.record("expected running")
                return
            }
            #expect(progress.map { (1...99).contains($0) } == true)
        }
    }

    @Test func cancelIsUnsupported() async throws {
        try await Fixture.with { fixture in
            let error = await apiError { try await fixture.gateway().cancelTask(id: "task_x") }
            #expect(error == .unsupported(operation: .cancel, provider: "gateway"))
            #expect(error?.category == .invalidRequest)
            #expect(error?.description == "The gateway API does not support cancelling a task.")
        }
    }

    @Test func unusableImagesFailBeforeAnyRequest() async throws {
        try await Fixture.with { fixture in
            let text = fixture.directory.appendingPathComponent("notes.png")
            try Data("hello".utf8).write(to: text)
            let error = await apiError { _ = try await fixture.gateway().prepareImage(at: text.path) }
            #expect(error?.category == .invalidRequest)
            let missing = await apiError { _ = try await fixture.gateway().prepareImage(at: "/nonexistent/x.png") }
            #expect(missing?.category == .invalidRequest)
            #expect(fixture.emulator.stats.requests("gateway.upload") == 0)
        }
    }
}
