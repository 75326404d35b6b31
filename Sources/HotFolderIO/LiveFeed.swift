// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore
import Synchronization

/// One change for the dashboard's live feed: a notification's payload (`job.done`, `queue.paused`, …) or a live-only
/// change (`job.state` for every state change, `job.progress` for a task's percent).
public struct LiveEvent: Sendable {
    /// The SSE event name: a notification type, `job.state` or `job.progress`.
    public var name: String
    /// Increasing within one process, the SSE `id`.
    public var sequence: Int
    /// Builds the JSON body when a client takes the event: during a burst most events are replaced by newer ones
    /// before any client reads them, and those are then never encoded (nor encoded on the database's writer thread).
    let body: @Sendable () -> String

    /// The event's JSON body (never a secret: the same fields as notifications).
    public var json: String { body() }
}

/// Fans changes out to the connected dashboard clients, in batches, each client with its own bounded backlog.
///
/// Publishing never blocks and never waits for a client: events go into one shared ring of the newest `bufferSize`,
/// and each client's doorbell is rung (a stream that holds at most one ring). A client takes every event it has not
/// seen yet in one batch, so a burst of changes costs a client one write per batch, not one per event; a client that
/// reads too slowly loses its oldest events (its page is refreshed by the next one), so a slow browser can never
/// slow the service.
public final class LiveFeed: Sendable {
    private struct State {
        var doorbells: [Int: AsyncStream<Void>.Continuation] = [:]
        var nextSubscriber = 0
        var sequence = 0
        /// The newest events, oldest first (at most twice `bufferSize`, trimmed to `bufferSize` when full).
        var recent: [LiveEvent] = []
    }

    private let state = Mutex(State())
    /// The events of the write transaction under way, published once it commits. The store has one writer, so there
    /// is one such transaction at a time.
    fileprivate let uncommitted = Mutex<[@Sendable (LiveFeed) -> Void]>([])
    /// Events kept per client before the oldest are dropped.
    public let bufferSize: Int

    /// Creates a feed; each client is at most `bufferSize` events behind.
    public init(bufferSize: Int = 256) {
        self.bufferSize = max(1, bufferSize)
    }

    /// The number of connected clients.
    public var subscriberCount: Int { state.withLock { $0.doorbells.count } }

    /// Whether anyone listens (publishers skip building events otherwise).
    public var hasSubscribers: Bool { state.withLock { !$0.doorbells.isEmpty } }

    /// The events published from now on, in batches (each the events not yet taken, at most `bufferSize`); it ends
    /// when the caller stops iterating or at ``finishAll()``.
    public func subscribe() -> Subscription {
        let (doorbell, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let (id, sequence) = state.withLock { state in
            state.nextSubscriber += 1
            state.doorbells[state.nextSubscriber] = continuation
            return (state.nextSubscriber, state.sequence)
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.doorbells.removeValue(forKey: id) }
        }
        return Subscription(feed: self, doorbell: doorbell, after: sequence)
    }

    /// One client's batches of events (see ``subscribe()``).
    public struct Subscription: AsyncSequence, Sendable {
        public typealias Element = [LiveEvent]
        let feed: LiveFeed
        let doorbell: AsyncStream<Void>
        let after: Int

        /// Waits for the doorbell, then takes the events published since the last batch.
        public struct AsyncIterator: AsyncIteratorProtocol {
            let feed: LiveFeed
            var doorbell: AsyncStream<Void>.AsyncIterator
            var after: Int

            /// The next batch (never empty), or nil once the feed or the client ends.
            public mutating func next() async -> [LiveEvent]? {
                while await doorbell.next() != nil {
                    let batch = feed.events(after: after)
                    if let last = batch.last {
                        after = last.sequence
                        return batch
                    }
                }
                return nil
            }
        }

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(feed: feed, doorbell: doorbell.makeAsyncIterator(), after: after)
        }
    }

    /// The kept events newer than `sequence`, oldest first.
    private func events(after sequence: Int) -> [LiveEvent] {
        state.withLock { state in
            guard let first = state.recent.lastIndex(where: { $0.sequence <= sequence }).map({ $0 + 1 }) else {
                return Array(state.recent.suffix(bufferSize))
            }
            return Array(state.recent[first...].suffix(bufferSize))
        }
    }

    /// Sends an event to every client (never blocks).
    public func publish(name: String, json: String) {
        publish(name: name) { json }
    }

    /// Sends an event whose JSON body `encode` builds only if a client takes it (on the client's task, not the
    /// publisher's thread).
    public func publish(name: String, encode: @escaping @Sendable () -> String) {
        let doorbells = state.withLock { state -> [AsyncStream<Void>.Continuation] in
            state.sequence += 1
            guard !state.doorbells.isEmpty else { return [] }
            state.recent.append(LiveEvent(name: name, sequence: state.sequence, body: encode))
            if state.recent.count >= 2 * bufferSize { state.recent.removeFirst(state.recent.count - bufferSize) }
            return Array(state.doorbells.values)
        }
        for doorbell in doorbells { doorbell.yield() }
    }

    /// Sends a notification's payload under its type.
    public func publish(_ payload: NotificationPayload) {
        publish(type: payload.type) { payload }
    }

    /// Sends the payload `make` builds, under `type`; it is built and encoded only when a client takes the event.
    public func publish(type: NotificationEventType, _ make: @escaping @Sendable () -> NotificationPayload) {
        guard hasSubscribers else { return }
        publish(name: type.rawValue) {
            // Encoding a payload fails only on a non-finite number; the client then gets the event without a body.
            (try? make().encoded()).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        }
    }

    /// `text` as a JSON string, quotes included (`"`, `\\` and control characters escaped, as `JSONEncoder` does).
    public static func quoted(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Ends every client's stream (the service stops): each takes what it has not seen yet, then ends.
    public func finishAll() {
        let doorbells = state.withLock { state in
            defer { state.doorbells.removeAll() }
            return Array(state.doorbells.values)
        }
        for doorbell in doorbells { doorbell.finish() }
    }
}

/// A job's state change for the live feed (`job.state`).
public struct LiveJobChange: Sendable, Hashable, Encodable {
    /// The job id (lowercase UUID).
    public var id: String
    /// Its name and lane.
    public var name: String
    public var lane: String
    /// The state it is in now.
    public var state: String

    /// Creates a change.
    public init(id: String, name: String, lane: String, state: String) {
        (self.id, self.name, self.lane, self.state) = (id, name, lane, state)
    }

    /// The same JSON as `JSONEncoder` with sorted keys writes, without one: it is built on the database's writer
    /// thread for every state change while a dashboard is connected.
    public var json: String {
        #"{"id":\#(LiveFeed.quoted(id)),"lane":\#(LiveFeed.quoted(lane)),"name":\#(LiveFeed.quoted(name)),"state":\#(LiveFeed.quoted(state))}"#
    }
}

/// A task's progress for the live feed (`job.progress`).
public struct LiveProgress: Sendable, Hashable, Encodable {
    /// The job id (lowercase UUID).
    public var id: String
    /// Percent done.
    public var progress: Int
    /// The provider's status word.
    public var status: String

    /// Creates a progress event.
    public init(id: String, progress: Int, status: String) {
        (self.id, self.progress, self.status) = (id, progress, status)
    }

    /// The same JSON as `JSONEncoder` with sorted keys writes (see ``LiveJobChange/json``).
    public var json: String {
        #"{"id":\#(LiveFeed.quoted(id)),"progress":\#(progress),"status":\#(LiveFeed.quoted(status))}"#
    }
}

extension LiveFeed {
    /// How many events wait for the current transaction's commit (a mark for ``dropUncommitted(from:)``).
    var uncommittedCount: Int { uncommitted.withLock { $0.count } }

    /// Forgets the events staged since `mark`: the savepoint that staged them was rolled back (a group commit's
    /// write that failed alone).
    func dropUncommitted(from mark: Int) {
        uncommitted.withLock { events in
            if events.count > mark { events.removeSubrange(mark...) }
        }
    }
}

extension SQLiteStateStore {
    /// Publishes `body`'s event once the current transaction commits (nothing when it rolls back), so a client that
    /// reads the job after the event sees the change. ``LiveFeedCommitObserver`` publishes them.
    func publishAfterCommit(_ db: Database, _ body: @escaping @Sendable (LiveFeed) -> Void) {
        guard liveFeed.hasSubscribers else { return }
        liveFeed.uncommitted.withLock { $0.append(body) }
    }

    /// A job's state change for the live feed, published after commit.
    func publishJobChange(_ db: Database, _ job: StoredJob) {
        let change = LiveJobChange(id: job.id.lowercasedString, name: job.name, lane: job.lane, state: job.state.rawValue)
        publishAfterCommit(db) { $0.publish(name: "job.state") { change.json } }
    }
}

/// Publishes the events of each write transaction of a store once it commits, and forgets them when it rolls back.
///
/// One observer for the database's lifetime, added when the store opens. It observes no change, so GRDB installs
/// no per-row hook for it. An observer added per transaction (`afterNextTransaction`) cost every commit a
/// recompilation while a client was connected: GRDB drops the cached statements that may delete rows whenever an
/// observer is added or removed, and `UPDATE job` may (the search index's triggers delete). 2,000 jobs' runner
/// commits took 1.38-1.41 s without a client and 1.68-1.79 s with one (`LiveFeedCostTests`, release build).
final class LiveFeedCommitObserver: TransactionObserver {
    let feed: LiveFeed

    init(feed: LiveFeed) {
        self.feed = feed
    }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }

    func databaseDidChange(with event: DatabaseEvent) {}

    func databaseDidCommit(_ db: Database) {
        let events = feed.uncommitted.withLock { events in
            defer { events.removeAll(keepingCapacity: true) }
            return events
        }
        for event in events { event(feed) }
    }

    func databaseDidRollback(_ db: Database) {
        feed.uncommitted.withLock { $0.removeAll(keepingCapacity: true) }
    }
}
