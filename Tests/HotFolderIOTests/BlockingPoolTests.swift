// SPDX-License-Identifier: GPL-2.0-or-later
import Dispatch
import Foundation
import HotFolderCore
import NIOCore
import Synchronization
import Testing

@testable import HotFolderIO

/// The service's blocking work (SQLite waiting for another process's lock, fsync, walks of a slow share, hashes of
/// big images) runs on its own threads. Before, it shared NIO's file-system pool (one thread per core) with the
/// downloads and uploads, so a few store calls waiting for a lock stopped every download: CI saw a 2 KB video "not
/// answer within 10 s" while the first tests of the suite were all writing their databases.
@Suite struct BlockingPoolTests {
    @Test func aDownloadGoesOnWhileEveryBlockingThreadWaits() async throws {
        try await Fixture.with { fixture in
            let api = fixture.gateway()
            let request = GenerationRequest(
                model: SeedanceModel.fast.rawValue, prompt: "A kitten", duration: 2, aspectRatio: "16:9", resolution: "480p")
            let id = try await api.createTask(request)
            guard case .succeeded(let url, _) = try await api.task(id: id).status else {
                Issue.record("expected the emulator's task to succeed at once")
                return
            }
            let held = try await BlockingThreadsHeld(count: Blocking.threadCount)
            defer { held.release() }
            // Should the download wait for the pool, its 10 s timeout ends it, and the call returns once the
            // threads are let go: this watchdog lets them go so that a regression fails instead of hanging.
            let watchdog = Task {
                try await Task.sleep(for: .seconds(15))
                held.release()
            }
            defer { watchdog.cancel() }
            let destination = fixture.directory.appendingPathComponent("out.mp4").path
            let bytes = try await api.download(from: url, to: destination)
            #expect(bytes > 1000)
            held.release()
            // And the pool works again once its threads are free.
            #expect(try await Blocking.run { 42 } == 42)
        }
    }

    @Test func thePoolHasMoreThreadsThanCoresForWorkThatWaits() {
        #expect(Blocking.threadCount >= 4)
        #expect(Blocking.threadCount > System.coreCount)
    }
}

/// Every thread of ``Blocking``'s pool, each waiting for ``release()`` as a store call waits for a lock.
private final class BlockingThreadsHeld: Sendable {
    private let gate = DispatchSemaphore(value: 0)
    private let released = Atomic<Bool>(false)
    private let count: Int

    init(count: Int) async throws {
        self.count = count
        let started = DispatchSemaphore(value: 0)
        for _ in 0..<count {
            Task { [gate] in
                try await Blocking.run {
                    started.signal()
                    gate.wait()
                    gate.signal()
                }
            }
        }
        // Waits off the cooperative threads until every one of them is taken.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                for _ in 0..<count { started.wait() }
                continuation.resume()
            }
        }
    }

    /// Lets every held thread go (once; each passes the gate on to the next).
    func release() {
        if !released.exchange(true, ordering: .relaxed) { gate.signal() }
    }
}
