// SPDX-License-Identifier: GPL-2.0-or-later

/// The API key, kept out of every printout: `description`, `debugDescription`, `dump` and string interpolation
/// all show `***`. Only ``exposedValue`` gives the key, for the `Authorization` header.
public struct ServiceAPIKey: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    private let value: String

    /// Wraps a key.
    public init(_ value: String) {
        self.value = value
    }

    /// The key itself. Use it only to build the request header; never log it.
    public var exposedValue: String { value }

    /// `***`.
    public var description: String { "***" }

    /// `ServiceAPIKey(***)`.
    public var debugDescription: String { "ServiceAPIKey(***)" }

    /// A mirror whose only child reads `***`, so `dump` and reflection never reach the key.
    public var customMirror: Mirror {
        Mirror(self, children: ["value": "***"], displayStyle: .struct)
    }
}
