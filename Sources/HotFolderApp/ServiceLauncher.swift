// SPDX-License-Identifier: GPL-2.0-or-later
import AsyncHTTPClient
import Foundation
import HotFolderCore
import HotFolderIO
import Logging
import ServiceLifecycle
import UnixSignals

/// Builds the service from its configuration (HTTP client, API client, state store) and runs it until
/// SIGTERM or SIGINT, as `hotfolder run` and `hotfolder demo` do.
public enum ServiceLauncher {
    /// Runs the service; returns after a graceful shutdown.
    /// `onDashboard` is told the dashboard's address once it listens.
    public static func run(
        configuration: ServiceConfiguration, apiKey: String, logger: Logger, observer: @escaping @Sendable (ServiceEvent) -> Void = { _ in },
        onDashboard: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws {
        // Before anything starts: a dashboard open to the network without a token refuses to start.
        let token = configuration.http.enabled ? try configuration.http.loadToken() : nil
        // Held (shared) while the service runs: `hotfolder migrate` refuses to copy a state directory in use.
        let lock = try StateDirectoryLock(directory: configuration.stateDirectory, mode: .shared)
        defer { withExtendedLifetime(lock) {} }
        if let (endpoint, warnings) = try configuration.storeEndpoint() {
            for warning in warnings { logger.warning("\(warning)") }
            let store = PostgresStateStore(
                configuration: endpoint.clientConfiguration, target: endpoint.description, clock: { Date() }, logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { pool in
                pool.addTask { await store.run() }
                defer { pool.cancelAll() }
                do {
                    try await store.migrate()
                } catch {
                    throw StoreUnreachable(endpoint: endpoint.description, reason: "\(error)")
                }
                logger.info("state: the database \(endpoint) shared by the nodes; this node is \(configuration.node)")
                try await run(
                    configuration: configuration, apiKey: apiKey, store: store, uploadCache: nil, token: token, logger: logger,
                    observer: observer, onDashboard: onDashboard)
            }
            return
        }
        let marker = (configuration.stateDirectory as NSString).appendingPathComponent(StoreMigration.markerFileName)
        if FileManager.default.fileExists(atPath: marker) {
            // The jobs now live in PostgreSQL: working on this copy too would submit them twice.
            throw StoreMigration.Failure.movedToPostgres(marker: marker)
        }
        let store = try SQLiteStateStore(directory: configuration.stateDirectory)
        try await run(
            configuration: configuration, apiKey: apiKey, store: store, uploadCache: store, token: token, logger: logger,
            observer: observer, onDashboard: onDashboard)
    }

    /// The shared database could not be reached or prepared at start.
    struct StoreUnreachable: Error, CustomStringConvertible {
        var endpoint: String
        var reason: String
        var description: String {
            "cannot use the shared database \(endpoint): \(reason). Check that PostgreSQL runs and accepts this node "
                + "(the store: URL, PGPASSWORD or store_password_file, pg_hba.conf); systemd starts the service again."
        }
    }

    /// Runs the service on an open store.
    static func run(
        configuration: ServiceConfiguration, apiKey: String, store: any ServiceStore, uploadCache: (any UploadCache)?,
        token: String?, logger: Logger, observer: @escaping @Sendable (ServiceEvent) -> Void,
        onDashboard: @escaping @Sendable (String) -> Void
    ) async throws {
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let api = makeAPI(configuration: configuration, apiKey: apiKey, httpClient: httpClient, uploadCache: uploadCache, logger: logger)
            let service = HotFolderService(configuration: configuration, api: api, store: store, logger: logger, observer: observer)
            var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: service)]
            if configuration.http.enabled {
                let http = configuration.http
                let dashboard = DashboardServer(service: service, token: token, api: api, logger: logger) { port in
                    let host = http.host == "0.0.0.0" || http.host == "::" ? "127.0.0.1" : http.host
                    onDashboard("http://\(host.contains(":") ? "[\(host)]" : host):\(port)\(http.prefix)/")
                }
                services.append(.init(service: dashboard))
            }
            let group = ServiceGroup(
                configuration: .init(
                    services: services,
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
            let reloads = Task { await reloadOnHangUp(service: service, configuration: configuration, logger: logger) }
            defer { reloads.cancel() }
            try await group.run()
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }

    /// On SIGHUP, reads the configuration file again and puts its budget, schedule and time zone in force.
    static func reloadOnHangUp(service: HotFolderService, configuration: ServiceConfiguration, logger: Logger) async {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals {
            guard let file = configuration.configFile else {
                logger.notice("SIGHUP: there is no configuration file to read again (settings come from the environment)")
                continue
            }
            do {
                let loaded = try ServiceConfigurationLoader().load(file: file)
                for warning in loaded.warnings { logger.warning("\(warning)") }
                let (changed, needRestart) = service.reload(loaded.configuration)
                logger.notice("SIGHUP: \(file) read again; \(changed ? "the new budget, schedule and time zone are in force and held jobs are checked again" : "budget, schedule and time zone unchanged")")
                if !needRestart.isEmpty {
                    logger.warning("SIGHUP: these settings changed but take effect only after a restart: \(needRestart.joined(separator: ", "))")
                }
            } catch {
                logger.error("SIGHUP: the configuration was not reloaded, the previous one stays in force: \(error)")
            }
        }
    }

    /// The API client for the configured provider.
    public static func makeAPI(
        configuration: ServiceConfiguration, apiKey: String, httpClient: HTTPClient, uploadCache: (any UploadCache)?, logger: Logger
    ) -> any VideoAPI {
        var apiConfiguration = VideoAPIConfiguration(baseURL: configuration.baseURL, apiKey: APIKey(apiKey))
        apiConfiguration.requestTimeout = configuration.requestTimeout.seconds
        switch configuration.provider {
        case .gateway:
            let cache: any UploadCache = uploadCache ?? InMemoryUploadCache()
            return GatewayVideoAPI(httpClient: httpClient, configuration: apiConfiguration, uploadCache: cache, logger: logger)
        case .ark:
            // `base_url` is the API root (`https://ark…/api/v3`, the default); a bare host (an emulator) gets
            // Ark's `/api/v3` added, rather than `/api/v3/api/v3`.
            let path = URL(string: configuration.baseURL)?.path ?? ""
            let prefix = path.isEmpty || path == "/" ? "/api/v3" : ""
            if prefix.isEmpty, configuration.baseURL.hasSuffix("/") { apiConfiguration.baseURL.removeLast() }
            return ArkVideoAPI(httpClient: httpClient, configuration: apiConfiguration, pathPrefix: prefix, logger: logger)
        }
    }
}

