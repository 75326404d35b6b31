// SPDX-License-Identifier: GPL-2.0-or-later

/// Which events one notification target wants (`events:` in the configuration; default: all).
///
/// A pattern is an event type (`job.failed`), a family (`job.*`) or `*`.
public struct NotificationFilter: Sendable, Hashable {
    /// The patterns as written; empty means every event.
    public let patterns: [String]

    /// A filter that lets every event through.
    public static let all = NotificationFilter(uncheckedPatterns: [])

    /// Creates a filter; throws ``InvalidPattern`` naming the first pattern that matches no event type,
    /// with the nearest known one.
    public init(patterns: [String]) throws(InvalidPattern) {
        for pattern in patterns where !Self.isValid(pattern) {
            throw InvalidPattern(pattern: pattern, suggestion: Self.nearest(pattern))
        }
        self.patterns = patterns
    }

    private init(uncheckedPatterns: [String]) {
        patterns = uncheckedPatterns
    }

    /// Whether the target wants events of `type`.
    public func accepts(_ type: NotificationEventType) -> Bool {
        patterns.isEmpty || patterns.contains { Self.matches($0, type) }
    }

    static func matches(_ pattern: String, _ type: NotificationEventType) -> Bool {
        if pattern == "*" { return true }
        if pattern.hasSuffix(".*") { return type.rawValue.hasPrefix(pattern.dropLast(1)) }
        return pattern == type.rawValue
    }

    static func isValid(_ pattern: String) -> Bool {
        NotificationEventType.allCases.contains { matches(pattern, $0) }
    }

    /// Every pattern that is accepted: the event types and their families.
    public static var knownPatterns: [String] {
        let types = NotificationEventType.allCases.map(\.rawValue)
        let families = Set(types.compactMap { $0.split(separator: ".").first.map { "\($0).*" } })
        return types + families.sorted() + ["*"]
    }

    static func nearest(_ pattern: String) -> String? {
        let scored = knownPatterns.map { ($0, editDistance(pattern.lowercased(), $0)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, best.0.count / 3) else { return nil }
        return best.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// A pattern that matches no event type.
    public struct InvalidPattern: Error, Sendable, Hashable {
        /// The pattern as written.
        public var pattern: String
        /// The nearest known pattern, if one is close.
        public var suggestion: String?

        /// Creates the error.
        public init(pattern: String, suggestion: String?) {
            self.pattern = pattern
            self.suggestion = suggestion
        }
    }
}
