// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO

/// A ``VideoAPI`` that counts and times every call to the provider for `/metrics`, then passes it on unchanged.
struct MeteredVideoAPI: VideoAPI {
    let base: any VideoAPI
    let metrics: ServiceMetrics

    var providerName: String { base.providerName }
    var canSearchLostTasks: Bool { base.canSearchLostTasks }

    func prepareImage(at path: String) async throws -> PreparedImage {
        try await measure("upload") { try await base.prepareImage(at: path) }
    }

    func prepareImage(at path: String, expectedSHA256: String?) async throws -> PreparedImage {
        try await measure("upload") { try await base.prepareImage(at: path, expectedSHA256: expectedSHA256) }
    }

    func createTask(_ request: GenerationRequest) async throws -> String {
        try await measure("create") { try await base.createTask(request) }
    }

    func task(id: String) async throws -> RemoteTask {
        try await measure("status") { try await base.task(id: id) }
    }

    func cancelTask(id: String) async throws {
        try await measure("cancel") { try await base.cancelTask(id: id) }
    }

    @discardableResult
    func download(from url: String, to destination: String) async throws -> Int64 {
        try await measure("download") { try await base.download(from: url, to: destination) }
    }

    func recordedBody(for request: GenerationRequest) -> Data? { base.recordedBody(for: request) }

    func findLostTask(
        for request: GenerationRequest, createdBetween: ClosedRange<Date>, isRecorded: @Sendable (String) async -> Bool
    ) async throws -> JobLifecycle.LostTaskSearch {
        try await measure("list") { try await base.findLostTask(for: request, createdBetween: createdBetween, isRecorded: isRecorded) }
    }

    private func measure<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        do {
            let result = try await body()
            metrics.apiRequest(operation, outcome: "ok", duration: ContinuousClock.now - start)
            return result
        } catch let error as VideoAPIError {
            metrics.apiRequest(operation, outcome: error.category.name, duration: ContinuousClock.now - start)
            throw error
        } catch {
            metrics.apiRequest(operation, outcome: "error", duration: ContinuousClock.now - start)
            throw error
        }
    }
}
