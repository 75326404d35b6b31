// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import Synchronization

/// The writes waiting for the next group commit: each runs in its own savepoint of one shared transaction.
final class GroupCommitQueue: Sendable {
    struct Entry: Sendable {
        let token: Int
        /// Runs the write in its savepoint and keeps its answer (a write that throws is rolled back alone).
        let run: @Sendable (Database) -> Void
        /// The shared transaction did not commit: nothing of this write was written.
        let fail: @Sendable (any Error) -> Void
    }

    let pending = Mutex<(next: Int, entries: [Entry])>((0, []))
    /// How many group commits ran, and how many writes they held (for tests).
    let counts = Mutex<(commits: Int, writes: Int)>((0, 0))

    func take() -> [Entry] {
        pending.withLock { state in
            defer { state.entries.removeAll(keepingCapacity: true) }
            return state.entries
        }
    }

    /// Takes `token`'s entry back when it is still waiting; false when a group commit has it.
    func withdraw(_ token: Int) -> Bool {
        pending.withLock { state in
            guard let index = state.entries.firstIndex(where: { $0.token == token }) else { return false }
            state.entries.remove(at: index)
            return true
        }
    }
}

extension SQLiteStateStore {
    /// Runs `body` in a write transaction shared with the other writes waiting at that moment (a group commit), on
    /// the database's writer queue; returns when that transaction has committed.
    ///
    /// Each write runs in its own savepoint: one that throws (a lease lost, a job moved on, a budget hold) is rolled
    /// back alone and its caller gets the error, while the others are written. When the transaction itself fails
    /// (the database locked by another process past the busy timeout, a full disk) every write of the group gets that
    /// error and nothing of it is written. Write-ahead is kept: a caller learns its write succeeded only once it is
    /// committed, so a create call never goes out before its `submitting` row is in the database.
    ///
    /// Nothing waits to gather a group: the writes that arrive while the writer queue is busy with the previous
    /// transaction form the next one (at most a few ms apart), so a lone write costs what it did.
    func writeGrouped<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let answer = Mutex<Result<T, any Error>?>(nil)
        let feed = liveFeed
        let queue = groupCommit
        let token = queue.pending.withLock { state in
            let token = state.next
            state.next &+= 1
            state.entries.append(
                GroupCommitQueue.Entry(
                    token: token,
                    run: { db in
                        let mark = feed.uncommittedCount
                        do {
                            var value: T?
                            try db.inSavepoint {
                                value = try body(db)
                                return .commit
                            }
                            answer.withLock { $0 = .success(value!) }
                        } catch {
                            // Its live events go with it.
                            feed.dropUncommitted(from: mark)
                            answer.withLock { $0 = .failure(error) }
                        }
                    },
                    fail: { error in answer.withLock { $0 = .failure(error) } }))
            return token
        }
        do {
            // The writer queue is serial: by the time this block runs, a block before it took this write or it is
            // still waiting and this block takes it (with every write that came meanwhile).
            try await pool.writeWithoutTransaction { db in self.commitGroup(db) }
        } catch {
            // The queue refused the block (the database closed): the write never ran unless a group commit had it.
            if queue.withdraw(token) { throw mapped(error, operation) }
        }
        while true {
            if let result = answer.withLock({ $0 }) {
                switch result {
                case .success(let value): return value
                case .failure(let error): throw mapped(error, operation)
                }
            }
            // Only after a refused block whose write a group commit took: it is being written right now.
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Commits every waiting write in one immediate transaction.
    private func commitGroup(_ db: Database) {
        let entries = groupCommit.take()
        guard !entries.isEmpty else { return }
        do {
            try db.inTransaction(.immediate) {
                for entry in entries { entry.run(db) }
                return .commit
            }
            groupCommit.counts.withLock {
                $0.commits += 1
                $0.writes += entries.count
            }
        } catch {
            for entry in entries { entry.fail(error) }
        }
    }

    /// How many group commits ran since the store opened, and how many writes they held.
    var groupCommitCounts: (commits: Int, writes: Int) {
        groupCommit.counts.withLock { $0 }
    }

    private func mapped(_ error: any Error, _ operation: String) -> any Error {
        if error is StateStoreError { return error }
        return StateStoreError.database(operation: operation, path: path, reason: Self.reason(error))
    }
}
