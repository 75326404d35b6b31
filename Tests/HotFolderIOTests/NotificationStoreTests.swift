// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

/// Notifications in the store: written with the state change that caused them (same transaction), one row per
/// target that wants the event, nothing at all without targets; stalled jobs told once per stall.
@Suite struct NotificationStoreTests {
    let directory: TemporaryDirectory
    let clock = TestClock()
    let store: SQLiteStateStore
    let hook = NotificationRoute(key: "hook", label: "https://hooks.example.com")
    let mail = NotificationRoute(key: "mail", label: "command mail", filter: try! NotificationFilter(patterns: ["job.failed"]))

    init() throws {
        directory = try TemporaryDirectory("store-notify")
        store = try SQLiteStateStore(directory: directory.file("state"), clock: clock.closure)
    }

    static let spec = Data(#"{"estimate":{"cost":0.25,"tokens":100},"name":"clip","request":{"model":"doubao-seedance-1-0-pro-fast","prompt":"A dancer on a rooftop"}}"#.utf8)

    func job(_ name: String, state: JobState = .ready, inode: UInt64) throws -> StoredJob {
        try store.insertJob(NewJob(
            name: name, lane: "night", state: state, specJSON: Self.spec,
            inputs: [StoredInput(path: name + ".txt", identity: InputIdentity(device: 1, inode: inode, size: 1, mtimeNs: 1), sha256: "aa")],
            message: state == .invalid ? "duration 99 is not between 2 and 12" : nil))
    }

    func move(_ id: UUID, _ from: JobState, _ to: JobState, failure: JobLifecycle.Failure? = nil) throws {
        try store.commit(id, JobLifecycle.Commit(from: from, to: to, message: "\(to)", counters: JobCounters(), failure: failure))
    }

    @Test func theHMACIsTheStandardOne() {
        // RFC 4231 test case 2.
        #expect(
            WebhookSignature.value(body: Data("what do ya want for nothing?".utf8), secret: Data("Jefe".utf8))
                == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func aJobCommitIntoEachNotifiedStateWritesItsDeliveriesWithIt() throws {
        store.configureNotifications([hook, mail], instance: "render-01")
        let a = try job("a", inode: 1)
        try move(a.id, .ready, .submitting)
        try move(a.id, .submitting, .uncertain, failure: .init(category: "uncertain", message: "the create call timed out"))
        #expect(try store.notifications().map(\.type) == [.jobUncertain], "a move into submitting is not told")
        let b = try job("b", inode: 2)
        try move(b.id, .ready, .held, failure: .init(category: "held", message: "daily budget reached"))
        let c = try job("c", inode: 3)
        try move(c.id, .ready, .failed, failure: .init(category: "moderation", message: "refused"))
        let rows = try store.notifications()
        #expect(rows.map(\.type) == [.jobUncertain, .jobHeld, .jobFailed, .jobFailed])
        #expect(rows.filter { $0.type == .jobFailed }.map(\.target) == ["hook", "mail"], "one row per target that wants it")
        #expect(Set(rows.filter { $0.type == .jobFailed }.map(\.eventID)).count == 1, "one event id for every target")
        let failed = try NotificationPayload.decode(rows[2].body)
        #expect(failed.instance == "render-01" && failed.time == clock.now)
        #expect(failed.job == NotificationPayload.Job(
            id: c.id.lowercasedString, name: "c", lane: "night", state: "failed", model: "doubao-seedance-1-0-pro-fast",
            prompt: "A dancer on a rooftop", cost: 0.25, error: .init(category: "moderation", message: "refused")))
        #expect(rows.allSatisfy { $0.nextAttemptAt == clock.now && $0.attempts == 0 }, "due at once")
    }

    @Test func aDoneJobCarriesItsVideoPath() throws {
        store.configureNotifications([hook], instance: "h")
        let d = try job("d", inode: 4)
        try move(d.id, .ready, .submitting)
        try store.updateJob(d.id, in: .submitting) { $0.outputPath = "/srv/outbox/night/d" }
        try move(d.id, .submitting, .submitted)
        try move(d.id, .submitted, .downloading)
        try move(d.id, .downloading, .done)
        let row = try #require(try store.notifications().last)
        let payload = try NotificationPayload.decode(row.body)
        #expect(payload.type == .jobDone && payload.job?.video == "/srv/outbox/night/d.mp4" && payload.job?.error == nil)
    }

    @Test func aCommitThatLosesItsCompareAndSetWritesNone() throws {
        store.configureNotifications([hook], instance: "h")
        let e = try job("e", inode: 5)
        try move(e.id, .ready, .held, failure: .init(category: "held", message: "window closed"))
        #expect(throws: StateStoreError.self) {
            try move(e.id, .ready, .failed, failure: .init(category: "moderation", message: "refused"))
        }
        #expect(try store.notifications().map(\.type) == [.jobHeld])
    }

    @Test func anInvalidDropIsAJobFailedWithTheCategoryInvalid() throws {
        store.configureNotifications([mail], instance: "h")
        let bad = try job("bad", state: .invalid, inode: 6)
        let row = try #require(try store.notifications().first)
        let payload = try NotificationPayload.decode(row.body)
        #expect(payload.type == .jobFailed && payload.job?.id == bad.id.lowercasedString)
        #expect(payload.job?.error == .init(category: "invalid", message: "duration 99 is not between 2 and 12"))
    }

    @Test func withoutTargetsNothingIsWritten() throws {
        let f = try job("f", inode: 7)
        try move(f.id, .ready, .failed, failure: .init(category: "moderation", message: "refused"))
        _ = try job("g", state: .invalid, inode: 8)
        #expect(try store.enqueueNotification(type: .queuePaused) == nil)
        #expect(try store.checkStalledJobs(stallAfter: 0, now: clock.now) == 0)
        #expect(try store.notifications().isEmpty)
        // A target that wants none of them is the same as none.
        store.configureNotifications([mail], instance: "h")
        #expect(try store.enqueueNotification(type: .queuePaused) == nil)
        #expect(try store.notifications().isEmpty)
    }

    @Test func deliveriesAreTakenInOrderAndOutcomesRecorded() throws {
        store.configureNotifications([hook, mail], instance: "h")
        let first = try #require(try store.enqueueNotification(type: .serviceStarted))
        let second = try #require(try store.enqueueNotification(type: .budgetExhausted, fields: ["budget": "daily"]))
        #expect(try store.nextNotification(target: "mail") == nil, "mail wants job.failed only")
        let head = try #require(try store.nextNotification(target: "hook"))
        #expect(head.eventID == first)
        let retry = clock.now.addingTimeInterval(5)
        try store.markNotificationFailed(head.rowID, attempts: 1, error: "HTTP 500", next: retry, at: clock.now)
        #expect(try store.nextNotification(target: "hook")?.eventID == first, "the head waits; order is kept")
        #expect(try store.nextNotification(target: "hook")?.nextAttemptAt == retry)
        try store.markNotificationDelivered(head.rowID, attempts: 2, at: clock.now)
        let next = try #require(try store.nextNotification(target: "hook"))
        #expect(next.eventID == second)
        try store.markNotificationFailed(next.rowID, attempts: 9, error: "HTTP 404", next: nil, at: clock.now)
        #expect(try store.nextNotification(target: "hook") == nil)
        #expect(try store.notificationCounts() == [
            NotificationCounts(target: "hook", label: "https://hooks.example.com", pending: 0, abandoned: 1)
        ])
        // Targets removed from the configuration: their deliveries are given up rather than kept forever.
        try store.enqueueNotification(type: .serviceStopping)
        #expect(try store.abandonNotifications(exceptTargets: ["mail"], at: clock.now) == 1)
        // Finished deliveries are kept for a month, then pruned.
        #expect(try store.pruneNotifications(before: clock.now.addingTimeInterval(-30 * 86400)) == 0)
        clock.advance(31 * 86400)
        #expect(try store.pruneNotifications(before: clock.now.addingTimeInterval(-30 * 86400)) == 3)
        #expect(try store.notifications().isEmpty)
    }

    @Test func aStalledJobIsToldOncePerStall() throws {
        store.configureNotifications([hook], instance: "h")
        let s = try job("s", inode: 9)
        try move(s.id, .ready, .submitting)
        try move(s.id, .submitting, .submitted)
        _ = try job("queued", inode: 10)  // not in flight: never stalled
        clock.advance(29 * 60)
        #expect(try store.checkStalledJobs(stallAfter: 1800, now: clock.now) == 0)
        clock.advance(2 * 60)
        #expect(try store.checkStalledJobs(stallAfter: 1800, now: clock.now) == 1)
        #expect(try store.checkStalledJobs(stallAfter: 1800, now: clock.now.addingTimeInterval(600)) == 0, "once per stall")
        try move(s.id, .submitted, .running)
        clock.advance(31 * 60)
        #expect(try store.checkStalledJobs(stallAfter: 1800, now: clock.now) == 1, "it moved, then stalled again")
        let stalled = try store.notifications().filter { $0.type == .jobStalled }
        #expect(stalled.count == 2)
        let payload = try NotificationPayload.decode(stalled[1].body)
        #expect(payload.job?.state == "running" && payload.fields["message"] == "no progress for 31 min while running")
    }

    @Test func deliveriesSurviveAReopen() throws {
        store.configureNotifications([hook], instance: "h")
        let id = try #require(try store.enqueueNotification(type: .reportReady, fields: ["path": "/srv/report.html"]))
        try store.close()
        let reopened = try SQLiteStateStore(directory: directory.file("state"), clock: clock.closure)
        #expect(try reopened.nextNotification(target: "hook")?.eventID == id)
        #expect(try reopened.appliedMigrations().contains("v3-notifications"))
    }
}
