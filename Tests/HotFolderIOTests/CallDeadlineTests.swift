// SPDX-License-Identifier: GPL-2.0-or-later
import Dispatch
import Foundation
@testable import HotFolderIO
import Testing

/// Each PostgreSQL call's hard deadline: the caller learns in time even when the call ignores cancellation.
@Suite struct CallDeadlineTests {
    @Test func aCallThatIgnoresCancellationStillEndsAtItsDeadline() async throws {
        let started = ContinuousClock.now
        await #expect(throws: StateStoreError.unavailable(operation: "wait", reason: "no answer within 0.2 seconds")) {
            try await CallDeadline.run(.milliseconds(200), operation: "wait") {
                // Like a query on a connection whose server stopped answering: cancellation does not end it.
                await withCheckedContinuation { continuation in
                    DispatchQueue.global().asyncAfter(deadline: .now() + 60) { continuation.resume() }
                }
                return 1
            }
        }
        // Far below the call's 60 s, with room for a machine whose cooperative threads other tests keep busy.
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test func aCallInTimeGivesItsResultOrItsError() async throws {
        let sum = try await CallDeadline.run(.seconds(5), operation: "add") { 1 + 1 }
        #expect(sum == 2)
        let id = UUID()
        await #expect(throws: StateStoreError.jobNotFound(id)) {
            try await CallDeadline.run(.seconds(5), operation: "read") { () async throws -> Int in
                throw StateStoreError.jobNotFound(id)
            }
        }
    }

    @Test func aCancelledCallerIsResumedAtOnce() async throws {
        let started = ContinuousClock.now
        let caller = Task {
            try await CallDeadline.run(.seconds(30), operation: "wait") {
                await withCheckedContinuation { continuation in
                    DispatchQueue.global().asyncAfter(deadline: .now() + 60) { continuation.resume() }
                }
                return 1
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
        // Far below the call's 60 s, with room for a machine whose cooperative threads other tests keep busy.
        #expect(ContinuousClock.now - started < .seconds(20))
    }
}
