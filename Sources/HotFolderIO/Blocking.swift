// SPDX-License-Identifier: GPL-2.0-or-later
import NIOPosix

/// Runs blocking work (synchronous SQLite that may wait for a lock, file reads and hashes, fsync, folder walks)
/// on NIO's shared thread pool, so the few cooperative threads that drive every network call never wait on disk.
public enum Blocking {
    /// Runs `body` on the thread pool and returns its result.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }
}
