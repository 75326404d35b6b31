// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Logging

/// What every part of the running service shares: folders, the store, the API, the rules and the log.
struct ServiceContext: Sendable {
    /// The inbox, absolute.
    let inbox: String
    /// Service folders inside the inbox (relative), never planned or watched.
    let excludedRelative: [String]
    let store: SQLiteStateStore
    let outbox: OutboxWriter
    let api: any VideoAPI
    let planner: DropPlanner
    let configuration: ServiceConfiguration
    let logger: Logger
    /// Seconds to wait after the last ready file before planning, so files dropped together form one job.
    let groupSettle: Double
    /// Called when new jobs are queued (wakes the dispatcher).
    let onQueued: @Sendable () -> Void
}

extension Duration {
    /// The duration in seconds as a Double.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
