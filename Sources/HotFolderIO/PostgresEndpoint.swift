// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import PostgresNIO

/// Where the shared PostgreSQL database is: the configuration's `store: postgres://user@host:port/database` line.
///
/// The password never comes from the URL (configuration files are copied, shown and committed): the caller reads it
/// from `PGPASSWORD` or `store_password_file` and passes it in, and no description of the endpoint shows it.
/// `sslmode` follows libpq: `disable`; `allow`/`prefer` (the default) and `require` encrypt without checking the
/// certificate; `verify-ca` checks the certificate's chain; `verify-full` also its host name. A Unix socket
/// (`?host=/run/postgresql`, as libpq spells it) never uses TLS.
public struct PostgresEndpoint: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// libpq's `sslmode` values.
    public enum SSLMode: String, Sendable, Hashable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    /// Why a `store:` URL was refused; one sentence that never holds a password.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// What is wrong and what to write instead.
        public var description: String
    }

    /// The database user.
    public var user: String
    /// The server's host name or address, or the folder holding its Unix socket (starts with `/`).
    public var host: String
    /// The server's port (for a socket: the number in its file name, `.s.PGSQL.<port>`).
    public var port: Int
    /// The database name.
    public var database: String
    /// Whether and how TLS is used.
    public var sslMode: SSLMode
    /// The password, if the server asks for one. Never shown.
    public var password: String?

    /// Reads a `postgres://` or `postgresql://` URL; `password` comes from elsewhere (see the type's notes).
    public init(url text: String, password: String? = nil) throws(Failure) {
        guard let url = URLComponents(string: text), ["postgres", "postgresql"].contains(url.scheme?.lowercased() ?? "")
        else {
            throw Failure(description: "The store is not a postgres:// URL; write store: postgres://USER@HOST:5432/DATABASE.")
        }
        if url.password != nil {
            throw Failure(
                description: "The store URL holds a password; remove it and put it in PGPASSWORD or the file named by store_password_file.")
        }
        guard let user = url.user?.removingPercentEncoding, !user.isEmpty else {
            throw Failure(description: "The store URL names no database user; write store: postgres://USER@HOST/DATABASE.")
        }
        let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let host = query["host"] ?? url.host?.removingPercentEncoding ?? ""
        guard !host.isEmpty else {
            throw Failure(description: "The store URL names no server; write store: postgres://USER@HOST/DATABASE (or ?host=/socket/folder).")
        }
        var sslMode = SSLMode.prefer
        if let mode = query["sslmode"] {
            guard let known = SSLMode(rawValue: mode) else {
                throw Failure(
                    description: "The store URL's sslmode '\(mode)' is unknown; use one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            sslMode = known
        }
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        self.user = user
        self.host = host
        self.port = url.port ?? 5432
        self.database = path.removingPercentEncoding.flatMap { $0.isEmpty ? nil : $0 } ?? user
        self.sslMode = sslMode
        self.password = password
    }

    /// Whether the server is reached through a Unix socket.
    public var isUnixSocket: Bool { host.hasPrefix("/") }

    /// The URL without the password, as errors and `hotfolder status` show it.
    public var description: String {
        let query = isUnixSocket ? "?host=\(host)" : sslMode == .prefer ? "" : "?sslmode=\(sslMode.rawValue)"
        let server = isUnixSocket ? "" : "\(host):\(port)"
        return "postgresql://\(user)@\(server)/\(database)\(query)"
    }

    /// As ``description``: a debugger or a log line never shows the password either.
    public var debugDescription: String { description }

    /// `dump` shows the endpoint without its password.
    public var customMirror: Mirror {
        Mirror(self, children: ["url": description, "password": password == nil ? "none" : "redacted"])
    }

    /// The configuration a `PostgresClient` (and so ``PostgresStateStore``) connects with.
    public var clientConfiguration: PostgresClient.Configuration {
        if isUnixSocket {
            return PostgresClient.Configuration(
                unixSocketPath: host + "/.s.PGSQL.\(port)", username: user, password: password, database: database)
        }
        return PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
    }

    private var tls: PostgresClient.Configuration.TLS {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case .disable:
            return .disable
        case .allow, .prefer:
            configuration.certificateVerification = .none
            return .prefer(configuration)
        case .require:
            configuration.certificateVerification = .none
            return .require(configuration)
        case .verifyCA:
            configuration.certificateVerification = .noHostnameVerification
            return .require(configuration)
        case .verifyFull:
            return .require(configuration)
        }
    }
}

extension PostgresStateStore {
    /// Runs `body` with a migrated store for `endpoint` (see ``withStore(_:target:callTimeout:clock:logger:_:)``).
    public static func withStore<Result: Sendable>(
        _ endpoint: PostgresEndpoint, callTimeout: Duration = .seconds(10),
        clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger = Logger(label: "hotfolder.store.postgres"),
        _ body: (PostgresStateStore) async throws -> Result
    ) async throws -> Result {
        try await withStore(
            endpoint.clientConfiguration, target: endpoint.description, callTimeout: callTimeout, clock: clock,
            logger: logger, body)
    }
}
