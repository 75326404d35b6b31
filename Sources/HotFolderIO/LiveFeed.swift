// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore
import Synchronization

/// One change for the dashboard's live feed: a notification's payload (`job.done`, `queue.paused`, …) or a live-only
/// change (`job.state` for every state change, `job.progress` for a task's percent).
public struct LiveEvent: Sendable, Hashable {
    /// The SSE event name: a notification type, `job.state` or `job.progress`.
    public var name: String
    /// Increasing within one process, the SSE `id`.
    public var sequence: Int
    /// The event's JSON body (never a secret: the same fields as notifications).
    public var json: String
}

/// Fans changes out to the connected dashboard clients, each with its own bounded buffer.
///
/// Publishing never blocks and never waits for a client: a client that reads too slowly loses its oldest events
/// (its page is refreshed by the next one), so a slow browser can never slow the service.
public final class LiveFeed: Sendable {
    private struct State {
        var subscribers: [Int: AsyncStream<LiveEvent>.Continuation] = [:]
        var nextSubscriber = 0
        var sequence = 0
    }

    private let state = Mutex(State())
    /// The events of the write transaction under way, published once it commits (nil: none yet). The store has one
    /// writer, so there is one such transaction at a time.
    fileprivate let uncommitted = Mutex<[@Sendable (LiveFeed) -> Void]?>(nil)
    /// Events kept per client before the oldest are dropped.
    public let bufferSize: Int

    /// Creates a feed; each client buffers at most `bufferSize` events.
    public init(bufferSize: Int = 256) {
        self.bufferSize = bufferSize
    }

    /// The number of connected clients.
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Whether anyone listens (publishers skip building events otherwise).
    public var hasSubscribers: Bool { state.withLock { !$0.subscribers.isEmpty } }

    /// A stream of the events published from now on; it ends when the caller stops iterating or ``finishAll()``.
    public func subscribe() -> AsyncStream<LiveEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: LiveEvent.self, bufferingPolicy: .bufferingNewest(bufferSize))
        let id = state.withLock { state in
            state.nextSubscriber += 1
            state.subscribers[state.nextSubscriber] = continuation
            return state.nextSubscriber
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Sends an event to every client (never blocks).
    public func publish(name: String, json: String) {
        let subscribers = state.withLock { state -> [AsyncStream<LiveEvent>.Continuation] in
            state.sequence += 1
            return Array(state.subscribers.values)
        }
        guard !subscribers.isEmpty else { return }
        let sequence = state.withLock { $0.sequence }
        let event = LiveEvent(name: name, sequence: sequence, json: json)
        for continuation in subscribers { continuation.yield(event) }
    }

    /// Sends a notification's payload under its type.
    public func publish(_ payload: NotificationPayload) {
        guard hasSubscribers, let data = try? payload.encoded() else { return }
        publish(name: payload.type.rawValue, json: String(decoding: data, as: UTF8.self))
    }

    /// Sends an encodable value under `name`.
    public func publish(name: String, _ value: some Encodable) {
        guard hasSubscribers else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(value) else { return }
        publish(name: name, json: String(decoding: data, as: UTF8.self))
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

    /// Ends every client's stream (the service stops).
    public func finishAll() {
        let subscribers = state.withLock { state in
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        for continuation in subscribers { continuation.finish() }
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

extension SQLiteStateStore {
    /// Publishes `body`'s event once the current transaction commits (nothing when it rolls back), so a client that
    /// reads the job after the event sees the change.
    ///
    /// One transaction observer per transaction, holding all its events: GRDB asks every observer about every
    /// statement, so one observer per event made a transaction of n jobs cost n² while a dashboard was connected
    /// (a 10,000-file burst ran at 0.58x).
    func publishAfterCommit(_ db: Database, _ body: @escaping @Sendable (LiveFeed) -> Void) {
        guard liveFeed.hasSubscribers else { return }
        let feed = liveFeed
        let first = feed.uncommitted.withLock { events in
            guard events != nil else {
                events = [body]
                return true
            }
            events?.append(body)
            return false
        }
        guard first else { return }
        db.afterNextTransaction(
            onCommit: { _ in
                let events = feed.uncommitted.withLock { events in
                    defer { events = nil }
                    return events ?? []
                }
                for event in events { event(feed) }
            },
            onRollback: { _ in feed.uncommitted.withLock { $0 = nil } })
    }

    /// A job's state change for the live feed, published after commit.
    func publishJobChange(_ db: Database, _ job: StoredJob) {
        let change = LiveJobChange(id: job.id.lowercasedString, name: job.name, lane: job.lane, state: job.state.rawValue)
        publishAfterCommit(db) { $0.publish(name: "job.state", json: change.json) }
    }
}
