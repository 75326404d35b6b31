// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Synchronization

/// Everything the emulator remembers, behind one lock: tasks, uploads, counters, the request record and the
/// fault dice. Critical sections are a few dictionary operations, so a `Mutex` beats an actor hop here.
final class EmulatorState: Sendable {
    /// An image stored by the upload endpoint.
    struct Upload: Sendable {
        var path: String
        var contentType: String
        var createdAt: Double
    }

    private struct Storage {
        var tasks: [String: EmulatorTask] = [:]
        var uploads: [String: Upload] = [:]
        var stats = EmulatorStats()
        var records: [ReceivedRequest] = []
        var random: SeededRandom
    }

    let configuration: EmulatorConfiguration
    /// Where uploads and decoded data-URL images are written.
    let directory: URL
    private let storage: Mutex<Storage>

    init(configuration: EmulatorConfiguration, directory: URL, videoSource: String) {
        self.configuration = configuration
        self.directory = directory
        var stats = EmulatorStats()
        stats.videoSource = videoSource
        storage = Mutex(Storage(stats: stats, random: SeededRandom(seed: configuration.seed)))
    }

    /// Seconds since 1970, the emulator's clock.
    var now: Double { Date().timeIntervalSince1970 }

    // MARK: Faults

    /// Rolls the dice for `fault`; counts it when it fires.
    func roll(_ fault: EmulatorFault) -> Bool {
        guard let probability = configuration.faults[fault], probability > 0 else { return false }
        return storage.withLock { storage in
            let fires = storage.random.chance(probability)
            if fires { storage.stats.faultsInjected[fault.rawValue, default: 0] += 1 }
            return fires
        }
    }

    /// A random pick, from the same reproducible generator.
    func pick<T: Sendable>(_ choices: [T]) -> T {
        let index = storage.withLock { Int($0.random.next() % UInt64(choices.count)) }
        return choices[index]
    }

    // MARK: Records and counters

    func count(_ endpoint: String) {
        storage.withLock { $0.stats.requestsByEndpoint[endpoint, default: 0] += 1 }
    }

    func record(_ request: ReceivedRequest) {
        let limit = configuration.recordLimit
        guard limit > 0 else { return }
        storage.withLock { storage in
            if storage.records.count >= limit { storage.records.removeFirst(storage.records.count - limit + 1) }
            storage.records.append(request)
        }
    }

    func bump(_ update: @Sendable (inout EmulatorStats) -> Void) {
        storage.withLock { update(&$0.stats) }
    }

    /// The counters, with the outcomes of the tasks finished by now (computed here, so they are exact whenever
    /// they are read, polled or not).
    var stats: EmulatorStats {
        let now = self.now
        return storage.withLock { storage in
            var stats = storage.stats
            for task in storage.tasks.values { stats.settle(task, at: now) }
            return stats
        }
    }
    var records: [ReceivedRequest] { storage.withLock { $0.records } }

    func clearRecords() { storage.withLock { $0.records.removeAll() } }

    // MARK: Tasks

    /// Creates a task with a fresh id in the provider's shape; the fault dice decide moderation, early expiry,
    /// a slow run and a flaky CDN, and the prompt's hash decides `always_fail`.
    func createTask(
        provider: EmulatorTask.Provider, model: String, prompt: String, duration: Int, resolution: Resolution,
        ratio: AspectRatio, seed: Int64, images: [ImageRole: String], serviceTier: String = "default",
        executionExpiresAfter: Int = 172_800
    ) -> EmulatorTask {
        let moderated = roll(.moderation)
        let expiresEarly = roll(.expireEarly)
        let slow = roll(.slowTask)
        let cdnFlaky = roll(.cdnFlaky)
        let alwaysFails = EmulatorFault.promptFails(prompt, probability: configuration.faults[.alwaysFail] ?? 0)
        let failure: EmulatorTask.Failure? = alwaysFails ? .internalError : moderated ? .moderation : nil
        let now = self.now
        return storage.withLock { storage in
            let id =
                provider == .gateway
                ? TaskIdentifier.gateway(now: now, random: &storage.random)
                : TaskIdentifier.ark(now: now, random: &storage.random)
            let resolvedSeed = seed >= 0 ? seed : Int64(storage.random.next() % (1 << 32))
            let task = EmulatorTask(
                id: id, number: storage.stats.tasksCreated + 1, provider: provider, model: model, prompt: prompt,
                duration: duration, resolution: resolution, ratio: ratio, seed: resolvedSeed, images: images,
                createdAt: now, queueSeconds: configuration.queueSeconds,
                runSeconds: slow ? configuration.slowTaskSeconds : configuration.runSeconds, failure: failure,
                expiresEarly: expiresEarly, cdnFailures: cdnFlaky ? max(0, configuration.cdnFlakyFailures) : 0,
                serviceTier: serviceTier, executionExpiresAfter: executionExpiresAfter)
            storage.tasks[id] = task
            storage.stats.tasksCreated += 1
            if alwaysFails { storage.stats.faultsInjected[EmulatorFault.alwaysFail.rawValue, default: 0] += 1 }
            return task
        }
    }

    func task(_ id: String) -> EmulatorTask? { storage.withLock { $0.tasks[id] } }

    /// The tasks `provider` created, newest first.
    func tasks(of provider: EmulatorTask.Provider) -> [EmulatorTask] {
        storage.withLock { $0.tasks.values.filter { $0.provider == provider } }.sorted { $0.number > $1.number }
    }

    /// Counts one download of a task's video; returns how many came before it.
    func countDownload(_ id: String) -> Int {
        storage.withLock { storage in
            let earlier = storage.tasks[id]?.downloads ?? 0
            storage.tasks[id]?.downloads = earlier + 1
            return earlier
        }
    }

    /// Ark's DELETE: a queued task becomes cancelled, a finished one is deleted, a running or cancelled one stays.
    enum DeleteOutcome { case cancelled, deleted, notAllowed(String), notFound }

    func deleteTask(_ id: String) -> DeleteOutcome {
        let now = self.now
        return storage.withLock { storage in
            guard var task = storage.tasks[id] else { return .notFound }
            switch task.phase(at: now) {
            case .pending:
                task.cancelledAt = now
                storage.tasks[id] = task
                return .cancelled
            case .completed, .failed:
                // The outcome stays in the counters: a deleted task was still billed.
                storage.stats.settle(task, at: now)
                storage.tasks[id] = nil
                return .deleted
            case .processing:
                return .notAllowed("running")
            case .cancelled:
                return .notAllowed("cancelled")
            }
        }
    }

    // MARK: Uploads

    func storeUpload(name: String, _ upload: Upload) {
        storage.withLock { storage in
            storage.uploads[name] = upload
            storage.stats.imagesUploaded += 1
        }
    }

    func upload(_ name: String) -> Upload? { storage.withLock { $0.uploads[name] } }
}
