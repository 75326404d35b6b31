// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// The JSON body of one notification: `{"id", "type", "time", "instance", "job": {…}, …fields}`.
///
/// `id` is the same for every target and every attempt, so a receiver can drop duplicates (delivery is at least
/// once). `time` is ISO-8601 (UTC, seconds). Service-level events carry their details as top-level ``fields``
/// (`"reason"`, `"budget"`, `"path"`…); job events carry a ``Job``. Nothing secret is ever part of it.
public struct NotificationPayload: Sendable, Hashable {
    /// A UUID string, the receiver's de-duplication key.
    public var id: String
    /// What happened.
    public var type: NotificationEventType
    /// When it happened.
    public var time: Date
    /// Which hotfolder sent it (`instance:` in the configuration, else the host name).
    public var instance: String
    /// The job, for `job.*` events.
    public var job: Job?
    /// Further details, as top-level keys beside the ones above (which they cannot replace).
    public var fields: [String: NotificationField]

    /// The names every payload has; ``fields`` with these names are ignored.
    public static let reservedKeys: Set<String> = ["id", "type", "time", "instance", "job"]

    /// Creates a payload.
    public init(
        id: String = UUID().uuidString.lowercased(), type: NotificationEventType, time: Date, instance: String,
        job: Job? = nil, fields: [String: NotificationField] = [:]
    ) {
        self.id = id
        self.type = type
        self.time = time
        self.instance = instance
        self.job = job
        self.fields = fields.filter { !Self.reservedKeys.contains($0.key) }
    }

    /// The body as sent: JSON with sorted keys and unescaped slashes (stable bytes, so a signature can be checked).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// A payload read back from its body.
    public static func decode(_ data: Data) throws -> NotificationPayload {
        try JSONDecoder().decode(NotificationPayload.self, from: data)
    }

    /// The job a `job.*` event is about.
    public struct Job: Sendable, Hashable, Codable {
        /// The job's id (lowercase UUID).
        public var id: String
        /// The job's output name.
        public var name: String
        /// The job's folder relative to the inbox (`""` for the inbox itself).
        public var lane: String
        /// The state it is in now (`done`, `failed`, `invalid`, `uncertain`, `held`, `running`, …).
        public var state: String
        /// The model's full name, when known.
        public var model: String?
        /// The prompt's first ``NotificationPayload/promptLimit`` characters.
        public var prompt: String?
        /// The cost in US dollars: the settled cost when known, else the estimate.
        public var cost: Double?
        /// The video's path (`job.done`).
        public var video: String?
        /// Why it failed, waits or is uncertain.
        public var error: Failure?

        /// Creates a job object; the prompt is cut to ``NotificationPayload/promptLimit`` characters.
        public init(
            id: String, name: String, lane: String, state: String, model: String? = nil, prompt: String? = nil,
            cost: Double? = nil, video: String? = nil, error: Failure? = nil
        ) {
            self.id = id
            self.name = name
            self.lane = lane
            self.state = state
            self.model = model
            self.prompt = prompt.map { NotificationPayload.excerpt($0) }
            // Micro-dollars: no 0.069120000000001 in a message.
            self.cost = cost.map { ($0 * 1_000_000).rounded() / 1_000_000 }
            self.video = video
            self.error = error
        }
    }

    /// A failure's category and message.
    public struct Failure: Sendable, Hashable, Codable {
        /// A stable name (`moderation`, `invalid`, `expired`, `uncertain`, `held`…).
        public var category: String
        /// What happened, in words.
        public var message: String

        /// Creates a failure.
        public init(category: String, message: String) {
            self.category = category
            self.message = message
        }
    }

    /// The longest prompt excerpt, in characters.
    public static let promptLimit = 200

    /// `text` cut to at most `limit` characters, ending in `…` when cut.
    public static func excerpt(_ text: String, limit: Int = promptLimit) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(max(0, limit - 1))) + "…"
    }
}

extension NotificationPayload: Codable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Encodes the fixed keys and the fields side by side.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(id, forKey: Key("id"))
        try container.encode(type, forKey: Key("type"))
        try container.encode(time.formatted(.iso8601), forKey: Key("time"))
        try container.encode(instance, forKey: Key("instance"))
        try container.encodeIfPresent(job, forKey: Key("job"))
        for (name, value) in fields where !Self.reservedKeys.contains(name) {
            try container.encode(value, forKey: Key(name))
        }
    }

    /// Decodes a body written by ``encode(to:)``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        id = try container.decode(String.self, forKey: Key("id"))
        type = try container.decode(NotificationEventType.self, forKey: Key("type"))
        let text = try container.decode(String.self, forKey: Key("time"))
        guard let time = try? Date(text, strategy: .iso8601) else {
            throw DecodingError.dataCorruptedError(forKey: Key("time"), in: container, debugDescription: "not ISO-8601: \(text)")
        }
        self.time = time
        instance = try container.decode(String.self, forKey: Key("instance"))
        job = try container.decodeIfPresent(Job.self, forKey: Key("job"))
        var fields: [String: NotificationField] = [:]
        for key in container.allKeys where !Self.reservedKeys.contains(key.stringValue) {
            fields[key.stringValue] = try container.decode(NotificationField.self, forKey: key)
        }
        self.fields = fields
    }
}

/// One detail of a service-level notification: a string, a number or a flag.
public enum NotificationField: Sendable, Hashable, Codable, ExpressibleByStringLiteral, ExpressibleByFloatLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral
{
    /// A JSON string.
    case string(String)
    /// A JSON number (US dollars, counts, percentages).
    case number(Double)
    /// A JSON `true` or `false`.
    case bool(Bool)

    /// `"text"` is a string field.
    public init(stringLiteral value: String) { self = .string(value) }
    /// `12.5` is a number field.
    public init(floatLiteral value: Double) { self = .number(value) }
    /// `3` is a number field.
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    /// `true` is a flag.
    public init(booleanLiteral value: Bool) { self = .bool(value) }

    /// Encodes the bare value.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        }
    }

    /// Decodes a bare string, number or flag.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else {
            self = .string(try container.decode(String.self))
        }
    }
}
