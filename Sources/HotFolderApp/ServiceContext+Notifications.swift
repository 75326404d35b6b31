// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Synchronization

extension ServiceContext {
    /// Records a service-level event for the notification targets that want it (nothing when none does); a
    /// failure to record it is logged, never thrown: telling people must not stop the work.
    func notify(_ type: NotificationEventType, _ fields: [String: NotificationField] = [:]) async {
        do {
            try await store.recordNotification(type: type, fields: fields, job: nil)
        } catch {
            logger.warning("cannot record the \(type.rawValue) notification: \(error)")
        }
    }

    /// The dispatcher for the configured targets, which also tells the store what to write deliveries for.
    func makeNotificationDispatcher() throws -> NotificationDispatcher {
        try NotificationDispatcher(
            targets: configuration.notify, store: store, logger: logger, instance: configuration.instance,
            stallAfter: configuration.stallAfter, drainTime: min(5, configuration.shutdownGrace.seconds))
    }
}

/// Whether something is down: true once per outage (a `watch.unreachable` is sent once, not at every rescan).
final class Outage: Sendable {
    private let down = Atomic<Bool>(false)

    /// True when this begins an outage, false while one is already on.
    func begin() -> Bool { !down.exchange(true, ordering: .relaxed) }

    /// The thing is back.
    func end() { down.store(false, ordering: .relaxed) }
}
