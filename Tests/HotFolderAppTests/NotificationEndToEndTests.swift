// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Glibc
import HotFolderApp
import HotFolderCore
import HotFolderIO
import SeedanceEmulator
import Testing

/// The whole service with a webhook target: job events carry the job, and a restart loses none.
extension ServiceSuites {
@Suite struct NotificationEndToEndTests {
    @Test func aFinishedPromptPostsJobDoneWithTheVideoPath() async throws {
        let folders = try ServiceFolders("notify-done")
        let emulator = try await startEmulator()
        let receiver = try await WebhookReceiver.start()
        var video = ""
        try await withService(folders, emulator: emulator, configure: {
            $0.notify = [NotifyTarget(destination: .url(receiver.url))]
        }) { events, _ in
            try folders.drop("sunset.txt", "A slow sunset over the sea, golden light")
            await events.wait(for: "the video") { $0.contains(where: \.isDone) }
            for case .done(_, _, let path) in await events.events { video = path }
            await receiver.wait(for: "job.done") { $0.contains { $0.type == "job.done" } }
        }
        await emulator.shutdown()
        let done = try #require(receiver.received.first { $0.type == "job.done" })
        #expect(done.job["name"] as? String == "sunset" && done.job["state"] as? String == "done")
        #expect(done.job["video"] as? String == video && video.hasSuffix("/outbox/sunset.mp4"))
        #expect(done.job["prompt"] as? String == "A slow sunset over the sea, golden light")
        #expect((done.job["model"] as? String)?.hasPrefix("doubao-seedance") == true)
        #expect((done.job["cost"] as? Double ?? 0) > 0, "the estimate, in US dollars")
        #expect(done.headers["x-hotfolder-event"] == "job.done")
        #expect(receiver.received.contains { $0.type == "service.started" })
        await receiver.stop()
    }

    @Test func aCapReachedPostsBudgetExhaustedJobHeldAndTheSettledCost() async throws {
        let folders = try ServiceFolders("notify-budget")
        let emulator = try await startEmulator()
        let receiver = try await WebhookReceiver.start()
        let cost = OvernightServiceTests.jobCost
        try await withService(folders, emulator: emulator, configure: {
            $0.notify = [NotifyTarget(destination: .url(receiver.url), events: try! NotificationFilter(patterns: ["job.*", "budget.*"]))]
            $0.budget = BudgetCaps(daily: cost * 1.5, alertAt: [0.5])
            $0.timeZone = TimeZone(identifier: "UTC")!
        }) { events, _ in
            try folders.drop("first.txt", "A red kite over the dunes")
            await events.wait(for: "the first video") { $0.contains(where: \.isDone) }
            try folders.drop("second.txt", "A blue kite over the dunes")
            await receiver.wait(for: "job.held and budget.exhausted") { received in
                received.contains { $0.type == "job.held" } && received.contains { $0.type == "budget.exhausted" }
            }
        }
        await emulator.shutdown()
        let done = try #require(receiver.received.first { $0.type == "job.done" })
        #expect(abs((done.job["cost"] as? Double ?? 0) - cost) < 1e-9, "the settled cost of its create call")
        let held = try #require(receiver.received.first { $0.type == "job.held" })
        #expect(held.job["name"] as? String == "second")
        #expect(((held.job["error"] as? [String: Any])?["message"] as? String)?.hasPrefix("daily budget") == true)
        #expect(receiver.received.contains { $0.type == "budget.threshold" }, "the first job crossed half of the cap")
        #expect(receiver.received.filter { $0.type == "budget.exhausted" }.count == 1, "told once per cap and day")
        await receiver.stop()
    }

    @Test func aRefusedPromptAndAnInvalidDropPostJobFailedWithTheirCategories() async throws {
        let folders = try ServiceFolders("notify-failed")
        let emulator = try await startEmulator(faults: [.moderation: 1])
        let receiver = try await WebhookReceiver.start()
        try await withService(folders, emulator: emulator, configure: {
            $0.notify = [NotifyTarget(destination: .url(receiver.url), events: try! NotificationFilter(patterns: ["job.*"]))]
        }) { events, _ in
            try folders.drop("clip.txt", "A dancer on a rooftop")
            try folders.drop("bad.txt", "A slow zoom on a mountain")
            try folders.drop("bad.yaml", "duration: 99\n")
            await events.wait(for: "both failures") { $0.contains(where: \.isFailed) && $0.contains(where: \.isInvalid) }
            await receiver.wait(for: "two job.failed") { $0.filter { $0.type == "job.failed" }.count >= 2 }
        }
        await emulator.shutdown()
        let failed = receiver.received.filter { $0.type == "job.failed" }
        let categories = Dictionary(failed.map { ($0.job["name"] as? String ?? "", ($0.job["error"] as? [String: Any])?["category"] as? String) }) { a, _ in a }
        #expect(categories["clip"] == "moderation" && categories["bad"] == "invalid", "\(categories)")
        let bad = try #require(failed.first { $0.job["name"] as? String == "bad" })
        #expect(((bad.job["error"] as? [String: Any])?["message"] as? String)?.contains("duration") == true)
        #expect(receiver.received.allSatisfy { $0.type.hasPrefix("job.") }, "only the events the target asked for")
        await receiver.stop()
    }

    @Test func aServiceStoppedWithPendingDeliveriesDeliversThemAfterItsRestart() async throws {
        let folders = try ServiceFolders("notify-restart")
        let emulator = try await startEmulator()
        let receiver = try await WebhookReceiver.start()
        await receiver.stop()  // down while the job finishes
        let configure: (inout ServiceConfiguration) -> Void = { $0.notify = [NotifyTarget(destination: .url(receiver.url))] }
        var doneID: String?
        try await withService(folders, emulator: emulator, configure: configure) { events, store in
            try folders.drop("wave.txt", "A wave breaking in slow motion")
            await events.wait(for: "the video") { $0.contains(where: \.isDone) }
            doneID = try store.notifications().first { $0.type == .jobDone }?.eventID
        }
        let stopped = try SQLiteStateStore(directory: folders.state)
        let pending = try stopped.notifications().filter { $0.nextAttemptAt != nil }
        let status = try await StatusReport.read(store: stopped, stateDirectory: folders.state)
        #expect(status.notifications.first?.pending == pending.count && status.text.contains("pending, 0 abandoned"), "\(status.text)")
        try stopped.close()
        #expect(pending.contains { $0.type == .jobDone } && pending.contains { $0.type == .serviceStopping })
        try await receiver.restart()
        try await withService(folders, emulator: emulator, configure: configure) { _, _ in
            await receiver.wait(for: "the events of the first run") { received in
                received.contains { $0.type == "job.done" } && received.contains { $0.type == "service.stopping" }
            }
        }
        await emulator.shutdown()
        #expect(receiver.received.first { $0.type == "job.done" }?.id == doneID)
        await receiver.stop()
    }

    @Test func anEmptyBalancePostsQueuePausedOnce() async throws {
        let folders = try ServiceFolders("notify-paused")
        let emulator = try await startEmulator(faults: [.insufficientBalance: 1])
        let receiver = try await WebhookReceiver.start()
        try await withService(folders, emulator: emulator, configure: {
            $0.notify = [NotifyTarget(destination: .url(receiver.url), events: try! NotificationFilter(patterns: ["queue.*"]))]
        }) { events, _ in
            try folders.drop("a.txt", "A lighthouse at night")
            try folders.drop("b.txt", "A lighthouse at dawn")
            await events.wait(for: "the pause") { $0.contains(.queuePaused(category: "quota")) }
            await receiver.wait(for: "queue.paused") { $0.contains { $0.type == "queue.paused" } }
            // Probes keep failing; the pause is told once.
            try await Task.sleep(for: .milliseconds(600))
        }
        await emulator.shutdown()
        let paused = receiver.received.filter { $0.type == "queue.paused" }
        #expect(paused.count == 1 && paused.first?.json["category"] as? String == "quota")
        #expect((paused.first?.json["reason"] as? String)?.contains("balance") == true)
        await receiver.stop()
    }

    @Test func anInboxThatGoesAwayPostsWatchUnreachableOncePerOutage() async throws {
        let folders = try ServiceFolders("notify-unreachable")
        let emulator = try await startEmulator()
        let receiver = try await WebhookReceiver.start()
        try await withService(folders, emulator: emulator, configure: {
            $0.watchMode = .poll
            $0.pollInterval = .milliseconds(100)
            $0.notify = [NotifyTarget(destination: .url(receiver.url), events: try! NotificationFilter(patterns: ["watch.unreachable"]))]
        }) { events, _ in
            await events.wait(for: "watching") { $0.contains(.watching) }
            #expect(rename(folders.inbox, folders.root + "/inbox-away") == 0)
            await receiver.wait(for: "watch.unreachable") { $0.contains { $0.type == "watch.unreachable" } }
            try await Task.sleep(for: .milliseconds(500))  // several polls of a missing inbox
            #expect(receiver.received.count == 1, "once per outage")
            #expect(rename(folders.root + "/inbox-away", folders.inbox) == 0)
            try await Task.sleep(for: .milliseconds(300))  // seen back
            #expect(rename(folders.inbox, folders.root + "/inbox-away") == 0)
            await receiver.wait(for: "the second outage") { $0.count >= 2 }
            #expect(rename(folders.root + "/inbox-away", folders.inbox) == 0)
        }
        await emulator.shutdown()
        #expect(receiver.received.first?.json["path"] as? String == folders.inbox)
        await receiver.stop()
    }
}
}
