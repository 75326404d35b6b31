// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import SeedanceEmulator
import Testing

@testable import HotFolderIO

/// Every error category, produced by the emulator with the fault under test at probability 1.
@Suite struct ErrorClassificationTests {
    let request = GenerationRequest(model: SeedanceModel.fast.rawValue, prompt: "A dog", duration: 2, resolution: "480p")

    @Test func wrongKeyIsAuth() async throws {
        try await Fixture.with { fixture in
            let gateway = await apiError { _ = try await fixture.gateway(key: "test-wrong-MARKER").createTask(request) }
            #expect(gateway?.category == .auth)
            #expect(gateway?.category.pausesQueue == true)
            let ark = await apiError { _ = try await fixture.ark(key: "test-wrong-MARKER").createTask(request) }
            #expect(ark?.category == .auth)
        }
    }

    @Test func insufficientBalanceIsQuota() async throws {
        try await Fixture.with({ $0.faults = [.insufficientBalance: 1] }) { fixture in
            let gateway = await apiError { _ = try await fixture.gateway().createTask(request) }
            guard case .rejected(_, 402, .quota, _) = gateway else {
                Issue.record("expected a 402 quota error, got \(String(describing: gateway))")
                return
            }
            let ark = await apiError { _ = try await fixture.ark().createTask(request) }
            #expect(ark?.category == .quota)
            #expect(ark?.category.action == .pauseQueue)
        }
    }

    @Test func rateLimitHonoursRetryAfter() async throws {
        try await Fixture.with({ $0.faults = [.rateLimit: 1]; $0.retryAfterSeconds = 7 }) { fixture in
            for call in [{ _ = try await fixture.gateway().createTask(request) }, { _ = try await fixture.ark().task(id: "cgt-x") }] {
                let error = await apiError(call)
                #expect(error?.category == .rateLimited(retryAfter: 7))
                #expect(error?.category.action == .retry(notBeforeSeconds: 7))
            }
        }
    }

    @Test func serverErrorsAreTransient() async throws {
        try await Fixture.with({ $0.faults = [.serverError: 1] }) { fixture in
            var statuses: Set<Int> = []
            for _ in 0..<12 {
                let error = await apiError { _ = try await fixture.gateway().task(id: "task_x") }
                #expect(error?.category == .transient)
                if case .rejected(_, let status, _, _) = error { statuses.insert(status) }
            }
            #expect(statuses.isSubset(of: [500, 502, 503]) && !statuses.isEmpty)
        }
    }

    @Test func stallIsATimeout() async throws {
        try await Fixture.with({ $0.faults = [.stall: 1]; $0.stallSeconds = 20 }) { fixture in
            let error = await apiError { _ = try await fixture.gateway(timeout: 0.3).createTask(request) }
            #expect(error == .timedOut(operation: .create, seconds: 0.3))
            #expect(error?.category == .transient)
        }
    }

    @Test func resetIsAConnectionFailure() async throws {
        try await Fixture.with({ $0.faults = [.reset: 1] }) { fixture in
            let error = await apiError { _ = try await fixture.gateway().createTask(request) }
            guard case .connectionFailed(.create, _) = error else {
                Issue.record("expected connectionFailed, got \(String(describing: error))")
                return
            }
            #expect(error?.category == .transient)
        }
    }

    @Test func validationErrorsAreInvalidRequests() async throws {
        try await Fixture.with { fixture in
            var bad = request
            bad.duration = 15
            let error = await apiError { _ = try await fixture.gateway().createTask(bad) }
            guard case .rejected(.create, 400, .invalidRequest, let message) = error else {
                Issue.record("expected a 400, got \(String(describing: error))")
                return
            }
            #expect(message.contains("duration"))
            let ark = await apiError { _ = try await fixture.ark().createTask(bad) }
            #expect(ark?.category == .invalidRequest)
        }
    }

    @Test func moderatedTasksFail() async throws {
        try await Fixture.with({ $0.faults = [.moderation: 1] }) { fixture in
            for api in [fixture.gateway() as any VideoAPI, fixture.ark()] {
                let id = try await api.createTask(request)
                guard case .failed(let category, let message) = try await api.task(id: id).status else {
                    Issue.record("expected a failed task")
                    continue
                }
                #expect(category == .moderation)
                #expect(message.contains("OutputVideoSensitiveContentDetected"))
            }
        }
    }

    @Test func expiredResultURL() async throws {
        try await Fixture.with({ $0.faults = [.expireEarly: 1] }) { fixture in
            let api = fixture.gateway()
            let id = try await api.createTask(request)
            guard case .succeeded(let url, _) = try await api.task(id: id).status else {
                Issue.record("expected success")
                return
            }
            let error = await apiError { try await api.download(from: url, to: fixture.directory.appendingPathComponent("v.mp4").path) }
            #expect(error?.category == .expired)
            #expect(try fixture.files().isEmpty)
        }
    }

    @Test func unknownTaskIsInvalidRequest() async throws {
        try await Fixture.with { fixture in
            let error = await apiError { _ = try await fixture.gateway().task(id: "task_00000000000000000000000000") }
            guard case .rejected(.status, 404, .invalidRequest, _) = error else {
                Issue.record("expected 404, got \(String(describing: error))")
                return
            }
        }
    }

    @Test func connectionRefusedIsTransient() async throws {
        try await Fixture.with { fixture in
            var configuration = VideoAPIConfiguration(baseURL: "http://127.0.0.1:1", apiKey: APIKey(testKey))
            configuration.requestTimeout = 0.5
            let api = GatewayVideoAPI(httpClient: fixture.http, configuration: configuration)
            let error = await apiError { _ = try await api.task(id: "task_x") }
            #expect(error?.category == .transient)
        }
    }
}
