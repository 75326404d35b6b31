// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

/// The store's side of the lifecycle: one commit per step, input moves remembered until done, history pruned.
@Suite struct StoreLifecycleTests {
    let directory: TemporaryDirectory
    let clock = TestClock()
    let store: SQLiteStateStore

    init() throws {
        directory = try TemporaryDirectory("store-lifecycle")
        store = try SQLiteStateStore(directory: directory.file("state"), clock: clock.closure)
    }

    func input(_ name: String, inode: UInt64) -> StoredInput {
        StoredInput(path: name, identity: InputIdentity(device: 42, inode: inode, size: 100, mtimeNs: 7), sha256: "aa")
    }

    func job(_ name: String, inode: UInt64, state: JobState = .ready) throws -> StoredJob {
        try store.insertJob(NewJob(name: name, state: state, specJSON: Data("{}".utf8), inputs: [input(name + ".txt", inode: inode)]))
    }

    @Test func aCommitWritesStateCountersBackoffAndFailureTogetherAndIsACompareAndSet() throws {
        let stored = try job("a", inode: 1)
        var counters = JobCounters()
        counters.createFailures = 2
        let later = clock.now.addingTimeInterval(30)
        let commit = JobLifecycle.Commit(
            from: .ready, to: .held, message: "daily budget reached", counters: counters, notBefore: later,
            failure: .init(category: "held", message: "daily budget reached"))
        let after = try store.commit(stored.id, commit)
        #expect(after.state == .held && after.counters == counters && after.attempts == 2)
        #expect(after.nextAttemptAt == later && after.failureMessage == "daily budget reached")
        #expect(try store.job(stored.id)?.counters == counters, "counters survive a restart")
        #expect(throws: StateStoreError.self) { try store.commit(stored.id, commit) }
        #expect(try store.events(stored.id).last?.toState == .held)
        #expect(try store.jobsDue(in: .held, now: later.addingTimeInterval(-1)).isEmpty)
        #expect(try store.jobsDue(in: .held, now: later).map(\.id) == [stored.id])
    }

    @Test func inputsToMoveAreRememberedUntilTheyMoved() throws {
        let stored = try job("b", inode: 2)
        let failed = JobLifecycle.Commit(
            from: .ready, to: .failed, message: "refused", counters: JobCounters(),
            failure: .init(category: "invalid_request", message: "refused"), disposal: .failed)
        try store.commit(stored.id, failed)
        #expect(try store.jobsWithPendingDisposal().map(\.id) == [stored.id], "a crash here is finished at the next start")
        #expect(try store.isHeld(input("b.txt", inode: 2).identity))
        try store.finishDisposal(stored.id, folder: "/failed/b", release: true)
        #expect(try store.jobsWithPendingDisposal().isEmpty)
        #expect(try !store.isHeld(input("b.txt", inode: 2).identity), "dropping the files again makes a new job")
        #expect(try store.job(stored.id)?.outputPath == "/failed/b")
    }

    @Test func anInvalidDropIsStoredWithItsMoveToFailedPending() throws {
        let stored = try job("c", inode: 3, state: .invalid)
        #expect(stored.pendingDisposal == .failed)
        #expect(try store.jobsWithPendingDisposal().map(\.id) == [stored.id])
    }

    @Test func historyIsPrunedButNeverAJobWhoseFilesAreStillInTheInbox() throws {
        let old = try job("old", inode: 10)
        let kept = try job("kept", inode: 11)
        let live = try job("live", inode: 12)
        let done = { (id: UUID) in
            _ = try self.store.commit(id, JobLifecycle.Commit(from: .ready, to: .failed, message: "x", counters: JobCounters()))
        }
        try done(old.id)
        try store.finishDisposal(old.id, folder: "/failed/old", release: true)
        try done(kept.id)  // its inputs are still held (like archive_policy: keep)
        clock.advance(100 * 86400)
        let recent = try job("recent", inode: 13)
        try done(recent.id)
        try store.finishDisposal(recent.id, folder: nil, release: true)
        let pruned = try store.pruneHistory(before: clock.now.addingTimeInterval(-90 * 86400))
        #expect(pruned == 1)
        #expect(try store.job(old.id) == nil)
        #expect(try store.events(old.id).isEmpty && store.inputs(ofJob: old.id).isEmpty)
        #expect(try store.job(kept.id) != nil, "its files would otherwise become a new job")
        #expect(try store.job(live.id) != nil && store.job(recent.id) != nil)
    }

    @Test func aLongHistoryIsPrunedInBoundedBatchesSoTheWriterIsNeverHeldLong() throws {
        var ids: [UUID] = []
        for index in 0..<5 {
            let stored = try job("old\(index)", inode: UInt64(100 + index))
            _ = try store.commit(stored.id, JobLifecycle.Commit(from: .ready, to: .failed, message: "x", counters: JobCounters()))
            try store.finishDisposal(stored.id, folder: "/failed/old\(index)", release: true)
            ids.append(stored.id)
        }
        clock.advance(100 * 86400)
        let cutoff = clock.now.addingTimeInterval(-90 * 86400)
        // Each call is one transaction of at most `limit` jobs; the runner calls again while a batch was full.
        #expect(try store.pruneHistory(before: cutoff, limit: 2) == 2)
        #expect(try store.pruneHistory(before: cutoff, limit: 2) == 2)
        #expect(try store.pruneHistory(before: cutoff, limit: 2) == 1)
        #expect(try store.pruneHistory(before: cutoff, limit: 2) == 0)
        #expect(try ids.allSatisfy { try store.job($0) == nil })
        #expect(try ids.allSatisfy { try store.events($0).isEmpty })
    }
}
