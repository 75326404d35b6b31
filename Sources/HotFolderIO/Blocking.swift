// SPDX-License-Identifier: GPL-2.0-or-later
import Dispatch
import NIOCore
import NIOPosix
import Synchronization

/// Runs blocking work (synchronous SQLite that may wait for a lock, file reads and hashes, fsync, folder walks)
/// on a thread pool of its own, so the few cooperative threads that drive every network call never wait on disk.
///
/// Not NIO's shared pool: that one (one thread per core) also carries the file reads and writes of every upload and
/// download, and two store calls waiting five seconds for a CLI's lock, or a walk of a slow share, stopped them all.
/// This work mostly waits (locks, fsync, a NAS), so the pool has more threads than cores.
public enum Blocking {
    /// Threads of the pool: twice the cores, at least 4 (the cores as NIO counts them for its own pools: a container's
    /// CPU quota or cpuset, not the host's).
    public static let threadCount = max(4, 2 * System.coreCount)

    /// Started on first use, never shut down (it lives as long as the process, like NIO's singletons).
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: threadCount)
        pool.start()
        return pool
    }()

    /// Runs `body` on the thread pool and returns its result.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
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
