// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import Testing

/// Runs the service with a scripted API on a `FlakyStore` (SQLite whose calls can be made to fail as a database
/// away does, as PostgreSQL's restart makes them).
func withFlakyService(
    _ folders: ServiceFolders, api: FakeVideoAPI, configure: (inout ServiceConfiguration) -> Void = { _ in },
    _ body: (ServiceEvents, FlakyStore) async throws -> Void
) async throws {
    try await runScriptedService(
        folders, api: api, configure: configure, open: { FlakyStore(try SQLiteStateStore(directory: $0.stateDirectory)) }, body)
}

/// The database going away under jobs in flight (issue 12): what is paid for is still delivered, nothing is paid
/// twice, and no read that failed is taken for an answer.
@Suite(.serialized) struct DatabaseAwayTests {
    /// A task whose row cannot be read for a moment (PostgreSQL restarting) is not taken for "no task": the job is
    /// not failed with its paid task still running; it is polled once the database answers, and delivered.
    @Test func aTaskThatCannotBeReadForAMomentIsStillPolledAndDelivered() async throws {
        let folders = try ServiceFolders("db-away-task")
        var script = FakeVideoAPI.Script()
        script.statuses = [.status(.running(progress: 20)), .status(.succeeded(videoURL: "http://cdn.test/v.mp4", expiresAt: nil))]
        let api = FakeVideoAPI(script)
        try await withFlakyService(folders, api: api, configure: {
            $0.pollFirstDelay = .milliseconds(200)
            $0.pollMinInterval = .milliseconds(100)
        }) { events, store in
            try folders.drop("tide.txt", "A tide pool at dawn")
            await events.wait(for: "the task") { $0.contains { if case .submitted = $0 { true } else { false } } }
            store.fail("activeTask", times: 3)
            await events.wait(for: "the end", timeout: 30) { $0.contains(where: \.isDone) || $0.contains(where: \.isFailed) }
            let seen = await events.events
            #expect(seen.filter(\.isDone).count == 1, "delivered, not failed: \(seen)")
            #expect(store.failures(of: "activeTask") == 3, "the reads failed, and were tried again")
        }
        #expect(api.calls.createCalls == 1)
        #expect(folders.files(in: "outbox").contains("tide.mp4"))
    }

    /// The create call's task id whose record fails for a moment is recorded when the database answers: the job is
    /// polled and delivered, never created again.
    @Test func aTaskIdWhoseRecordFailsForAMomentIsRecordedWhenTheDatabaseAnswers() async throws {
        let folders = try ServiceFolders("db-away-record")
        let api = FakeVideoAPI(FakeVideoAPI.Script(creates: [.task("task-kept")]))
        try await withFlakyService(folders, api: api, configure: { $0.pollFirstDelay = .milliseconds(100) }) { events, store in
            store.fail("recordTask", times: 2)
            try folders.drop("kept.txt", "A kite over dunes")
            await events.wait(for: "the end", timeout: 30) { $0.contains(where: \.isDone) || $0.contains(where: \.isFailed) }
            let seen = await events.events
            #expect(seen.filter(\.isDone).count == 1, "\(seen)")
            #expect(store.failures(of: "recordTask") == 2)
        }
        #expect(api.calls.createCalls == 1, "never created again")
    }
}
