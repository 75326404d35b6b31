// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import Logging
import ServiceLifecycle
import Testing

/// Runs the service in-process with a scripted API (no HTTP) for the duration of `body`.
func withScriptedService(
    _ folders: ServiceFolders, api: FakeVideoAPI, busyTimeout: TimeInterval = 5,
    configure: (inout ServiceConfiguration) -> Void = { _ in }, clock: ShiftedClock? = nil,
    _ body: (ServiceEvents, SQLiteStateStore) async throws -> Void
) async throws {
    try await runScriptedService(
        folders, api: api, configure: configure, clock: clock,
        open: { try SQLiteStateStore(directory: $0.stateDirectory, busyTimeout: busyTimeout) }, body)
}

/// Runs the service with one slot (`max_in_flight: 1`) and the scripted API held back (`gate` closed), once a first job
/// (`first.txt`) is queued to take that slot: what `body` drops waits in the queue until it opens the gate. Returns
/// the folders and the API, for checks after the service stopped.
func withTheOnlySlotTaken(
    _ name: String, _ body: (ServiceFolders, FakeVideoAPI, ServiceEvents, SQLiteStateStore) async throws -> Void
) async throws -> (ServiceFolders, FakeVideoAPI) {
    let folders = try ServiceFolders(name)
    let api = FakeVideoAPI(FakeVideoAPI.Script())
    api.gate.withLock { $0 = false }
    try await withScriptedService(folders, api: api, configure: { $0.maxInFlight = 1 }) { events, store in
        try folders.drop("first.txt", "Occupies the only slot")
        await events.wait(for: "first queued") { $0.contains(where: \.isQueued) }
        try await body(folders, api, events, store)
    }
    return (folders, api)
}

/// Runs the service with a scripted API on the store `open` makes for the configuration, until `body` returns.
func runScriptedService<Store: ServiceStore>(
    _ folders: ServiceFolders, api: FakeVideoAPI, configure: (inout ServiceConfiguration) -> Void = { _ in },
    clock: ShiftedClock? = nil, open: (ServiceConfiguration) throws -> Store, _ body: (ServiceEvents, Store) async throws -> Void
) async throws {
    var configuration = folders.configuration(baseURL: "http://127.0.0.1:9")
    configure(&configuration)
    let store = try open(configuration)
    let events = ServiceEvents()
    var logger = Logger(label: "hotfolder-test")
    logger.logLevel = .warning
    var now: @Sendable () -> Date = { Date() }
    if let clock { now = clock.closure }
    let service = HotFolderService(
        configuration: configuration, api: api, store: store, logger: logger, clock: now, observer: events.record)
    let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: logger))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        try await body(events, store)
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

extension ServiceEvent {
    var isCancelled: Bool { if case .cancelled = self { true } else { false } }
    var isQueued: Bool { if case .queued = self { true } else { false } }
    var isResolved: Bool { if case .resolved = self { true } else { false } }
}

/// The money paths of issue 9, each first shown failing against the old runner, through the real service with a
/// scripted API: what is paid for is delivered, and nothing is paid for twice without saying so.
extension ServiceSuites {
@Suite struct RunnerMoneyPathTests {
    static let lost502 = VideoAPIError.answerLost(operation: .create, status: 502, reason: "not the API's own answer")

    /// Path 1: a task that ran long (many status calls) and a CDN that refuses its first downloads.
    @Test func aLongTaskWhoseVideoFailsToDownloadAFewTimesIsStillDelivered() async throws {
        let folders = try ServiceFolders("money-cdn")
        var script = FakeVideoAPI.Script()
        script.statuses = Array(repeating: .status(.running(progress: 50)), count: 25)
            + [.status(.succeeded(videoURL: "http://cdn.test/v.mp4", expiresAt: Date().addingTimeInterval(3600)))]
        let refused = VideoAPIError.downloadFailed(url: "http://cdn.test/v.mp4", category: .transient, reason: "HTTP 503")
        script.downloads = [refused, refused, refused, nil]
        let api = FakeVideoAPI(script)
        try await withScriptedService(folders, api: api, configure: {
            $0.pollMinInterval = .milliseconds(1)
            $0.pollMaxInterval = .milliseconds(5)
            $0.maxAttempts = 3
        }) { events, store in
            try folders.drop("slow.txt", "A glacier calving, filmed for minutes")
            await events.wait(for: "the video") { $0.contains(where: \.isDone) || $0.contains(where: \.isFailed) }
            #expect(try store.countsByState() == [.done: 1])
        }
        #expect(api.calls.createCalls == 1)
        #expect(api.calls.downloadCalls == 4)
        #expect(folders.files(in: "outbox").contains("slow.mp4"))
        #expect(folders.files(in: "failed").isEmpty)
    }

    /// Path 2: a prompt the provider always fails for an unknown reason makes at most 3 tasks.
    @Test func aTaskThatAlwaysFailsIsBoundedAndReportedWithTheProvidersMessage() async throws {
        let folders = try ServiceFolders("money-fail")
        var script = FakeVideoAPI.Script()
        script.statuses = [.status(.failed(category: .transient, message: "InternalServiceError: unexpected"))]
        let api = FakeVideoAPI(script)
        try await withScriptedService(folders, api: api) { events, store in
            try folders.drop("doomed.txt", "Always fails")
            await events.wait(for: "the failure") { $0.contains(where: \.isFailed) }
            let job = try #require(try store.recentFailures(limit: 1).first)
            #expect(job.failureCategory == "provider")
            #expect(job.failureMessage?.contains("InternalServiceError") == true)
        }
        #expect(api.calls.createCalls == 3)
        let text = (try? String(contentsOfFile: folders.failed + "/doomed/doomed.error.txt", encoding: .utf8)) ?? ""
        #expect(text.contains("InternalServiceError"), "\(text)")
    }

    /// Path 3: a create call answered by a proxy's 502 page after the task was made is never sent again.
    @Test func aCreateAnsweredByA502PageMakesTheJobUncertainNotASecondTask() async throws {
        let folders = try ServiceFolders("money-502")
        let api = FakeVideoAPI(FakeVideoAPI.Script(creates: [.lost("task-lost", Self.lost502), .task("task-2")]))
        try await withScriptedService(folders, api: api) { events, store in
            try folders.drop("paid.txt", "A paid video whose answer was lost")
            await events.wait(for: "uncertain") { $0.contains(where: \.isUncertain) }
            try await Task.sleep(for: .milliseconds(300))  // nothing else may happen to it
            #expect(try store.countsByState() == [.uncertain: 1])
        }
        #expect(api.calls.createCalls == 1)
        #expect(folders.files(in: "inbox") == ["paid.txt"], "the files stay for a person to decide")
    }

    /// Path 3 on a provider with a task list: the lost task is found and its video delivered, with one create.
    @Test func anUncertainJobIsResolvedFromTheTaskListAndDelivered() async throws {
        let folders = try ServiceFolders("money-search")
        let api = FakeVideoAPI(provider: "ark", canSearch: true, FakeVideoAPI.Script(creates: [.lost("cgt-1", Self.lost502), .task("cgt-2")]))
        try await withScriptedService(folders, api: api) { events, store in
            try folders.drop("found.txt", "A video found again")
            await events.wait(for: "the video", timeout: 60) { $0.contains(where: \.isDone) }
            #expect(await events.count(\.isResolved) == 1)
            #expect(try store.tasks(forJob: try #require(store.findJobs("found").first).id).map(\.taskID) == ["cgt-1"])
        }
        #expect(api.calls.createCalls == 1)
        #expect(api.calls.searches >= 1)
    }

    /// Path 3: a create refused by the API itself (nothing made) is retried and delivered.
    @Test func aCreateTheAPIRefusedIsRetried() async throws {
        let folders = try ServiceFolders("money-503")
        let busy = VideoAPIError.rejected(operation: .create, status: 503, category: .transient, message: "busy")
        let api = FakeVideoAPI(FakeVideoAPI.Script(creates: [.error(busy), .task("task-ok")]))
        try await withScriptedService(folders, api: api) { events, _ in
            try folders.drop("retry.txt", "Sent again safely")
            await events.wait(for: "the video") { $0.contains(where: \.isDone) }
        }
        #expect(api.calls.createCalls == 2)
    }

    /// An image exported again while its job waits in the queue, beside its unchanged prompt: the old job is cancelled
    /// unsent, and the pair with the new image becomes a new job.
    ///
    /// A defect until 2026-12-07 (issue 14's second session): no new job came. The prompt had been reported complete
    /// once, before the first job, and is not reported again; the replan compared the files with the cancelled job's
    /// stored identities, whose device and inode a released input no longer keeps. It now compares size and time.
    @Test func anImageExportedAgainBesideItsQueuedPromptBecomesANewJob() async throws {
        let newImage = Data(PNGWriter.gradient(width: 480, height: 300, from: (9, 9, 9), to: (200, 200, 200)))
        let (folders, api) = try await withTheOnlySlotTaken("money-reexported") { folders, api, events, store in
            try folders.drop("pair.png", Data(PNGWriter.gradient(width: 400, height: 300, from: (0, 0, 0), to: (255, 255, 255))))
            try folders.drop("pair.txt", "A slow zoom into the picture")
            await events.wait(for: "pair queued") { $0.filter(\.isQueued).count >= 2 }
            try folders.drop("pair.png", newImage)
            api.gate.withLock { $0 = true }
            await events.wait(for: "the old pair cancelled") { $0.contains(where: \.isCancelled) }
            let cancelled = try #require(try store.jobs(inStates: [.cancelled]).first)
            #expect(try !store.events(cancelled.id).contains { $0.kind == .task }, "the old pair was never sent")
            await events.wait(for: "the new pair's video") { $0.filter(\.isDone).count >= 2 }
            #expect(try store.countsByState() == [.done: 2, .cancelled: 1])
            let made = try #require(try store.jobs(inStates: [.done]).first { $0.name == "pair" })
            let image = try #require(try await store.inputFiles(ofJob: made.id).first { $0.path == "pair.png" })
            try newImage.write(to: URL(fileURLWithPath: folders.root + "/new.png"))
            #expect(image.sha256 == (try FileDigest.sha256(ofFile: folders.root + "/new.png")), "the new pair is made of the new image")
        }
        #expect(api.calls.createCalls == 2, "the first job and the new pair, nothing for the old pair")
        #expect(FileManager.default.fileExists(atPath: folders.outbox + "/pair.mp4"))
        #expect(!["pair.png", "pair.txt"].contains { FileManager.default.fileExists(atPath: folders.inbox + "/" + $0) })
    }

    /// A manifest's image exported again while its row waits in the queue, the other row still queued too: the old
    /// row is cancelled unsent, and the row with the new image becomes a new job; nothing ends in `failed/`.
    @Test func aManifestImageExportedAgainWhileItsRowIsQueuedBecomesANewJob() async throws {
        let (folders, api) = try await withTheOnlySlotTaken("money-reexported-row") { folders, api, events, store in
            try folders.drop("shots/a.png", Data(PNGWriter.gradient(width: 400, height: 300, from: (0, 0, 0), to: (255, 255, 255))))
            try folders.drop("shots/b.png", Data(PNGWriter.gradient(width: 400, height: 300, from: (9, 0, 0), to: (255, 255, 0))))
            try folders.drop("shots/list.csv", "name,prompt,first_frame\na,A slow zoom,a.png\nb,A fast pan,b.png\n")
            await events.wait(for: "both rows queued") { $0.filter(\.isQueued).count >= 3 }
            try folders.drop("shots/a.png", Data(PNGWriter.gradient(width: 480, height: 300, from: (9, 9, 9), to: (200, 200, 200))))
            api.gate.withLock { $0 = true }
            await events.wait(for: "the old row cancelled") { $0.contains(where: \.isCancelled) }
            await events.wait(for: "three videos", timeout: 15) { $0.filter(\.isDone).count >= 3 }
            #expect(try store.countsByState() == [.done: 3, .cancelled: 1])
        }
        #expect(api.calls.createCalls == 3, "first, b and the new a; nothing for the old a")
        #expect(folders.files(in: "failed").isEmpty)
        #expect(folders.files(in: "inbox").isEmpty, "\(folders.files(in: "inbox"))")
    }

    /// Path 4: a prompt rewritten while its job waits in the queue is never sent with the old or new text by the
    /// old job; the new content becomes a new job.
    @Test func aPromptChangedWhileQueuedBecomesANewJob() async throws {
        let (folders, api) = try await withTheOnlySlotTaken("money-changed") { folders, api, events, store in
            try folders.drop("second.txt", "The old text")
            await events.wait(for: "second queued") { $0.filter(\.isQueued).count >= 2 }
            try folders.drop("second.txt", "The new text, longer than the old one")
            await events.wait(for: "the new content queued") { $0.filter(\.isQueued).count >= 3 }
            api.gate.withLock { $0 = true }
            await events.wait(for: "two videos") { $0.filter(\.isDone).count >= 2 }
            #expect(await events.count(\.isCancelled) == 1)
            #expect(try store.countsByState() == [.done: 2, .cancelled: 1])
        }
        #expect(api.calls.createCalls == 2)
        let metadata = jsonObject(folders.outbox + "/second.json")
        #expect((metadata["request"] as? [String: Any])?["prompt"] as? String == "The new text, longer than the old one")
    }

    /// Path 7: a job whose stored description cannot be read fails by name instead of holding a slot forever.
    @Test func aJobWhoseStoredDescriptionCannotBeReadFailsLoudly() async throws {
        let folders = try ServiceFolders("money-spec")
        let api = FakeVideoAPI(FakeVideoAPI.Script())
        do {
            let store = try SQLiteStateStore(directory: folders.state)
            try store.insertJob(NewJob(name: "odd", specJSON: Data("{\"not\": \"a spec\"}".utf8)))
            try store.close()
        }
        try await withScriptedService(folders, api: api, configure: { $0.maxInFlight = 1 }) { events, store in
            await events.wait(for: "the failure") { $0.contains(where: \.isFailed) }
            let job = try #require(try store.recentFailures(limit: 1).first)
            #expect(job.failureCategory == "internal")
            #expect(job.failureMessage?.contains("odd") == true)
            // The slot is free: a new drop still goes through.
            try folders.drop("next.txt", "Still works")
            await events.wait(for: "the next video") { $0.contains(where: \.isDone) }
        }
        #expect(api.calls.createCalls == 1)
    }

    /// Path 6: a planning pass that fails (the database locked by another process, as the CLI does) is retried;
    /// the drop is not forgotten until the next restart.
    @Test func aDropSeenWhileTheDatabaseIsLockedIsPlannedOnceItIsFree() async throws {
        let folders = try ServiceFolders("money-busy")
        let api = FakeVideoAPI(FakeVideoAPI.Script())
        try await withScriptedService(folders, api: api, busyTimeout: 0.2) { events, store in
            await events.wait(for: "watching") { $0.contains(.watching) }
            // Another process holds the write lock for 2 s.
            let locker = Process()
            locker.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            locker.arguments = [
                "python3", "-c",
                "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(2)",
                store.path,
            ]
            let output = Pipe()
            locker.standardOutput = output
            try locker.run()
            _ = output.fileHandleForReading.availableData  // "locked"
            try folders.drop("busy.txt", "Dropped while the database was locked")
            await events.wait(for: "the video", timeout: 20) { $0.contains(where: \.isDone) }
            locker.waitUntilExit()
        }
        #expect(api.calls.createCalls == 1)
    }

    /// `hotfolder cancel` while the create call is under way: the task that comes back anyway is cancelled at
    /// the provider and noted, not left running and billed in silence.
    @Test func aTaskCreatedAfterItsJobWasCancelledIsCancelledAtTheProvider() async throws {
        let folders = try ServiceFolders("money-cancel")
        let api = FakeVideoAPI(FakeVideoAPI.Script(creates: [.task("task-orphan")]))
        api.gate.withLock { $0 = false }
        var configuration = folders.configuration(baseURL: "http://127.0.0.1:9")
        configuration.maxInFlight = 1
        try await withScriptedService(folders, api: api) { events, store in
            try folders.drop("late.txt", "Cancelled during its create call")
            await events.wait(for: "queued") { $0.contains(where: \.isQueued) }
            var job = try #require(try store.findJobs("late").first)
            for _ in 0..<200 where job.state != .submitting {
                try await Task.sleep(for: .milliseconds(10))
                job = try #require(try store.job(job.id))
            }
            #expect(job.state == .submitting)
            let outcome = await JobControl(store: store, configuration: configuration).cancel([job], api: nil)
            #expect(!outcome.hadErrors, "\(outcome.lines)")
            api.gate.withLock { $0 = true }
            for _ in 0..<300 where api.calls.cancelCalls.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            #expect(try store.job(job.id)?.state == .cancelled)
            #expect(try store.events(job.id).contains { $0.message?.contains("task-orphan") == true })
        }
        #expect(api.calls.cancelCalls == ["task-orphan"])
    }
}
}
