// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import SeedanceEmulator
import Testing

/// Faults fire with their probability, reproducibly from the seed.
@Suite struct FaultInjectionTests {
    private func statuses(seed: UInt64) async throws -> [Int] {
        try await RawClient.with({ $0.faults = [.rateLimit: 0.5]; $0.seed = seed }) { emulator, client in
            var statuses: [Int] = []
            for _ in 0..<40 {
                statuses.append(try await client.send(.GET, "/v1/tasks/task_01K8SGYNNNVBQTXNR4MM964S7K").status)
            }
            #expect(emulator.stats.faultsInjected["rate_limit"] == statuses.filter { $0 == 429 }.count)
            return statuses
        }
    }

    @Test func sameSeedSameFaults() async throws {
        let first = try await statuses(seed: 42)
        #expect(try await statuses(seed: 42) == first)
        #expect(Set(first) == [429, 404])
        #expect(try await statuses(seed: 43) != first)
    }

    @Test func rateLimitSendsRetryAfter() async throws {
        try await RawClient.with({ $0.faults = [.rateLimit: 1]; $0.retryAfterSeconds = 9 }) { _, client in
            let answer = try await client.send(.POST, "/v1/videos/generations", json: ["model": "x"])
            #expect(answer.status == 429 && answer.headers["retry-after"] == "9")
        }
    }

    @Test func parsesCommandLineFaults() throws {
        #expect(try EmulatorFault.parse("rate_limit=0.25") == (.rateLimit, 0.25))
        #expect(try EmulatorFault.parse("truncate") == (.truncate, 1))
        #expect(try EmulatorFault.parse("created_then_502=0.5") == (.createdThen502, 0.5))
        #expect(try EmulatorFault.parse("cdn_flaky") == (.cdnFlaky, 1))
        for fault in EmulatorFault.allCases {
            #expect(try EmulatorFault.parse("\(fault.rawValue)=0.1") == (fault, 0.1))
            #expect(!fault.summary.isEmpty)
        }
        #expect(throws: EmulatorError.self) { try EmulatorFault.parse("meteor=0.1") }
        #expect(throws: EmulatorError.self) { try EmulatorFault.parse("stall=2") }
    }

    @Test func insufficientBalanceOnCreate() async throws {
        try await RawClient.with({ $0.faults = [.insufficientBalance: 1] }) { emulator, client in
            let answer = try await client.send(.POST, "/v1/videos/generations", json: ["model": "doubao-seedance-1-0-pro-fast", "prompt": "x"])
            #expect(answer.status == 402)
            #expect((answer.json["error"] as? [String: Any])?["code"] as? String == "insufficient_balance")
            #expect(emulator.stats.tasksCreated == 0)
        }
    }
}
