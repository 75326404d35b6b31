// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

/// The pure rules of notifications: the payload's shape, the events a target takes, and when a failed delivery is
/// tried again or given up (with the clock passed in).
@Suite struct NotificationRulesTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func thePayloadHasTheDocumentedShape() throws {
        let prompt = String(repeating: "A long prompt about the sea. ", count: 20)
        let payload = NotificationPayload(
            id: "4f3c-id", type: .jobFailed, time: t0, instance: "render-01",
            job: .init(
                id: "job-1", name: "clip", lane: "night", state: "failed", model: "doubao-seedance-1-0-pro-fast",
                prompt: prompt, cost: 0.069_120_000_001, error: .init(category: "moderation", message: "refused")),
            fields: ["reason": "x", "id": "must not replace the id", "spent": 12.5, "final": true])
        let object = try #require(try JSONSerialization.jsonObject(with: payload.encoded()) as? [String: Any])
        #expect(Set(object.keys) == ["id", "type", "time", "instance", "job", "reason", "spent", "final"])
        #expect(object["id"] as? String == "4f3c-id" && object["type"] as? String == "job.failed")
        #expect(object["time"] as? String == "2027-01-15T08:00:00Z" && object["instance"] as? String == "render-01")
        #expect(object["spent"] as? Double == 12.5 && object["final"] as? Bool == true)
        let job = try #require(object["job"] as? [String: Any])
        #expect(Set(job.keys) == ["id", "name", "lane", "state", "model", "prompt", "cost", "error"])
        #expect((job["prompt"] as? String)?.count == 200 && (job["prompt"] as? String)?.hasSuffix("…") == true)
        #expect(job["cost"] as? Double == 0.069_12)
        #expect((job["error"] as? [String: Any])?["category"] as? String == "moderation")
        let decoded = try NotificationPayload.decode(payload.encoded())
        #expect(decoded == payload, "it reads back as written")
        #expect(try payload.encoded() == payload.encoded(), "stable bytes, so the signature of a stored body holds")
    }

    @Test func jobMovesMapToTheirEvents() {
        #expect(NotificationEventType.forTransition(to: .done) == .jobDone)
        #expect(NotificationEventType.forTransition(to: .failed) == .jobFailed)
        #expect(NotificationEventType.forTransition(to: .invalid) == .jobFailed)
        #expect(NotificationEventType.forTransition(to: .uncertain) == .jobUncertain)
        #expect(NotificationEventType.forTransition(to: .held) == .jobHeld)
        #expect(NotificationEventType.forTransition(to: .running) == nil)
        #expect(NotificationEventType.forTransition(to: .cancelled) == nil)
        #expect(NotificationEventType.allCases.count == 13)
    }

    @Test func filtersTakeNamesFamiliesAndEverythingByDefault() throws {
        #expect(NotificationEventType.allCases.allSatisfy(NotificationFilter.all.accepts))
        let some = try NotificationFilter(patterns: ["job.failed", "queue.*"])
        #expect(some.accepts(.jobFailed) && some.accepts(.queuePaused) && some.accepts(.queueResumed))
        #expect(!some.accepts(.jobDone) && !some.accepts(.serviceStarted))
        #expect(try NotificationFilter(patterns: ["*"]).accepts(.reportReady))
        #expect(throws: NotificationFilter.InvalidPattern(pattern: "job.don", suggestion: "job.done")) {
            try NotificationFilter(patterns: ["job.don"])
        }
        #expect(throws: NotificationFilter.InvalidPattern(pattern: "nothing.like.it", suggestion: nil)) {
            try NotificationFilter(patterns: ["nothing.like.it"])
        }
    }

    @Test func backoffDoublesFromFiveSecondsToTenMinutes() {
        let policy = NotificationRetryPolicy()
        #expect((1...9).map { policy.delay(afterAttempts: $0) } == [5, 10, 20, 40, 80, 160, 320, 600, 600])
        #expect(policy.delay(afterAttempts: 1000) == 600)
    }

    @Test func aDeliveryIsTriedForADayThenGivenUp() {
        let policy = NotificationRetryPolicy()
        var now = t0
        var attempts = 0
        var retries: [Date] = []
        // A receiver down for good: every attempt fails at the time it was scheduled for.
        while attempts < 1000 {
            attempts += 1
            guard case .retry(let at) = policy.afterFailure(attempts: attempts, createdAt: t0, now: now) else { break }
            #expect(at > now)
            retries.append(at)
            now = at
        }
        let deadline = t0.addingTimeInterval(24 * 3600)
        #expect(retries.last == deadline, "the last attempt is made at the deadline")
        #expect(now == deadline && policy.afterFailure(attempts: attempts, createdAt: t0, now: now) == .abandon)
        #expect((145...155).contains(attempts), "about one attempt per 10 minutes once the backoff is at its cap: \(attempts)")
        // A failure just before the deadline is tried once more, at the deadline.
        #expect(policy.afterFailure(attempts: 3, createdAt: t0, now: deadline.addingTimeInterval(-2)) == .retry(at: deadline))
        #expect(policy.afterFailure(attempts: 3, createdAt: t0, now: deadline.addingTimeInterval(60)) == .abandon)
    }
}
