// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

/// Migration v4-scale: job counts kept by triggers match the jobs through every kind of change, and the
/// history pruner still deletes exactly the old finished jobs that hold nothing in the inbox.
@Suite struct StoreScaleTests {
    let directory: TemporaryDirectory
    let clock = TestClock()
    let store: SQLiteStateStore

    init() throws {
        directory = try TemporaryDirectory("store-scale")
        store = try SQLiteStateStore(directory: directory.file("state"), clock: clock.closure)
    }

    func newJob(_ name: String, state: JobState, inode: UInt64) -> NewJob {
        NewJob(
            name: name, lane: "", state: state, priority: 0, specJSON: Data("{}".utf8),
            inputs: [StoredInput(path: name + ".txt", identity: InputIdentity(device: 1, inode: inode, size: 1, mtimeNs: 1), sha256: "aa")])
    }

    /// The counts by reading every job, as the store did before v4-scale.
    func slowCounts() throws -> [JobState: Int] {
        var counts: [JobState: Int] = [:]
        for state in JobState.allCases {
            let n = try store.jobs(inStates: [state]).count
            if n > 0 { counts[state] = n }
        }
        return counts
    }

    @Test func countsFollowInsertsTransitionsAndPruning() throws {
        var jobs: [StoredJob] = []
        for index in 0..<6 { jobs.append(try store.insertJob(newJob("j\(index)", state: .ready, inode: UInt64(index + 1)))) }
        _ = try store.insertJob(newJob("bad", state: .invalid, inode: 100))
        #expect(try store.countsByState() == [.ready: 6, .invalid: 1])
        _ = try store.transition(jobs[0].id, from: .ready, to: .submitting)
        _ = try store.transition(jobs[1].id, from: .ready, to: .cancelled)
        _ = try store.transition(jobs[2].id, from: .ready, to: .cancelled)
        #expect(try store.countsByState() == slowCounts())
        #expect(try store.countsByState() == [.ready: 3, .submitting: 1, .cancelled: 2, .invalid: 1])
        // Old finished jobs go when their inputs are gone from the inbox; jobs[2] still holds its file.
        try store.releaseInputs(ofJob: jobs[1].id)
        clock.advance(200 * 86_400)
        #expect(try store.pruneHistory(before: clock.now.addingTimeInterval(-86_400)) == 1)
        #expect(try store.job(jobs[1].id) == nil)
        #expect(try store.job(jobs[2].id) != nil)
        #expect(try store.countsByState() == slowCounts())
        #expect(try store.countsByState() == [.ready: 3, .submitting: 1, .cancelled: 1, .invalid: 1])
    }

    @Test func countsSurviveReopening() throws {
        _ = try store.insertJob(newJob("a", state: .ready, inode: 1))
        try store.close()
        let reopened = try SQLiteStateStore(directory: directory.file("state"), clock: clock.closure)
        #expect(try reopened.countsByState() == [.ready: 1])
    }
}
