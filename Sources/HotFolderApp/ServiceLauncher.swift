// SPDX-License-Identifier: GPL-2.0-or-later
import AsyncHTTPClient
import Foundation
import HotFolderCore
import HotFolderIO
import Logging
import ServiceLifecycle

/// Builds the service from its configuration (HTTP client, API client, state store) and runs it until
/// SIGTERM or SIGINT, as `hotfolder run` and `hotfolder demo` do.
public enum ServiceLauncher {
    /// Runs the service; returns after a graceful shutdown.
    public static func run(configuration: ServiceConfiguration, apiKey: String, logger: Logger, observer: @escaping @Sendable (ServiceEvent) -> Void = { _ in }) async throws {
        let store = try SQLiteStateStore(directory: configuration.stateDirectory)
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let api = makeAPI(configuration: configuration, apiKey: apiKey, httpClient: httpClient, store: store, logger: logger)
            let service = HotFolderService(configuration: configuration, api: api, store: store, logger: logger, observer: observer)
            let group = ServiceGroup(
                configuration: .init(
                    services: [.init(service: service)],
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
            try await group.run()
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }

    /// The API client for the configured provider.
    public static func makeAPI(
        configuration: ServiceConfiguration, apiKey: String, httpClient: HTTPClient, store: SQLiteStateStore?, logger: Logger
    ) -> any VideoAPI {
        var apiConfiguration = VideoAPIConfiguration(baseURL: configuration.baseURL, apiKey: APIKey(apiKey))
        apiConfiguration.requestTimeout = configuration.requestTimeout.seconds
        switch configuration.provider {
        case .gateway:
            let cache: any UploadCache = store ?? InMemoryUploadCache()
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

