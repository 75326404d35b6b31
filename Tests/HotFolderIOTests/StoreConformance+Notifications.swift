// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

extension StoreConformance {
    /// A target that wants only `job.done`, and one that wants only `job.failed`.
    static func routes() throws -> [NotificationRoute] {
        [
            NotificationRoute(key: "hook-done", label: "hooks.example", filter: try NotificationFilter(patterns: ["job.done"])),
            NotificationRoute(key: "hook-failed", label: "alerts", filter: try NotificationFilter(patterns: ["job.failed"])),
        ]
    }

    /// Both nodes write deliveries for the same targets.
    static func configure(_ a: some StateStore, _ b: some StateStore) throws {
        a.configureNotifications(try routes(), instance: "a", onEnqueue: nil)
        b.configureNotifications(try routes(), instance: "b", onEnqueue: nil)
    }

    /// A commit into `done` writes exactly one delivery, for the one target that wants `job.done`, in its own
    /// transaction: the same commit by a node whose lease was taken over fails and writes none.
    static func checkACommitToDoneWritesOneDeliveryAndAFencedOneNone(_ a: some StateStore, _ b: some StateStore) async throws {
        try configure(a, b)
        let job = try #require(try await insert(a, ["film"]).first)
        let lease = try #require(try await a.claimQueued(node: "a", limit: 1, leaseFor: leaseFor, now: t0).first?.lease)
        for (from, to) in [(JobState.ready, JobState.uploading), (.uploading, .submitting), (.submitting, .submitted),
            (.submitted, .running), (.running, .downloading)]
        {
            try await a.commit(job.id, move(from, to), lease: lease)
        }
        #expect(try await b.deliveries(eventID: nil).isEmpty, "no move so far is an event a target wants")

        // Node a freezes past its lease; b takes the job over. a's commit to done is fenced: nothing is written.
        let takeover = try #require(try await b.claimQueued(node: "b", limit: 1, leaseFor: leaseFor, now: at(leaseFor + 1)).first)
        await #expect(throws: StateStoreError.self) { try await a.commit(job.id, move(.downloading, .done), lease: lease) }
        #expect(try await a.deliveries(eventID: nil).isEmpty, "a fenced commit writes no delivery")

        try await b.commit(job.id, move(.downloading, .done), lease: takeover.lease)
        let written = try await a.deliveries(eventID: nil)
        #expect(written.map(\.target) == ["hook-done"], "one delivery, for the target that wants job.done")
        let delivery = try #require(written.first)
        #expect(delivery.type == .jobDone && delivery.nextAttemptAt != nil && delivery.attempts == 0)
        let payload = try JSONSerialization.jsonObject(with: delivery.body) as? [String: Any]
        #expect((payload?["job"] as? [String: Any])?["id"] as? String == job.id.lowercasedString)
        #expect(try await b.deliveries(eventID: delivery.eventID).count == 1, "its event id finds it")

        // A commit refused for its state writes none either; one into failed goes to the other target.
        let other = try #require(try await insert(b, ["broken"]).first)
        await #expect(throws: StateStoreError.self) { try await b.commit(other.id, move(.running, .failed), lease: nil) }
        #expect(try await a.deliveries(eventID: nil).count == 1)
        try await b.commit(other.id, move(.ready, .failed), lease: nil)
        #expect(try await a.deliveries(eventID: nil).map(\.target) == ["hook-done", "hook-failed"])
        #expect(try await a.deliveryCounts().map(\.pending) == [1, 1])
    }

    /// Two nodes asking for a target's next delivery at the same moment never both get one (the target's oldest
    /// first, one at a time); a delivery whose sender died comes back once its lease ends.
    static func checkTwoNodesNeverTakeTheSameDelivery(_ a: some StateStore, _ b: some StateStore) async throws {
        let everything = NotificationRoute(key: "hook-all", label: "hooks.example")
        a.configureNotifications([everything], instance: "a", onEnqueue: nil)
        b.configureNotifications([everything], instance: "b", onEnqueue: nil)
        var events: [String] = []
        for type in [NotificationEventType.queuePaused, .queueResumed, .reportReady] {
            events.append(try #require(try await a.recordNotification(type: type, fields: [:], job: nil)))
        }
        var taken: [String] = []
        for round in 0..<12 where taken.count < events.count {
            async let viaA = a.claimNotification(target: "hook-all", leaseFor: 10, now: at(Double(round)))
            async let viaB = b.claimNotification(target: "hook-all", leaseFor: 10, now: at(Double(round)))
            let (fromA, fromB) = try await (viaA, viaB)
            #expect(fromA == nil || fromB == nil, "never both at once: one holds the head, the other waits")
            if let fromA { try await a.recordDelivered(fromA.rowID, attempts: 1, at: at(Double(round))) }
            if let fromB { try await b.recordDelivered(fromB.rowID, attempts: 1, at: at(Double(round))) }
            taken += [fromA, fromB].compactMap { $0?.eventID }
        }
        #expect(taken == events, "each delivered once, in the order written")
        #expect(try await a.deliveries(eventID: nil).allSatisfy { $0.deliveredAt != nil && $0.nextAttemptAt == nil })

        // A claimed delivery is nobody else's until its lease ends; then another node sends it (the sender died).
        let next = try #require(try await b.recordNotification(type: .serviceStarted, fields: [:], job: nil))
        let first = try #require(try await a.claimNotification(target: "hook-all", leaseFor: 10, now: at(100)))
        #expect(first.eventID == next)
        #expect(try await b.claimNotification(target: "hook-all", leaseFor: 10, now: at(109)) == nil)
        #expect(try await b.nextNotificationAttempt(target: "hook-all") == at(110))
        #expect(try await b.claimNotification(target: "hook-all", leaseFor: 10, now: at(110))?.rowID == first.rowID)
    }

    /// A failed delivery is not handed out before its retry time, then is, with its attempts and error; given up,
    /// it never comes back, counts as abandoned, and is pruned with the delivered ones.
    static func checkAFailedDeliveryComesBackAfterItsRetryTime(_ a: some StateStore, _ b: some StateStore) async throws {
        try configure(a, b)
        let late = try #require(try await insert(a, ["late"]).first)
        try await a.commit(late.id, move(.ready, .failed), lease: nil)
        let first = try #require(try await a.claimNotification(target: "hook-failed", leaseFor: 30, now: t0))
        try await a.recordDeliveryFailed(first.rowID, attempts: 1, error: "HTTP 503", next: at(60), at: t0)
        #expect(try await b.claimNotification(target: "hook-failed", leaseFor: 30, now: at(59)) == nil)
        #expect(try await b.nextNotificationAttempt(target: "hook-failed") == at(60))
        let again = try #require(try await b.claimNotification(target: "hook-failed", leaseFor: 30, now: at(60)))
        #expect(again.rowID == first.rowID && again.attempts == 1 && again.lastError == "HTTP 503")

        try await b.recordDeliveryFailed(again.rowID, attempts: 2, error: "HTTP 503", next: nil, at: at(60))
        #expect(try await a.claimNotification(target: "hook-failed", leaseFor: 30, now: at(10_000)) == nil)
        #expect(try await a.nextNotificationAttempt(target: "hook-failed") == nil)
        #expect(try await a.deliveryCounts().map { [$0.pending, $0.abandoned] } == [[0, 1]])
        #expect(try await b.pruneDeliveries(before: t0) == 0, "written at t0, not before it")
        #expect(try await b.pruneDeliveries(before: at(1)) == 1)
        #expect(try await a.deliveries(eventID: nil).isEmpty)
    }

    /// Pruning deletes only finished jobs changed before the cutoff whose inputs went away, at most `limit` per call,
    /// with their events; deliveries stay for ``NotificationOutbox/pruneDeliveries(before:)``.
    static func checkPruningRemovesOnlyOldFinishedJobsThatHoldNoInput(
        _ a: some StateStore, _ b: some StateStore, clock: TestClock
    ) async throws {
        try configure(a, b)
        let jobs = try await insert(a, ["old-1", "old-2", "old-3", "old-held", "waiting"])
        for job in jobs.prefix(4) { try await a.commit(job.id, move(.ready, .failed), lease: nil) }
        for job in jobs.prefix(3) {
            try await b.finishDisposal(job.id, folder: "failed", release: true, movedInputs: [:], lease: nil)
        }
        clock.advance(2 * 86_400)
        let recent = try #require(try await insert(b, ["recent"]).first)
        try await b.commit(recent.id, move(.ready, .failed), lease: nil)
        try await b.finishDisposal(recent.id, folder: "failed", release: true, movedInputs: [:], lease: nil)
        let deliveries = try await a.deliveries(eventID: nil).count

        let cutoff = at(86_400)
        #expect(try await a.pruneHistory(before: cutoff, now: clock.now, limit: 2) == 2)
        #expect(try await b.pruneHistory(before: cutoff, now: clock.now, limit: 2) == 1)
        #expect(try await a.pruneHistory(before: cutoff, now: clock.now, limit: 2) == 0)
        for job in jobs.prefix(3) {
            #expect(try await b.job(id: job.id) == nil)
            #expect(try await b.events(ofJob: job.id).isEmpty, "its history goes with it")
            #expect(try await b.inputFiles(ofJob: job.id).isEmpty)
        }
        for job in jobs.suffix(2) + [recent] {
            #expect(try await a.job(id: job.id) != nil, "\(job.name) holds its input, is not finished, or is recent")
            #expect(try await a.events(ofJob: job.id).isEmpty == false)
        }
        #expect(try await a.deliveries(eventID: nil).count == deliveries && deliveries == 5)
    }
}
