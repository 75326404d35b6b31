// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// The `http:` section: where `hotfolder run` serves its dashboard, JSON API and metrics.
public struct HTTPSettings: Sendable, Hashable {
    /// Whether the dashboard is served at all (`enabled: false` turns it off).
    public var enabled = true
    /// The address to listen on: an IP address or `localhost`.
    public var host = "127.0.0.1"
    /// The TCP port; 0 picks a free one (tests).
    public var port = 8470
    /// A file holding the access token; required for any address other than loopback.
    public var tokenFile: String?
    /// The path prefix the dashboard lives under behind a reverse proxy: `/` or `/hotfolder` (no trailing slash kept).
    public var basePath = "/"

    /// Creates the defaults: on, `127.0.0.1:8470`, no token, at `/`.
    public init() {}

    /// `host:port` as written in `listen:`.
    public var listen: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Whether the address only accepts connections from this machine.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The base path without a trailing slash (`""` for `/`), prefixed to every route and link.
    public var prefix: String {
        var path = basePath
        while path.hasSuffix("/") { path.removeLast() }
        return path
    }

    /// Reads the token (when a token file is set) and checks that a non-loopback address has one.
    ///
    /// The token is returned, never logged; errors name the file but not its content.
    public func loadToken() throws -> String? {
        guard let tokenFile else {
            guard isLoopback else { throw DashboardSetupError.tokenRequired(listen: listen) }
            return nil
        }
        let text: String
        do {
            text = try String(contentsOfFile: tokenFile, encoding: .utf8)
        } catch {
            let reason = FileManager.default.fileExists(atPath: tokenFile) ? "it is not readable UTF-8 text" : "no such file"
            throw DashboardSetupError.tokenFileUnreadable(path: tokenFile, reason: reason)
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard token.count >= 16 else { throw DashboardSetupError.tokenTooShort(path: tokenFile) }
        return token
    }
}

/// Why the dashboard cannot start; each reads as one sentence with the fix.
public enum DashboardSetupError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Listening beyond loopback without a token.
    case tokenRequired(listen: String)
    /// `http.token_file` cannot be read.
    case tokenFileUnreadable(path: String, reason: String)
    /// The token is too short to be a secret.
    case tokenTooShort(path: String)
    /// The address cannot be bound.
    case cannotListen(listen: String, reason: String)

    /// The error as one sentence.
    public var description: String {
        switch self {
        case .tokenRequired(let listen):
            "The dashboard would listen on \(listen), which other machines can reach, without a token: set `http.token_file` "
                + "to a file holding a long random token (`openssl rand -hex 32`), or listen on 127.0.0.1."
        case .tokenFileUnreadable(let path, let reason):
            "Cannot read the dashboard token file \(path): \(reason); check `http.token_file` and the file's owner."
        case .tokenTooShort(let path):
            "The dashboard token in \(path) is shorter than 16 characters; write a long random token (`openssl rand -hex 32`)."
        case .cannotListen(let listen, let reason):
            "The dashboard cannot listen on \(listen): \(reason); choose another `http.listen` or stop what uses the port."
        }
    }
}
