// SPDX-License-Identifier: GPL-2.0-or-later
import ArgumentParser
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// `--config FILE`, shared by the commands that read the service configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The configuration file (YAML). Default: $HOTFOLDER_CONFIG, else environment variables and built-in defaults.", valueName: "file"))
    var config: String?

    /// Loads the configuration, printing warnings to stderr; exits 1 with a clear message on errors.
    func load() throws -> ServiceConfiguration {
        let file = config ?? ProcessInfo.processInfo.environment["HOTFOLDER_CONFIG"]
        do {
            let loaded = try ServiceConfigurationLoader().load(file: file)
            for warning in loaded.warnings { Terminal.error("warning: \(warning)") }
            return loaded.configuration
        } catch {
            Terminal.error("hotfolder: \(error)")
            throw ExitCode.failure
        }
    }

    /// Opens the state database, exiting 1 with a clear message when it cannot be opened.
    /// The configured store: the shared PostgreSQL database with `store:` (its pool runs until the command's process
    /// ends), else the state directory's SQLite database.
    func openStore(_ configuration: ServiceConfiguration) async throws -> any ServiceStore {
        do {
            if let (endpoint, warnings) = try configuration.storeEndpoint() {
                for warning in warnings { Terminal.error("warning: " + warning) }
                let store = PostgresStateStore(configuration: endpoint.clientConfiguration, target: endpoint.description)
                Task { await store.run() }
                try await store.migrate()
                return store
            }
            return try SQLiteStateStore(directory: configuration.stateDirectory)
        } catch {
            Terminal.error("hotfolder: \(error)")
            throw ExitCode.failure
        }
    }
}

/// Makes the process-wide logger: one line per event on stderr (journald adds the time).
func makeLogger(level: Logger.Level) -> Logger {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
    var logger = Logger(label: "hotfolder")
    logger.logLevel = level
    return logger
}

/// `hotfolder run`: the service.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the service: watch the inbox, submit jobs, write videos to the outbox.",
        discussion: """
            Logs go to stderr, one line per event (journald-friendly); each job also gets <name>.log in the
            outbox. SIGTERM or SIGINT stops taking new jobs, lets requests under way finish (at most
            shutdown_grace seconds) and exits 0. The API key comes from SEEDANCE_API_KEY or api_key_file.

            The state lives in state_dir (SQLite), or, with `store: postgres://USER@HOST:5432/DATABASE`, in the
            PostgreSQL database several machines share: run the same configuration on each (its own node_name),
            the password in store_password_file or PGPASSWORD. See the README, "Several machines".
            """)

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        Self.limitMallocArenas()
        let configuration = try options.load()
        let key: ResolvedAPIKey
        do {
            key = try ServiceConfigurationLoader().resolveAPIKey(for: configuration)
        } catch {
            Terminal.error("hotfolder: \(error)")
            throw ExitCode.failure
        }
        for warning in key.warnings { Terminal.error("warning: \(warning)") }
        let logger = makeLogger(level: configuration.logLevel)
        do {
            try await ServiceLauncher.run(configuration: configuration, apiKey: key.key.exposedValue, logger: logger)
        } catch {
            logger.critical("hotfolder stopped: \(error)")
            throw ExitCode.failure
        }
    }
}

extension RunCommand {
    /// Keeps glibc to one malloc arena per core (at least two) unless `MALLOC_ARENA_MAX` says otherwise.
    ///
    /// glibc gives threads that allocate at the same time arenas of their own, up to eight per core, and memory freed
    /// in one arena is not reused by another. The service's threads (watcher, planner, database, network) each build
    /// and free big tables at start-up: with 100,000 files in the inbox its peak RSS was two to three times its peak
    /// heap and varied from run to run by up to 60 MB (bench row start100k, issue 14). The per-thread cache glibc keeps
    /// in front of the arenas still serves most small allocations without taking an arena's lock.
    static func limitMallocArenas() {
        #if canImport(Glibc)
            // `mallopt` and `M_ARENA_MAX` (-8 in malloc.h) are not in Swift's Glibc module.
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil, let symbol = dlsym(nil, "mallopt") else { return }
            let arenas = Int32(clamping: max(2, ProcessInfo.processInfo.activeProcessorCount))
            _ = unsafeBitCast(symbol, to: Mallopt.self)(-8, arenas)
        #endif
    }
}

/// `hotfolder status`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show jobs by state, progress, why the queue is paused, and recent failures.")

    @OptionGroup var options: ConfigOptions
    @Flag(help: "Print one JSON document.") var json = false

    func run() async throws {
        let configuration = try options.load()
        let store = try await options.openStore(configuration)
        let report = try await StatusReport.read(store: store, stateDirectory: configuration.stateDirectory, configuration: configuration)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            Terminal.output(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            Terminal.output(report.text)
        }
    }
}

/// `hotfolder retry`.
struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Retry jobs: failed ones go back into the inbox, uncertain ones back into the queue.",
        discussion: """
            Jobs are named by name, id or id prefix (see `hotfolder status`). Retrying an uncertain job may
            pay twice: its first create call may have succeeded.
            """)

    @OptionGroup var options: ConfigOptions
    @Argument(help: "Job names or ids.") var jobs: [String] = []
    @Flag(help: "Retry every failed job.") var failed = false
    @Flag(help: "Retry every uncertain job (accepting a possible double charge).") var uncertain = false

    func validate() throws {
        if jobs.isEmpty && !failed && !uncertain {
            throw ValidationError("name the jobs to retry, or use --failed or --uncertain")
        }
    }

    func run() async throws {
        let configuration = try options.load()
        let store = try await options.openStore(configuration)
        let control = JobControl(store: store, configuration: configuration)
        var (selected, unknown) = try await control.find(jobs)
        if failed { selected += try await store.listJobs(in: [.failed], limit: nil) }
        if uncertain { selected += try await store.listJobs(in: [.uncertain], limit: nil) }
        for query in unknown { Terminal.error("hotfolder retry: no job matches \(query)") }
        let outcome = await control.retry(selected)
        for line in outcome.lines { Terminal.output(line) }
        if selected.isEmpty { Terminal.output("nothing to retry") }
        if outcome.hadErrors || !unknown.isEmpty { throw ExitCode.failure }
    }
}

/// `hotfolder cancel`.
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel jobs that have not finished; their files go to the failed folder.")

    @OptionGroup var options: ConfigOptions
    @Argument(help: "Job names or ids.") var jobs: [String]

    func run() async throws {
        let configuration = try options.load()
        let store = try await options.openStore(configuration)
        let control = JobControl(store: store, configuration: configuration)
        let (selected, unknown) = try await control.find(jobs)
        for query in unknown { Terminal.error("hotfolder cancel: no job matches \(query)") }
        let outcome = await control.cancel(selected, api: nil)
        for line in outcome.lines { Terminal.output(line) }
        if outcome.hadErrors || !unknown.isEmpty { throw ExitCode.failure }
    }
}
