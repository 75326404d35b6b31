// SPDX-License-Identifier: GPL-2.0-or-later
import ArgumentParser
import Foundation
import HotFolderApp
import HotFolderIO

/// `hotfolder migrate --to postgres://…`: moves one node's SQLite state into PostgreSQL (issue 12).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Move this node's SQLite state into an empty PostgreSQL database, for several nodes on one inbox.",
        discussion: """
            Copies every job of the state database (found through --config or HOTFOLDER_CONFIG, as `hotfolder \
            status` finds it) into PostgreSQL: ids, states, remote task ids (never lost: each one is money), \
            history, spend, budget overrides and alerts, drop keys, storyboard films (with the clips that make \
            them), stalled-job announcements and pending notifications. Leases are reset, so any node can claim \
            the jobs. Left behind: the upload cache, the queue's pause and this node's registration.

            The copy is one transaction, verified table by table before it commits: either everything lands or \
            nothing. The SQLite database is not changed and stays as a backup.

            It refuses, and writes nothing, when `hotfolder run` uses the state directory (stop the service \
            first), when the target database already holds hotfolder state (it never merges: drop and create the \
            database again, or name a new one), or when the server cannot be reached. The URL names no password: it comes from --password-file, else PGPASSWORD. \
            sslmode is read as libpq does (disable, allow, prefer, require, verify-ca, verify-full; default \
            prefer); ?host=/run/postgresql reaches a Unix socket.

            Afterwards add store: <the same URL> to the configuration of every node, this one included. \
            `hotfolder run` refuses to start on this node's SQLite state again (its jobs now live in \
            PostgreSQL): delete moved-to-postgresql in the state directory only to go back deliberately.

            Examples:
              hotfolder migrate --to postgres://hotfolder@db.example:5432/hotfolder --dry-run
              PGPASSWORD=… hotfolder migrate --to 'postgres://hotfolder@db.example/hotfolder?sslmode=verify-full'
              hotfolder migrate --to postgres://hotfolder@db.example/hotfolder --password-file /etc/hotfolder/pg-password
            """)

    @OptionGroup var options: ConfigOptions
    @Option(help: ArgumentHelp("The target database: postgres://USER@HOST:PORT/DATABASE[?sslmode=…], without a password.", valueName: "url"))
    var to: String
    @Option(help: ArgumentHelp("A file holding the database password (wins over PGPASSWORD).", valueName: "file"))
    var passwordFile: String?
    @Flag(help: "Check the source and the target and show what would be copied, without writing anything.")
    var dryRun = false

    func validate() throws {
        let scheme = to.split(separator: ":", maxSplits: 1).first.map { $0.lowercased() } ?? ""
        guard ["postgres", "postgresql"].contains(scheme), to.contains("://") else {
            throw ValidationError("--to takes a postgres:// URL, such as postgres://hotfolder@db.example:5432/hotfolder")
        }
    }

    func run() async throws {
        let configuration = try options.load()
        do {
            let endpoint = try PostgresEndpoint(url: to, password: try password())
            let migration = StoreMigration(stateDirectory: configuration.stateDirectory, to: endpoint)
            let report = try await migration.run(dryRun: dryRun)
            for line in Self.lines(report) { Terminal.output(line) }
        } catch {
            Terminal.error("hotfolder migrate: \(error)")
            throw ExitCode.failure
        }
    }

    /// The password from `--password-file` (trimmed), else `PGPASSWORD`, else none.
    func password() throws -> String? {
        let password = try StorePassword.read(file: passwordFile)
        for warning in password.warnings { Terminal.error("warning: " + warning) }
        return password.value
    }

    /// The report as printed: a table of rows per table, what stays behind, and the next step.
    static func lines(_ report: StoreMigration.Report) -> [String] {
        let width = max(18, ((report.copied.map(\.table) + ["table"]).map(\.count).max() ?? 0) + 2)
        func pad(_ text: String) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
        var lines = [
            report.dryRun
                ? "Dry run: nothing was written. Would copy into \(report.target), which is reachable and empty:"
                : "Copied into \(report.target) in one transaction; the target's row counts match:",
            "",
            pad("table") + (report.dryRun ? "rows to copy" : "rows copied"),
        ]
        lines += report.copied.map { pad($0.table) + "\($0.rows)" }
        lines.append(pad("(spend total)") + "$" + String(format: "%.2f", report.spendTotal))
        let behind = report.leftBehind.filter { $0.rows > 0 }
        if !behind.isEmpty {
            lines += ["", "Not copied (SQLite only):"]
            lines += behind.map { "  \($0.table): \($0.rows) rows, \($0.why)" }
        }
        lines.append("")
        if report.dryRun {
            lines.append("Run again without --dry-run to copy.")
        } else {
            lines.append(
                "Next: add `store: \(report.target)` to the configuration of every node (this one included), with the password in PGPASSWORD or store_password_file, and start them.")
            lines.append(
                "`hotfolder run` will not start on this node's SQLite state any more; it is kept unchanged as a backup.")
        }
        return lines
    }
}
