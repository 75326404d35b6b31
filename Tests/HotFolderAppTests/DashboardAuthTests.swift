// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import NIOHTTP1
import SeedanceEmulator
import Testing

/// Who may use the dashboard: the `http:` settings, the token (Bearer and login cookie), the Origin check.
@Suite struct DashboardSettingsTests {
    @Test func httpSectionIsReadAndChecked() throws {
        let loader = ServiceConfigurationLoader(environment: [:], currentDirectory: "/tmp", homeDirectory: "/home/x")
        let yaml = "inbox: /srv/inbox\nhttp:\n  listen: \"0.0.0.0:9000\"\n  token_file: token.txt\n  base_path: /hotfolder/\n"
        let http = try loader.load(yaml: yaml, file: "/etc/hotfolder/hotfolder.yaml").configuration.http
        #expect(http.host == "0.0.0.0" && http.port == 9000)
        #expect(http.tokenFile == "/etc/hotfolder/token.txt")
        #expect(http.prefix == "/hotfolder")
        #expect(!http.isLoopback)
        #expect(ServiceConfiguration(inbox: "/i", stateDirectory: "/s").http.listen == "127.0.0.1:8470", "on by default, loopback")

        #expect(throws: ConfigurationError.self) { try loader.load(yaml: "inbox: /i\nhttp:\n  listen: nowhere\n", file: "/c.yaml") }
        #expect(throws: ConfigurationError.self) { try loader.load(yaml: "inbox: /i\nhttp:\n  base_path: hotfolder\n", file: "/c.yaml") }
        #expect(throws: ConfigurationError.self) { try loader.load(yaml: "inbox: /i\nhttp:\n  tokenfile: x\n", file: "/c.yaml") }
        let v6 = try loader.load(yaml: "inbox: /i\nhttp:\n  listen: \"[::1]:8470\"\n", file: "/c.yaml").configuration.http
        #expect(v6.host == "::1" && v6.isLoopback)
    }

    @Test func anyOtherAddressWithoutATokenRefusesToStart() throws {
        var http = HTTPSettings()
        http.host = "0.0.0.0"
        #expect(throws: DashboardSetupError.tokenRequired(listen: "0.0.0.0:8470")) { try http.loadToken() }
        #expect("\(DashboardSetupError.tokenRequired(listen: "0.0.0.0:8470"))".contains("token_file"))
        http.host = "127.0.0.1"
        #expect(try http.loadToken() == nil)

        let file = NSTemporaryDirectory() + "hotfolder-token-\(UUID().uuidString)"
        defer { unlink(file) }
        try "short\n".write(toFile: file, atomically: true, encoding: .utf8)
        http.host = "0.0.0.0"
        http.tokenFile = file
        #expect(throws: DashboardSetupError.tokenTooShort(path: file)) { try http.loadToken() }
        try "0123456789abcdef0123456789abcdef\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try http.loadToken() == "0123456789abcdef0123456789abcdef")
        let error = DashboardSetupError.tokenFileUnreadable(path: file, reason: "x")
        #expect(!"\(error)".contains("0123456789abcdef"))
    }

    @Test func launcherRefusesBeforeStartingAnything() async throws {
        var configuration = ServiceConfiguration(inbox: NSTemporaryDirectory(), stateDirectory: NSTemporaryDirectory() + "hf-never-\(UUID().uuidString)")
        configuration.http.host = "192.0.2.10"
        await #expect(throws: DashboardSetupError.self) {
            try await ServiceLauncher.run(configuration: configuration, apiKey: "k", logger: .init(label: "t"))
        }
        #expect(!FileManager.default.fileExists(atPath: configuration.stateDirectory), "nothing was started")
    }
}

extension ServiceSuites {
@Suite struct DashboardAuthTests {
    static let token = "test-token-0123456789abcdef-MARKER"

    @Test func tokenByBearerOrLoginCookie() async throws {
        let folders = try ServiceFolders("dash-auth")
        let emulator = try await startEmulator()
        try await withDashboard(folders, emulator: emulator, token: Self.token) { http, _, _ in
            #expect(try await http.send("/healthz").status == 200, "health checks need no token")
            let anonymous = try await http.send("/api/v1/status")
            #expect(anonymous.status == 401)
            #expect(anonymous.headers["WWW-Authenticate"].first?.hasPrefix("Bearer") == true)
            #expect(try await http.send("/metrics").status == 401)
            let page = try await http.send("/jobs?state=done")
            #expect(page.status == 303)
            #expect(page.headers["Location"].first?.hasPrefix("/login?next=") == true)
            #expect(try await http.send("/api/v1/status", headers: [("Authorization", "Bearer wrong")]).status == 401)
            #expect(try await http.send("/api/v1/status", headers: [("Authorization", "Bearer \(Self.token)")]).status == 200)

            let form = [("Content-Type", "application/x-www-form-urlencoded")]
            let wrong = try await http.send("/login", method: .POST, headers: form, body: "token=nope&next=%2Fjobs")
            #expect(wrong.status == 401)
            #expect(wrong.headers["Set-Cookie"].isEmpty)
            let login = try await http.send("/login", method: .POST, headers: form, body: "token=\(Self.token)&next=%2Fjobs")
            #expect(login.status == 303)
            #expect(login.headers["Location"].first == "/jobs")
            let cookie = try #require(login.headers["Set-Cookie"].first)
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
            #expect(!cookie.contains(Self.token), "the cookie holds a hash, not the token")
            let session = String(cookie.split(separator: ";")[0])
            #expect(try await http.send("/jobs", headers: [("Cookie", session)]).status == 200)
            #expect(try await http.send("/api/v1/status", headers: [("Cookie", session)]).status == 200)

            let elsewhere = try await http.send("/login", method: .POST, headers: form, body: "token=\(Self.token)&next=https%3A%2F%2Fevil.example%2F")
            #expect(elsewhere.headers["Location"].first == "/", "never redirects to another site")

            // A state-changing request with the cookie must come from this origin.
            let id = UUID().uuidString
            let foreign = try await http.send("/api/v1/jobs/\(id)/retry", method: .POST, headers: [("Cookie", session), ("Origin", "http://evil.example")])
            #expect(foreign.status == 403)
            let noOrigin = try await http.send("/api/v1/jobs/\(id)/retry", method: .POST, headers: [("Cookie", session)])
            #expect(noOrigin.status == 403)
            let host = String(http.base.dropFirst("http://".count))
            let own = try await http.send("/api/v1/jobs/\(id)/retry", method: .POST, headers: [("Cookie", session), ("Origin", "http://\(host)")])
            #expect(own.status == 404, "same origin passes the guard; the job does not exist")
            let bearer = try await http.send("/api/v1/jobs/\(id)/retry", method: .POST, headers: [("Authorization", "Bearer \(Self.token)")])
            #expect(bearer.status == 404, "a Bearer client (not a browser) needs no Origin")
        }
        await emulator.shutdown()
    }

    @Test func withoutATokenOnLoopbackOriginIsStillChecked() async throws {
        let folders = try ServiceFolders("dash-origin")
        let emulator = try await startEmulator()
        try await withDashboard(folders, emulator: emulator) { http, _, _ in
            #expect(try await http.send("/").status == 200)
            let id = UUID().uuidString
            let foreign = try await http.send("/api/v1/jobs/\(id)/cancel", method: .POST, headers: [("Origin", "http://evil.example")])
            #expect(foreign.status == 403, "a page elsewhere cannot make the browser cancel jobs")
        }
        await emulator.shutdown()
    }

    @Test func basePathPrefixesEveryRouteAndLink() async throws {
        let folders = try ServiceFolders("dash-base")
        let emulator = try await startEmulator()
        try await withDashboard(folders, emulator: emulator, configure: { $0.http.basePath = "/hf/" }) { http, _, _ in
            #expect(http.base.hasSuffix("/hf"))
            #expect(try await http.send("/api/v1/status").status == 200)
            let overview = try await http.send("/")
            #expect(overview.status == 200)
            #expect(overview.body.contains("href=\"/hf/jobs\"") && overview.body.contains("/hf/static/app.js"), "\(overview.body)")
            let root = String(http.base.dropLast(3))
            let outside = try await http.client.execute(.init(url: root + "/api/v1/status"), timeout: .seconds(5))
            #expect(outside.status == .notFound)
        }
        await emulator.shutdown()
    }
}
}
