// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The web dashboard, JSON API, live feed and metrics of a running ``HotFolderService``: one more `Service` in
/// `hotfolder run`'s group, on `http.listen` (loopback by default).
///
/// It reads the store and the service's health; the only things it changes are the ones `hotfolder retry` and
/// `hotfolder cancel` change (through ``JobControl``). Files are served only where the database names them.
public struct DashboardServer: Service, CustomStringConvertible {
    let dashboard: Dashboard
    let logger: Logger
    let onListening: @Sendable (Int) -> Void

    /// Creates the server for `service`.
    ///
    /// - Parameters:
    ///   - token: the access token read by ``HTTPSettings/loadToken()`` (nil: no login, loopback only).
    ///   - api: the provider's client, so Cancel can cancel a task already created.
    ///   - onListening: told the bound port once the server listens (a port of 0 picks a free one).
    public init(
        service: HotFolderService, token: String?, api: (any VideoAPI)? = nil, logger: Logger,
        onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        let context = service.context
        dashboard = Dashboard(
            context: context, settings: context.configuration.http, auth: DashboardAuth(token: token),
            control: JobControl(store: context.store, configuration: context.configuration), api: api)
        self.logger = logger
        self.onListening = onListening
    }

    /// `DashboardServer(127.0.0.1:8470/)`, for the service group's log (never the token).
    public var description: String { "DashboardServer(\(dashboard.settings.listen)\(dashboard.prefix)/)" }

    /// Serves until a graceful shutdown; live-feed clients are disconnected first so it can finish.
    public func run() async throws {
        let settings = dashboard.settings
        let feed = dashboard.context.store.liveFeed
        let onListening = self.onListening
        let logger = self.logger
        let application = Application(
            router: dashboard.router(),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? settings.port
                logger.info("dashboard on http://\(settings.host.contains(":") ? "[\(settings.host)]" : settings.host):\(port)\(settings.prefix)/")
                onListening(port)
            },
            logger: logger)
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        try await application.run()
                    } catch {
                        throw DashboardSetupError.cannotListen(listen: settings.listen, reason: "\(error)")
                    }
                }
                group.addTask {
                    // A comment line every 15 s keeps proxies from closing idle live feeds and finds clients that left.
                    while !Task.isCancelled {
                        try await Task.sleep(for: .seconds(15))
                        feed.publish(name: "", json: "")
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            feed.finishAll()
        }
    }
}

/// Everything the dashboard's routes share.
struct Dashboard: Sendable {
    let context: ServiceContext
    let settings: HTTPSettings
    let auth: DashboardAuth
    let control: JobControl
    let api: (any VideoAPI)?
    /// Jobs done per hour, read at most every 5 s.
    let throughput = RecentValue<[Int]>(lifetime: .seconds(5))

    var store: any ServiceStore { context.store }
    /// The base path prefix (`""` or `/hotfolder`).
    var prefix: String { settings.prefix }

    /// Every route, behind the authentication middleware.
    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: DashboardGuard(dashboard: self))
        addHealthRoutes(router)
        addAPIRoutes(router)
        addPageRoutes(router)
        addFileRoutes(router)
        addLoginRoutes(router)
        return router
    }

    /// A route path under the base path.
    func path(_ route: String) -> RouterPath {
        RouterPath(prefix + route)
    }
}

extension HotFolderService {
    /// The service's live feed of job changes and events (what the dashboard's `/api/v1/events` sends).
    public var liveFeed: LiveFeed { context.store.liveFeed }

    /// The service's metrics registry.
    public var metrics: ServiceMetrics { context.metrics }

    /// How the service's inbox watcher is doing.
    public var watchHealth: WatchHealth { context.watchHealth }
}
