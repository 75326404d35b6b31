// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// A private PostgreSQL cluster for one test: `initdb` into a temporary folder, a server listening only on a Unix
/// socket in that folder, stopped and removed by `stop()` (and, as a fallback, when the value goes away).
///
/// PostgreSQL refuses to run as root, and CI runs as root: the folder then belongs to `nobody` and every server
/// program runs through `runuser` (or `setpriv`). Debian's `postgresql` package (scripts/setup.sh) puts the programs
/// in `/usr/lib/postgresql/<version>/bin`; the newest one found is used.
///
/// The programs are started with `posix_spawn`, not Foundation's `Process`: on Linux `Process` learns that a child
/// ended when a socket it hands the child reaches end-of-file, and the postmaster that `pg_ctl start` leaves behind
/// inherits that socket, so `waitUntilExit()` never returned. Here the child gets `/dev/null` as input, a log file
/// as output and every other descriptor closed, and the parent waits with `waitpid`.
final class PostgresCluster: Sendable {
    /// Why a cluster could not be started or stopped; one sentence with what to do.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The user the server runs as, when the tests run as root.
    struct Owner: Sendable {
        var name: String
        var uid: uid_t
        var gid: gid_t
    }

    /// The database user every test connects as (trust authentication on the private socket).
    static let user = "hotfolder"
    /// The database the tests use.
    static let database = "postgres"
    /// The port number; it only names the socket (`.s.PGSQL.5432`): nothing listens on TCP.
    static let port = 5432

    /// The folder holding the data, the socket and the logs.
    let root: String
    /// The server's programs (`initdb`, `pg_ctl`, `postgres`).
    let binaries: String
    /// Set when the tests run as root: the server runs as this user.
    let owner: Owner?
    /// How long `initdb` took.
    let initdbDuration: Duration
    /// How long the first `pg_ctl start` took, until the server accepted connections.
    let startDuration: Duration

    private let stopped = Mutex(false)

    /// The folder holding the server's socket.
    var socketDirectory: String { root }
    /// The server's socket.
    var socketPath: String { root + "/.s.PGSQL.\(Self.port)" }
    /// The data folder `initdb` made.
    var dataDirectory: String { root + "/data" }
    /// What the server itself logged (`pg_ctl -l`).
    var serverLogPath: String { root + "/server.log" }
    /// What `initdb` and `pg_ctl` printed.
    var commandLogPath: String { root + "/commands.log" }
    /// A libpq connection string for `psql` and friends.
    var connectionString: String {
        "host=\(socketDirectory) port=\(Self.port) user=\(Self.user) dbname=\(Self.database)"
    }

    /// The configuration a `PostgresClient` connects with: the Unix socket, no password, no TLS.
    var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            unixSocketPath: socketPath, username: Self.user, password: nil, database: Self.database)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// Makes and starts a new cluster; throws with the reason when PostgreSQL is missing or does not start.
    init() throws {
        guard let binaries = Self.findBinaries() else {
            throw Failure(description: Self.missingMessage)
        }
        Self.removeAbandonedClusters()
        var owner: Owner?
        if getuid() == 0 {
            guard let entry = getpwnam("nobody") else {
                throw Failure(description: "running as root, but there is no user `nobody` to run PostgreSQL as")
            }
            owner = Owner(name: "nobody", uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
        }
        // A short path: a Unix socket path must stay under 108 bytes.
        let root = "/tmp/hfpg-\(UUID().uuidString.prefix(8).lowercased())"
        try FileManager.default.createDirectory(
            atPath: root, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        let clock = ContinuousClock()
        do {
            // Who made the cluster: a later run removes it when that process is gone (a test binary killed mid-run).
            try Data("\(getpid())\n".utf8).write(to: URL(fileURLWithPath: root + "/owner.pid"))
            if let owner, chown(root, owner.uid, owner.gid) != 0 {
                throw Failure(description: "could not give \(root) to \(owner.name): \(String(cString: strerror(errno)))")
            }
            let initStarted = clock.now
            try Self.run(
                binaries + "/initdb",
                ["-D", root + "/data", "-U", Self.user, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
                as: owner, log: root + "/commands.log")
            initdbDuration = clock.now - initStarted
            let started = clock.now
            try Self.run(binaries + "/pg_ctl", Self.startArguments(root: root), as: owner, log: root + "/commands.log")
            startDuration = clock.now - started
        } catch {
            Self.stopServer(binaries: binaries, root: root, owner: owner)
            try? FileManager.default.removeItem(atPath: root)
            throw error
        }
        self.binaries = binaries
        self.owner = owner
        self.root = root
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`) and removes the folder; a second call does nothing.
    func stop() {
        let first = stopped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        Self.stopServer(binaries: binaries, root: root, owner: owner)
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Stops the server at once, as a crash would (`-m immediate`: open connections are cut, the next start
    /// recovers from the WAL), and starts it again on the same socket; returns when it accepts connections.
    func restart() throws {
        try Self.run(
            binaries + "/pg_ctl", ["-D", dataDirectory, "-m", "immediate", "-w", "-t", "60", "stop"],
            as: owner, log: commandLogPath)
        try Self.run(binaries + "/pg_ctl", Self.startArguments(root: root), as: owner, log: commandLogPath)
    }

    /// The process id of the running postmaster, from `postmaster.pid`; nil when the server is not running.
    var serverProcessID: pid_t? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
            let first = text.split(separator: "\n").first, let pid = pid_t(first), kill(pid, 0) == 0
        else { return nil }
        return pid
    }

    /// The last part of the server's log, for failure messages.
    func serverLogTail(_ characters: Int = 2_000) -> String {
        String(((try? String(contentsOfFile: serverLogPath, encoding: .utf8)) ?? "").suffix(characters))
    }

    deinit {
        stop()
    }

    // MARK: - Programs

    /// The message a test shows when it is skipped for want of PostgreSQL.
    static let missingMessage =
        "PostgreSQL's server programs (initdb, pg_ctl) were not found in /usr/lib/postgresql/*/bin nor through pg_config: run scripts/setup.sh, which installs Debian's postgresql"

    /// `/usr/lib/postgresql/<newest version>/bin`, else `pg_config --bindir`, when it holds `initdb` and `pg_ctl`.
    static func findBinaries() -> String? {
        func usable(_ folder: String) -> Bool {
            FileManager.default.isExecutableFile(atPath: folder + "/initdb")
                && FileManager.default.isExecutableFile(atPath: folder + "/pg_ctl")
        }
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap { Int($0) }.sorted(by: >)
        for version in versions where usable("/usr/lib/postgresql/\(version)/bin") {
            return "/usr/lib/postgresql/\(version)/bin"
        }
        for candidate in ["/usr/bin/pg_config", "/usr/local/bin/pg_config"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            let output = NSTemporaryDirectory() + "hfpg-config-\(UUID().uuidString.prefix(8))"
            defer { unlink(output) }
            guard (try? run(candidate, ["--bindir"], as: nil, log: output)) != nil,
                let folder = try? String(contentsOfFile: output, encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines),
                usable(folder)
            else { continue }
            return folder
        }
        return nil
    }

    /// `pg_ctl start` with the server listening on the folder's socket only, without fsync (test data).
    private static func startArguments(root: String) -> [String] {
        [
            "-D", root + "/data", "-l", root + "/server.log", "-w", "-t", "60",
            "-o", "-k \(root) -p \(port) -c listen_addresses='' -F", "start",
        ]
    }

    /// `pg_ctl stop -m immediate` when a server runs in `root`; errors are ignored (cleanup).
    private static func stopServer(binaries: String, root: String, owner: Owner?) {
        guard FileManager.default.fileExists(atPath: root + "/data/postmaster.pid") else { return }
        let log = NSTemporaryDirectory() + "hfpg-stop-\(UUID().uuidString.prefix(8))"
        defer { unlink(log) }
        _ = try? run(binaries + "/pg_ctl", ["-D", root + "/data", "-m", "immediate", "-w", "stop"], as: owner, log: log)
    }

    /// Stops and removes the clusters of test processes that died before they could (killed or crashed).
    private static func removeAbandonedClusters() {
        guard let binaries = findBinaries(),
            let names = try? FileManager.default.contentsOfDirectory(atPath: "/tmp")
        else { return }
        for name in names where name.hasPrefix("hfpg-") {
            let root = "/tmp/" + name
            guard let text = try? String(contentsOfFile: root + "/owner.pid", encoding: .utf8),
                let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                pid != getpid(), kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            let folderOwner = (try? FileManager.default.attributesOfItem(atPath: root)[.ownerAccountID] as? NSNumber)
                .map { uid_t(truncating: $0) }
            let owner = folderOwner.flatMap { uid -> Owner? in
                guard uid != getuid(), let entry = getpwuid(uid) else { return nil }
                return Owner(name: String(cString: entry.pointee.pw_name), uid: uid, gid: entry.pointee.pw_gid)
            }
            stopServer(binaries: binaries, root: root, owner: owner)
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    /// Runs `executable` (as `owner` when given), with `/dev/null` as input, output and errors appended to `log`,
    /// and no other descriptor of this process; waits for it and throws when it fails.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], as owner: Owner?, log: String) throws -> Int32 {
        var command = [executable] + arguments
        if let owner {
            if FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser") {
                command = ["/usr/sbin/runuser", "-u", owner.name, "--"] + command
            } else if FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") {
                command = ["/usr/bin/setpriv", "--reuid=\(owner.uid)", "--regid=\(owner.gid)", "--clear-groups", "--"] + command
            } else {
                throw Failure(description: "running as root, but neither runuser nor setpriv is there to run PostgreSQL as \(owner.name)")
            }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Descriptors without close-on-exec (Foundation's process sockets among them) must not reach a server that
        // outlives the command: whoever waits for their end-of-file would wait for the server. A descriptor opened
        // by another thread after this listing can still slip through; glibc ignores closing one already closed.
        for descriptor in openDescriptors() where descriptor > 2 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
        let argv = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw Failure(description: "could not start \(command[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else {
                throw Failure(description: "could not wait for \(executable): \(String(cString: strerror(errno)))")
            }
        }
        // WIFEXITED and WEXITSTATUS are macros Swift does not import.
        let signal = status & 0x7f
        let exitCode = (status >> 8) & 0xff
        guard signal == 0, exitCode == 0 else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw Failure(
                description: "\((executable as NSString).lastPathComponent) \(arguments.last ?? "") failed "
                    + (signal == 0 ? "with exit status \(exitCode)" : "on signal \(signal)") + ": "
                    + output.suffix(1_500).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return exitCode
    }

    /// The descriptors open in this process.
    private static func openDescriptors() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
    }
}

/// Starts a private cluster, runs `body` with it, and stops and removes the cluster whether `body` returns or throws.
func withPostgresCluster<Result>(_ body: (PostgresCluster) async throws -> Result) async throws -> Result {
    let cluster = try PostgresCluster()
    do {
        let result = try await body(cluster)
        cluster.stop()
        return result
    } catch {
        cluster.stop()
        throw error
    }
}

extension PostgresCluster {
    /// Runs `body` with a `PostgresClient` connected to this cluster, its pool running in a task of its own that is
    /// cancelled (closing every connection) when `body` returns or throws.
    func withClient<Result: Sendable>(
        maximumConnections: Int = 8, _ body: (PostgresClient) async throws -> Result
    ) async throws -> Result {
        var configuration = clientConfiguration
        configuration.options.maximumConnections = maximumConnections
        let client = PostgresClient(configuration: configuration)
        return try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}
