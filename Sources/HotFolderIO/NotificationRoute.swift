// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Synchronization

/// A notification target as the store knows it: a stable key, a label safe to show, and the events it wants.
/// Never its URL's path or query, its command line or its secret: those stay in the configuration.
public struct NotificationRoute: Sendable, Hashable {
    /// A stable id of the target (a hash of its URL or command), written in each of its delivery rows.
    public var key: String
    /// What `status` and the log call the target: a URL's scheme and host, a command's program name.
    public var label: String
    /// The events the target wants.
    public var filter: NotificationFilter

    /// Creates a route.
    public init(key: String, label: String, filter: NotificationFilter = .all) {
        self.key = key
        self.label = label
        self.filter = filter
    }
}

/// One delivery: an event for one target (a row of `notification`).
public struct StoredNotification: Sendable, Hashable {
    /// The row's id: deliveries to one target go in this order.
    public var rowID: Int64
    /// The event's id (the payload's `id`), the same for every target.
    public var eventID: String
    /// The event's type.
    public var type: NotificationEventType
    /// The target's key.
    public var target: String
    /// The target's label.
    public var label: String
    /// The JSON body, exactly as sent (and signed).
    public var body: Data
    /// When the event happened.
    public var createdAt: Date
    /// Attempts made so far.
    public var attempts: Int
    /// When to try next; nil once delivered or abandoned.
    public var nextAttemptAt: Date?
    /// When the target took it.
    public var deliveredAt: Date?
    /// When it was given up.
    public var abandonedAt: Date?
    /// Why the last attempt failed (never a secret or a URL's query).
    public var lastError: String?
}

/// How one target's deliveries stand, for `status`.
public struct NotificationCounts: Sendable, Hashable {
    /// The target's key.
    public var target: String
    /// The target's label.
    public var label: String
    /// Deliveries still to make.
    public var pending: Int
    /// Deliveries given up.
    public var abandoned: Int

    /// Creates counts.
    public init(target: String, label: String, pending: Int, abandoned: Int) {
        self.target = target
        self.label = label
        self.pending = pending
        self.abandoned = abandoned
    }
}

/// The routes a store writes deliveries for, set once at start; shared by the store's methods.
final class NotificationRouting: Sendable {
    struct State {
        var routes: [NotificationRoute] = []
        var instance = ""
        var onEnqueue: (@Sendable () -> Void)?
    }

    let state = Mutex(State())

    var current: State { state.withLock { $0 } }

    /// Sets the targets, the `instance` name and the after-enqueue hook (both stores' `configureNotifications`).
    func configure(_ routes: [NotificationRoute], instance: String, onEnqueue: (@Sendable () -> Void)?) {
        state.withLock { $0 = State(routes: routes, instance: instance, onEnqueue: onEnqueue) }
    }
}
