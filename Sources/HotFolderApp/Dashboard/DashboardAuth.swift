// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Hummingbird

/// Who may use the dashboard: with a token, a request must carry it as `Authorization: Bearer` or in the session
/// cookie the login form sets; without one (loopback only), everyone on this machine may.
struct DashboardAuth: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The token; nil when none is configured.
    let token: String?

    /// Never the token: ServiceLifecycle logs its services by reflection.
    var description: String { token == nil ? "DashboardAuth(no token)" : "DashboardAuth([redacted token])" }
    var debugDescription: String { description }
    var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    /// The cookie the login form sets.
    static let cookieName = "hotfolder_session"

    /// The session cookie's value: a hash of the token, so the cookie never holds the token itself.
    var sessionValue: String? {
        token.map { SHA256.hex(of: Data("hotfolder-dashboard-session:\($0)".utf8)) }
    }

    /// How a request proved who it is.
    enum Credential {
        case none, bearer, cookie, notRequired
    }

    /// Which credential the request carries that matches; `.none` when it carries none that matches.
    func credential(of request: Request) -> Credential {
        guard let token else { return .notRequired }
        if let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            Self.equal(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces), token)
        {
            return .bearer
        }
        if let cookie = request.cookies[Self.cookieName]?.value, let expected = sessionValue, Self.equal(cookie, expected) {
            return .cookie
        }
        return .none
    }

    /// Whether the token typed into the login form is right.
    func accepts(_ typed: String) -> Bool {
        guard let token else { return true }
        return Self.equal(typed.trimmingCharacters(in: .whitespacesAndNewlines), token)
    }

    /// Compares in time that does not depend on where the strings differ.
    static func equal(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<min(x.count, y.count) { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}

/// Lets a request through when it may be served: open paths always; the rest with a credential; state-changing
/// requests only from the dashboard's own origin (a page elsewhere cannot make a browser retry or cancel jobs).
struct DashboardGuard: RouterMiddleware {
    typealias Context = BasicRequestContext
    let dashboard: Dashboard

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let prefix = dashboard.prefix
        let path = request.uri.path
        let relative = path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
        let open = ["/healthz", "/readyz", "/login", "/static/app.css", "/static/app.js"].contains(relative)
        let credential = dashboard.auth.credential(of: request)
        if !open, case .none = credential {
            if relative.hasPrefix("/api/") || relative == "/metrics" || request.method != .get {
                var response = DashboardResponses.error(.unauthorized, "A token is needed: send `Authorization: Bearer <token>` or log in.")
                response.headers[.wwwAuthenticate] = "Bearer realm=\"hotfolder\""
                return response
            }
            let target = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            return DashboardResponses.redirect("\(prefix)/login?next=\(DashboardResponses.queryEscape(target))")
        }
        if request.method != .get, request.method != .head, !sameOrigin(request, credential: credential) {
            return DashboardResponses.error(.forbidden, "This request came from another site (its Origin header does not match); it was refused.")
        }
        return try await next(request, context)
    }

    /// A browser names the page a request came from in `Origin`; it must be this server (`Host`, or the proxy's
    /// `X-Forwarded-Host`). A request without `Origin` is not from a browser page, except one carrying the
    /// session cookie, which must say where it came from.
    func sameOrigin(_ request: Request, credential: DashboardAuth.Credential) -> Bool {
        guard let origin = request.headers[.origin] else {
            if case .cookie = credential { return false }
            return true
        }
        guard let url = URL(string: origin), let host = url.host else { return false }
        let originHost = url.port.map { "\(host):\($0)" } ?? host
        let forwarded = request.headers[.init("X-Forwarded-Host")!]?.split(separator: ",").first
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let candidates = [forwarded, request.head.authority].compactMap { $0?.lowercased() }
        return candidates.contains(originHost.lowercased())
    }
}
