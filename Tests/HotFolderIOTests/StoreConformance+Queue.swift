// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderIO
import Testing

extension StoreConformance {
    /// The queue's pause is one for all nodes: paused (and announced) once, probed by one node at a time, resumed
    /// (and announced) once.
    static func checkTheQueuePauseIsSharedAndProbedByOneNode(_ a: some StateStore, _ b: some StateStore) async throws {
        #expect(try await a.queuePause() == nil)
        #expect(try await a.takeProbe(now: at(100), next: at(160)) == false, "no pause, no probe")
        let first = QueuePauseRecord(category: "quota", reason: "no balance left", since: t0, nextProbe: at(60))
        #expect(try await a.pauseQueue(first), "the queue was running: a announces the pause")
        let second = QueuePauseRecord(category: "auth", reason: "the key was refused", since: at(5), nextProbe: at(65))
        #expect(try await b.pauseQueue(second) == false, "already paused: b says nothing")
        let shared = try #require(try await a.queuePause())
        #expect(shared.category == "auth" && shared.reason == "the key was refused" && shared.nextProbe == at(65))
        #expect(shared.since == t0, "the pause began with a's")

        #expect(try await b.takeProbe(now: at(64), next: at(124)) == false, "not yet")
        async let viaA = a.takeProbe(now: at(65), next: at(125))
        async let viaB = b.takeProbe(now: at(65), next: at(125))
        let probes = try await [viaA, viaB]
        #expect(probes.filter { $0 }.count == 1, "one node lets one job through")
        #expect(try await b.queuePause()?.nextProbe == at(125))

        async let endA = a.resumeQueue()
        async let endB = b.resumeQueue()
        let ends = try await [endA, endB]
        #expect(ends.compactMap { $0 }.count == 1, "resumed (and announced) once")
        #expect(ends.compactMap { $0 }.first?.since == t0)
        #expect(try await a.queuePause() == nil)
        #expect(try await b.queuePause() == nil)
        #expect(try await a.pauseQueue(first), "running again: the next refusal pauses it anew")
    }
}
