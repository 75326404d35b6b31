// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO

/// One entry of `notify:`: where events go (a webhook URL or a command), which events, and the time limit.
///
/// The secret is not part of it, only the file that holds it (read when the service starts), so a
/// configuration can still be printed and compared freely.
public struct NotifyTarget: Sendable, Hashable {
    /// Where the events go.
    public enum Destination: Sendable, Hashable {
        /// A JSON POST to this http(s) URL.
        case url(String)
        /// A program (argv) run with the event's JSON on stdin; a string in the file runs with `/bin/sh -c`.
        case command([String])
    }

    /// Where the events go.
    public var destination: Destination
    /// Which events (default: all).
    public var events: NotificationFilter
    /// The file holding the shared secret that signs webhook bodies (`X-Hotfolder-Signature`), if any.
    public var secretFile: String?
    /// How long one delivery may take: a request (default 10 s) or a command (default 30 s, then it is killed).
    public var timeout: Duration

    /// Creates a target; the timeout defaults by destination.
    public init(
        destination: Destination, events: NotificationFilter = .all, secretFile: String? = nil, timeout: Duration? = nil
    ) {
        self.destination = destination
        self.events = events
        self.secretFile = secretFile
        self.timeout = timeout ?? Self.defaultTimeout(for: destination)
    }

    /// 10 s for a request, 30 s for a command.
    public static func defaultTimeout(for destination: Destination) -> Duration {
        switch destination {
        case .url: .seconds(10)
        case .command: .seconds(30)
        }
    }

    /// A stable id of the target written in its delivery rows: a hash of its URL or command line, so neither (nor
    /// a token in them) is stored.
    public var key: String {
        var hash = HotFolderCore.SHA256()
        switch destination {
        case .url(let url): hash.update(Array(("url\u{0}" + url).utf8))
        case .command(let argv): hash.update(Array(("command\u{0}" + argv.joined(separator: "\u{0}")).utf8))
        }
        return String(hash.finalizeHex().prefix(16))
    }

    /// What the log and `status` call the target: a URL's scheme, host and port (never its path or query, where
    /// webhook tokens live), or a command's program name (never its arguments).
    public var label: String {
        switch destination {
        case .url(let text):
            guard let url = URL(string: text), let scheme = url.scheme, let host = url.host else { return "webhook" }
            return "\(scheme)://\(host)" + (url.port.map { ":\($0)" } ?? "")
        case .command(let argv):
            var program = argv.first ?? "command"
            if argv.count >= 3, argv[0] == "/bin/sh", argv[1] == "-c" {
                program = argv[2].split(separator: " ").first.map(String.init) ?? "sh"
            }
            return "command " + (program as NSString).lastPathComponent
        }
    }

    /// The route the store writes this target's deliveries for.
    public var route: NotificationRoute {
        NotificationRoute(key: key, label: label, filter: events)
    }
}
