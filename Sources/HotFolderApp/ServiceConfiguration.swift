// SPDX-License-Identifier: GPL-2.0-or-later

/// The service's configuration, read from YAML and overridden by environment variables.
public struct ServiceConfiguration: Sendable {
    /// The folder people drop files into.
    public var inbox: String

    /// Creates a configuration.
    public init(inbox: String) {
        self.inbox = inbox
    }
}
