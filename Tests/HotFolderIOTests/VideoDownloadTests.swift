// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import SeedanceEmulator
import Testing

@testable import HotFolderIO

/// Downloads that must leave no file behind: truncated, expired, not a video.
@Suite struct VideoDownloadTests {
    let request = GenerationRequest(model: SeedanceModel.fast.rawValue, prompt: "A boat", duration: 2, resolution: "480p")

    private func resultURL(_ api: GatewayVideoAPI) async throws -> String {
        let id = try await api.createTask(request)
        guard case .succeeded(let url, _) = try await api.task(id: id).status else { throw VideoAPIError.malformedResponse(operation: .status, reason: "not done") }
        return url
    }

    @Test func truncatedDownloadLeavesNothing() async throws {
        try await Fixture.with({ $0.faults = [.truncate: 1] }) { fixture in
            let api = fixture.gateway()
            let url = try await resultURL(api)
            let error = await apiError { try await api.download(from: url, to: fixture.directory.appendingPathComponent("v.mp4").path) }
            guard case .downloadFailed(_, .transient, _) = error else {
                Issue.record("expected a transient download failure, got \(String(describing: error))")
                return
            }
            #expect(try fixture.files().isEmpty)
            #expect(fixture.emulator.stats.faultsInjected["truncate"] == 1)
        }
    }

    @Test func expiredLinkLeavesNothing() async throws {
        try await Fixture.with({ $0.resultLifetime = 0 }) { fixture in
            let api = fixture.gateway()
            let url = try await resultURL(api)
            let error = await apiError { try await api.download(from: url, to: fixture.directory.appendingPathComponent("v.mp4").path) }
            #expect(error?.category == .expired)
            #expect(try fixture.files().isEmpty)
        }
    }

    @Test func wrongContentTypeLeavesNothing() async throws {
        try await Fixture.with { fixture in
            let api = fixture.gateway()
            // An uploaded image is served as image/png: not a video.
            let image = try await api.prepareImage(at: try fixture.pngFile("in.png"))
            let error = await apiError { try await api.download(from: image.url, to: fixture.directory.appendingPathComponent("v.mp4").path) }
            #expect(error?.description.contains("image/png") == true)
            #expect(try fixture.files() == ["in.png"])
        }
    }

    @Test func completeDownloadReplacesNothingElse() async throws {
        try await Fixture.with { fixture in
            let api = fixture.gateway()
            let url = try await resultURL(api)
            let destination = fixture.directory.appendingPathComponent("v.mp4").path
            let bytes = try await api.download(from: url, to: destination)
            let attributes = try FileManager.default.attributesOfItem(atPath: destination)
            #expect((attributes[.size] as? NSNumber)?.int64Value == bytes)
            #expect(try fixture.files() == ["v.mp4"])
            #expect(fixture.emulator.stats.videosServed == 1)
        }
    }

    /// Issue 9: the downloader's rename could replace a video already at the name; it never does now.
    @Test func aDownloadNeverReplacesAFileAlreadyThere() async throws {
        try await Fixture.with { fixture in
            let api = fixture.gateway()
            let url = try await resultURL(api)
            let destination = fixture.directory.appendingPathComponent("v.mp4").path
            try Data("someone's video".utf8).write(to: URL(fileURLWithPath: destination))
            let error = await apiError { try await api.download(from: url, to: destination) }
            guard case .fileSystem = error else {
                Issue.record("expected a refusal to replace, got \(String(describing: error))")
                return
            }
            #expect(try String(contentsOfFile: destination, encoding: .utf8) == "someone's video")
            #expect(try fixture.files() == ["v.mp4"], "no temporary file left behind")
        }
    }
}

/// The memory budget of Ark's inlined images.
@Suite struct ByteBudgetTests {
    @Test func callsWaitUntilTheirBytesFitAndALargeOneRunsAlone() async throws {
        let budget = ByteBudget(limit: 250)
        let first = await budget.acquire(100)
        let second = await budget.acquire(100)
        let third = Task { await budget.acquire(100) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(await budget.inUse == 200, "the third waits")
        await budget.release(first)
        #expect(await third.value == 100)
        #expect(await budget.inUse == 200)
        await budget.release(second)
        await budget.release(100)
        #expect(await budget.acquire(10_000) == 250, "larger than the budget: clamped, runs alone")
        #expect(await budget.inUse == 250)
    }
}
