// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// A video API key that never prints itself.
///
/// `description`, `debugDescription` and reflection all show a redacted placeholder, so a key that ends
/// up in string interpolation, a log line or a `dump` does not leak (GRDB hides statement arguments the same way).
public struct APIKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret itself; only the HTTP clients read it, to build the `Authorization` header.
    let secret: String

    /// Wraps a key.
    public init(_ secret: String) { self.secret = secret }

    /// What a key looks like in text.
    public static let placeholder = "[redacted key]"

    /// Always the placeholder.
    public var description: String { APIKey.placeholder }
    /// Always the placeholder.
    public var debugDescription: String { APIKey.placeholder }
    /// Hides the key from `dump` and the debugger.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    /// Replaces every occurrence of the key in `text` (e.g. a server message echoing the header) with the placeholder.
    public func redact(_ text: String) -> String {
        guard secret.count >= 4, text.contains(secret) else { return text }
        return text.replacingOccurrences(of: secret, with: APIKey.placeholder)
    }

    /// The value of the `Authorization` header.
    var bearerHeader: String { "Bearer \(secret)" }
}
