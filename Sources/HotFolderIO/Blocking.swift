// SPDX-License-Identifier: GPL-2.0-or-later
import Dispatch
import NIOPosix
import Synchronization

/// Runs blocking work (synchronous SQLite that may wait for a lock, file reads and hashes, fsync, folder walks)
/// on NIO's shared thread pool, so the few cooperative threads that drive every network call never wait on disk.
public enum Blocking {
    /// Runs `body` on the thread pool and returns its result.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }

    /// Runs async `body` (a store's call) from blocking work and waits for its answer: only on a thread of the pool
    /// (inside ``run(_:)``), never on a cooperative thread, which would starve the tasks `body` waits for; and only
    /// for work that needs no thread of the pool itself (PostgreSQL's calls, not SQLite's ``run(_:)``), or a pool of
    /// one thread waits for itself.
    public static func wait<T: Sendable>(for body: @escaping @Sendable () async throws -> T) throws -> T {
        let answer = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                let value = try await body()
                answer.withLock { $0 = .success(value) }
            } catch {
                answer.withLock { $0 = .failure(error) }
            }
            done.signal()
        }
        done.wait()
        return try answer.withLock { $0! }.get()
    }
}
