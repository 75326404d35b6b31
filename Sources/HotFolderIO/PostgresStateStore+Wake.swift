// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import PostgresNIO

/// Waking idle nodes: writes that make work claimable (a drop inserted, a lease given back, a job back in `ready`)
/// send `NOTIFY hotfolder_work` in their transaction, delivered when it commits; an idle node waits with `LISTEN`.
/// A notification can be missed (sent while the node was claiming, or while the connection was down), so the
/// caller also claims periodically: ``waitForWork(timeout:)`` returns at `timeout` either way.
extension PostgresStateStore {
    /// The channel work is announced on.
    static let workChannel = "hotfolder_work"

    /// Suspends until work is announced (true) or `timeout` passes (false). It holds one pooled connection while it
    /// waits. An unreachable database shows as a timeout here; the next claim reports it.
    public func waitForWork(timeout: Duration) async throws -> Bool {
        let operation = "wait for work"
        do {
            return try await CallDeadline.run(timeout, operation: operation) {
                try await self.client.withConnection { connection in
                    try await connection.listen(on: Self.workChannel) { notifications in
                        var iterator = notifications.makeAsyncIterator()
                        return try await iterator.next() != nil
                    }
                }
            }
        } catch StateStoreError.unavailable(operation, _) {
            return false
        } catch {
            throw mapped(error, operation: operation)
        }
    }

    /// Announces claimable work to waiting nodes when the caller's transaction commits (nothing if it rolls back).
    func announceWork(_ connection: PostgresConnection) async throws {
        _ = try await rows(connection, "SELECT pg_notify(\(Self.workChannel), '')")
    }
}
