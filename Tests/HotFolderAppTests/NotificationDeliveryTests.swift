// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import Logging
import Synchronization
import Testing

/// Delivery of notifications against real receivers: a webhook on loopback that fails, is slow, goes away and
/// comes back; commands that read the event on stdin or hang; a real SQLite file that outlives a restart.
extension ServiceSuites {
@Suite struct NotificationDeliveryTests {
    /// Short backoff so retries happen within a test; the rules themselves are tested with an injected clock.
    static let fastPolicy = NotificationRetryPolicy(firstDelay: 0.05, maxDelay: 0.3, giveUpAfter: 3600)

    let directory: String
    let logs = LogLines()

    init() throws {
        directory = NSTemporaryDirectory() + "hotfolder-notify-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func secretFile(_ secret: String) throws -> String {
        let path = directory + "/secret"
        try Data((secret + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func openStore() throws -> SQLiteStateStore {
        try SQLiteStateStore(directory: directory + "/state")
    }

    /// Runs a dispatcher for `targets` on `store` during `body`, then stops it.
    func withDispatcher(
        _ store: SQLiteStateStore, _ targets: [NotifyTarget],
        _ body: (NotificationDispatcher) async throws -> Void
    ) async throws {
        let dispatcher = try NotificationDispatcher(
            targets: targets, store: store, logger: logs.logger(), instance: "test-host", policy: Self.fastPolicy,
            idleInterval: 0.2, drainTime: 0.5)
        try await run(dispatcher) { try await body(dispatcher) }
    }

    /// Runs `dispatcher` during `body`, then stops it and waits until it has stopped.
    func run(_ dispatcher: NotificationDispatcher, _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await dispatcher.runLoops() }
            do {
                try await body()
            } catch {
                dispatcher.stop()
                throw error
            }
            dispatcher.stop()
            try await group.waitForAll()
        }
    }

    @Test func aReceiverThatFailsTwiceGetsTheEventWithTheSameIDAndAValidSignature() async throws {
        let receiver = try await WebhookReceiver.start(script: [.status(500), .status(503)])
        let secret = "s3cret-MARKER-91c7"
        let target = NotifyTarget(destination: .url(receiver.url), secretFile: try secretFile(secret))
        let store = try openStore()
        try await withDispatcher(store, [target]) { _ in
            let id = try #require(try store.enqueueNotification(type: .queuePaused, fields: ["reason": "no balance"]))
            await receiver.wait(for: "three attempts") { $0.count >= 3 }
            try await waitUntil("the delivery recorded") { try store.notifications(eventID: id).first?.deliveredAt != nil }
            let received = receiver.received
            #expect(received.map(\.id) == [id, id, id], "the same id on every attempt, so a receiver can drop duplicates")
            for request in received {
                #expect(request.headers["x-hotfolder-event"] == "queue.paused")
                #expect(request.headers["content-type"] == "application/json")
                let expected = "sha256=" + IndependentHMAC.sha256Hex(key: Array(secret.utf8), message: Array(request.body))
                #expect(request.headers["x-hotfolder-signature"] == expected)
            }
            #expect(received[0].json["reason"] as? String == "no balance" && received[0].json["instance"] as? String == "test-host")
            let row = try #require(try store.notifications(eventID: id).first)
            #expect(row.attempts == 3 && row.abandonedAt == nil && row.nextAttemptAt == nil)
        }
        await receiver.stop()
        #expect(logs.all.allSatisfy { !$0.contains(secret) }, "the secret appeared in a log line")
        for file in try FileManager.default.contentsOfDirectory(atPath: directory + "/state") {
            let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/state/" + file))
            #expect(data.range(of: Data(secret.utf8)) == nil, "the secret is in \(file)")
        }
    }

    @Test func aSlowReceiverIsRetriedWhileTheOtherTargetsGetTheirsAtOnce() async throws {
        let slow = try await WebhookReceiver.start(script: [.late(3)])
        let fast = try await WebhookReceiver.start()
        let store = try openStore()
        let targets = [
            NotifyTarget(destination: .url(slow.url), timeout: .milliseconds(400)),
            NotifyTarget(destination: .url(fast.url)),
        ]
        try await withDispatcher(store, targets) { _ in
            let started = Date()
            let id = try #require(try store.enqueueNotification(type: .reportReady, fields: ["path": "/srv/report.html"]))
            await fast.wait(for: "the fast target's delivery") { $0.count == 1 }
            #expect(Date().timeIntervalSince(started) < 2, "the slow target (3 s) did not hold the fast one up")
            await slow.wait(for: "the slow target's second attempt") { $0.count >= 2 }
            try await waitUntil("both deliveries recorded") {
                try store.notifications(eventID: id).allSatisfy { $0.deliveredAt != nil }
            }
            let slowRow = try #require(try store.notifications(eventID: id).first { $0.label.contains("\(slow.port)") })
            #expect(slowRow.attempts == 2)
            #expect(slowRow.lastError?.contains("no answer within") == true || slowRow.lastError?.contains("eadline") == true, "\(slowRow.lastError ?? "")")
        }
        await slow.stop()
        await fast.stop()
    }

    @Test func aReceiverThatIsDownGetsEverythingInOrderOnceItIsBack() async throws {
        let receiver = try await WebhookReceiver.start()
        await receiver.stop()
        let store = try openStore()
        // A refused connection is tried again by the HTTP client until the time limit: keep it short here.
        try await withDispatcher(store, [NotifyTarget(destination: .url(receiver.url), timeout: .seconds(1))]) { _ in
            var ids: [String] = []
            for index in 0..<5 {
                ids.append(try #require(try store.enqueueNotification(type: .budgetThreshold, fields: ["index": .number(Double(index))])))
            }
            try await waitUntil("a failed attempt") { try store.notifications().contains { $0.attempts >= 2 } }
            #expect(try store.notificationCounts().first?.pending == 5)
            try await receiver.restart()
            await receiver.wait(for: "all five events") { $0.count >= 5 }
            #expect(receiver.received.map(\.id) == ids, "in the order they were written")
            try await waitUntil("every delivery recorded") { try store.notificationCounts().first?.pending == 0 }
        }
        await receiver.stop()
    }

    @Test func aRestartLosesNoDelivery() async throws {
        let receiver = try await WebhookReceiver.start()
        await receiver.stop()
        let target = NotifyTarget(destination: .url(receiver.url), timeout: .seconds(1))
        var ids: [String] = []
        do {
            let store = try openStore()
            try await withDispatcher(store, [target]) { _ in
                for _ in 0..<3 { ids.append(try #require(try store.enqueueNotification(type: .watchUnreachable))) }
                try await waitUntil("a failed attempt") { try store.notifications().contains { $0.attempts >= 1 } }
            }
            try store.close()
        }
        try await receiver.restart()
        let store = try openStore()
        try await withDispatcher(store, [target]) { _ in
            await receiver.wait(for: "the three events after the restart") { $0.count >= 3 }
        }
        #expect(receiver.received.map(\.id) == ids)
        await receiver.stop()
    }

    @Test func aCommandGetsTheEventOnStdin() async throws {
        let store = try openStore()
        let output = directory + "/out"
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let target = NotifyTarget(destination: .command(["/bin/sh", "-c", "cat > \(output)/$HOTFOLDER_EVENT_ID.json"]))
        try await withDispatcher(store, [target]) { _ in
            let id = try #require(try store.enqueueNotification(type: .serviceStarted, fields: ["inbox": "/srv/inbox"]))
            try await waitUntil("the command's delivery") { try store.notifications(eventID: id).first?.deliveredAt != nil }
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(output)/\(id).json"))
            let payload = try NotificationPayload.decode(data)
            #expect(payload.id == id && payload.type == .serviceStarted && payload.fields["inbox"] == "/srv/inbox")
        }
    }

    @Test func aHangingCommandIsKilledAtItsTimeLimitAndTriedAgain() async throws {
        let store = try openStore()
        let marker = directory + "/first-attempt"
        let output = directory + "/event.json"
        // The first run hangs (exec: the shell becomes the sleep, so the kill reaches it); the second one works.
        let script = "if [ -e \(marker) ]; then cat > \(output); else touch \(marker); exec sleep 60; fi"
        let target = NotifyTarget(destination: .command(["/bin/sh", "-c", script]), timeout: .milliseconds(500))
        try await withDispatcher(store, [target]) { _ in
            let started = Date()
            let id = try #require(try store.enqueueNotification(type: .serviceStopping))
            try await waitUntil("the second attempt") { try store.notifications(eventID: id).first?.deliveredAt != nil }
            #expect(Date().timeIntervalSince(started) < 5, "killed at its time limit, not after the sleep")
            let row = try #require(try store.notifications(eventID: id).first)
            #expect(row.attempts == 2)
            #expect(row.lastError?.contains("killed after") == true, "\(row.lastError ?? "")")
            #expect(FileManager.default.fileExists(atPath: output))
        }
    }

    @Test func aDeliveryFailingForADayIsGivenUpWithAWarning() async throws {
        let receiver = try await WebhookReceiver.start(script: Array(repeating: .status(500), count: 10))
        let clock = ManualClock()
        let store = try SQLiteStateStore(directory: directory + "/state", clock: clock.now)
        let dispatcher = try NotificationDispatcher(
            targets: [NotifyTarget(destination: .url(receiver.url))], store: store, logger: logs.logger(),
            policy: NotificationRetryPolicy(), clock: clock.now, idleInterval: 0.05, drainTime: 0.5)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await dispatcher.runLoops() }
            let id = try #require(try store.enqueueNotification(type: .jobStalled))
            try await waitUntil("the first failure") { try store.notifications(eventID: id).first?.attempts == 1 }
            let first = try #require(try store.notifications(eventID: id).first)
            #expect(first.nextAttemptAt == first.createdAt.addingTimeInterval(5), "5 s after the first failure")
            clock.advance(23 * 3600)
            try await waitUntil("an attempt within the day") { try store.notifications(eventID: id).first?.attempts == 2 }
            #expect(try store.notifications(eventID: id).first?.abandonedAt == nil)
            clock.advance(3600)
            try await waitUntil("the attempt at the deadline") { try store.notifications(eventID: id).first?.attempts == 3 }
            let last = try #require(try store.notifications(eventID: id).first)
            #expect(last.abandonedAt == clock.now() && last.nextAttemptAt == nil && last.lastError == "HTTP 500")
            #expect(try store.notificationCounts().first?.abandoned == 1)
            #expect(logs.all.contains { $0.hasPrefix("warning") && $0.contains("given up after 3 attempts") })
            dispatcher.stop()
            try await group.waitForAll()
        }
        #expect(receiver.received.count == 3)
        await receiver.stop()
    }

    @Test func aJobWithoutProgressIsReportedStalledOnce() async throws {
        let receiver = try await WebhookReceiver.start()
        let clock = ManualClock()
        let store = try SQLiteStateStore(directory: directory + "/state", clock: clock.now)
        let dispatcher = try NotificationDispatcher(
            targets: [NotifyTarget(destination: .url(receiver.url))], store: store, logger: logs.logger(),
            stallAfter: .seconds(1800), clock: clock.now, idleInterval: 0.05, drainTime: 0.5,
            stallCheckInterval: 0.05)
        let job = try store.insertJob(NewJob(name: "slow", specJSON: Data("{}".utf8)))
        try await store.commit(job.id, JobLifecycle.Commit(from: .ready, to: .submitting, message: "", counters: JobCounters()))
        try await store.commit(job.id, JobLifecycle.Commit(from: .submitting, to: .submitted, message: "", counters: JobCounters()))
        try await run(dispatcher) {
            try await Task.sleep(for: .milliseconds(200))
            let early = try store.notifications().count
            #expect(early == 0, "not stalled yet")
            clock.advance(31 * 60)
            try await waitUntil("job.stalled delivered") {
                try store.notifications().contains { $0.type == .jobStalled && $0.deliveredAt != nil }
            }
            try await Task.sleep(for: .milliseconds(300))  // several more checks
        }
        let stalled = receiver.received.filter { $0.type == "job.stalled" }
        #expect(stalled.count == 1, "once per stall")
        #expect(stalled.first?.job["name"] as? String == "slow" && stalled.first?.job["state"] as? String == "submitted")
        await receiver.stop()
    }

    @Test func withoutTargetsNothingIsWritten() async throws {
        let store = try openStore()
        try await withDispatcher(store, []) { _ in
            let id = try store.enqueueNotification(type: .serviceStarted)
            #expect(id == nil)
            #expect(try store.notifications().isEmpty)
        }
    }

    @Test func aTargetTakesOnlyTheEventsItAsksFor() async throws {
        let receiver = try await WebhookReceiver.start()
        let store = try openStore()
        let target = NotifyTarget(destination: .url(receiver.url), events: try NotificationFilter(patterns: ["queue.*"]))
        try await withDispatcher(store, [target]) { _ in
            #expect(try store.enqueueNotification(type: .serviceStarted) == nil)
            try store.enqueueNotification(type: .queueResumed)
            await receiver.wait(for: "queue.resumed") { $0.count >= 1 }
        }
        #expect(receiver.received.map(\.type) == ["queue.resumed"])
        await receiver.stop()
    }
}
}

/// HMAC-SHA256 (RFC 2104) over the core's own SHA-256: independent of the library the service signs with.
enum IndependentHMAC {
    static func sha256Hex(key: [UInt8], message: [UInt8]) -> String {
        var key = key
        if key.count > 64 {
            var hash = HotFolderCore.SHA256()
            hash.update(key)
            key = hash.finalize()
        }
        key += [UInt8](repeating: 0, count: 64 - key.count)
        var inner = HotFolderCore.SHA256()
        inner.update(key.map { $0 ^ 0x36 })
        inner.update(message)
        var outer = HotFolderCore.SHA256()
        outer.update(key.map { $0 ^ 0x5c })
        outer.update(inner.finalize())
        return outer.finalizeHex()
    }
}

/// A clock a test moves by hand.
final class ManualClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))

    var now: @Sendable () -> Date { { self.current.withLock { $0 } } }

    func advance(_ seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
