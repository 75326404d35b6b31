// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Hummingbird

/// The login form: the token typed once sets an HttpOnly, SameSite=Strict session cookie for the base path.
extension Dashboard {
    func addLoginRoutes(_ router: Router<BasicRequestContext>) {
        router.get(path("/login")) { request, _ in
            loginPage(next: QueryParameters(request.uri.query)["next"], failed: false)
        }
        router.post(path("/login")) { request, _ in
            let form = (try? await Self.form(request)) ?? []
            let typed = form.first { $0.name == "token" }?.value ?? ""
            let next = form.first { $0.name == "next" }?.value
            guard auth.token != nil, auth.accepts(typed), let session = auth.sessionValue else {
                return loginPage(next: next, failed: auth.token != nil)
            }
            var response = DashboardResponses.redirect(safeNext(next))
            response.setCookie(
                Cookie(
                    name: DashboardAuth.cookieName, value: session, maxAge: 30 * 24 * 3600, path: prefix.isEmpty ? "/" : prefix,
                    secure: false, httpOnly: true, sameSite: .strict))
            return response
        }
        router.post(path("/logout")) { _, _ in
            var response = DashboardResponses.redirect(prefix + "/login")
            response.setCookie(
                Cookie(name: DashboardAuth.cookieName, value: "", maxAge: 0, path: prefix.isEmpty ? "/" : prefix, httpOnly: true, sameSite: .strict))
            return response
        }
    }

    /// Only a path on this dashboard, never another site (`//evil.example` or `https://…`).
    func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix(prefix + "/"), !next.hasPrefix("//"), !next.contains("\\"), !next.contains("://") else {
            return prefix + "/"
        }
        return next
    }

    func loginPage(next: String?, failed: Bool) -> Response {
        let e = HTML.escape
        let body: String
        if auth.token == nil {
            body = "<h1>No login needed</h1><p>This dashboard listens on loopback without a token.</p><p><a href=\"\(e(prefix))/\">Overview</a></p>"
        } else {
            body = """
                <h1>Log in</h1>
                \(failed ? "<p class=\"error\" role=\"alert\">That token is not right.</p>" : "")
                <form method="post" action="\(e(prefix))/login" class="login">
                <label for="token">Token (the content of the file named by <code>http.token_file</code>)</label>
                <input type="password" id="token" name="token" autocomplete="current-password" required autofocus>
                <input type="hidden" name="next" value="\(e(safeNext(next)))">
                <button type="submit" id="login">Log in</button></form>
                """
        }
        return DashboardResponses.html(
            HTML.page(title: "Log in", prefix: prefix, current: "", body: body, showNav: false), status: failed ? .unauthorized : .ok)
    }
}
