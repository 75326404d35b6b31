// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderIO
import Testing

/// The `store:` URL: what it names, what it refuses, and that no description of it shows the password.
@Suite struct PostgresEndpointTests {
    @Test func aFullURLNamesUserServerPortDatabaseAndTLS() throws {
        let endpoint = try PostgresEndpoint(url: "postgres://hotfolder@db.example:6432/studio?sslmode=verify-full")
        #expect(endpoint.user == "hotfolder" && endpoint.host == "db.example" && endpoint.port == 6432)
        #expect(endpoint.database == "studio" && endpoint.sslMode == .verifyFull && !endpoint.isUnixSocket)
        #expect(endpoint.description == "postgresql://hotfolder@db.example:6432/studio?sslmode=verify-full")
    }

    @Test func theDefaultsAreLibpqs() throws {
        let endpoint = try PostgresEndpoint(url: "postgresql://hotfolder@db.example")
        #expect(endpoint.port == 5432 && endpoint.database == "hotfolder" && endpoint.sslMode == .prefer)
        #expect(endpoint.description == "postgresql://hotfolder@db.example:5432/hotfolder")
    }

    @Test func aSocketFolderIsNamedByTheHostParameter() throws {
        let endpoint = try PostgresEndpoint(url: "postgres://hotfolder@/hotfolder?host=/run/postgresql")
        #expect(endpoint.isUnixSocket && endpoint.host == "/run/postgresql")
        #expect(endpoint.description == "postgresql://hotfolder@/hotfolder?host=/run/postgresql")
    }

    @Test func aPasswordInTheURLIsRefusedWithoutRepeatingIt() {
        do {
            _ = try PostgresEndpoint(url: "postgres://hotfolder:s3cret-pw@db.example/hotfolder")
            Issue.record("a password in the URL was accepted")
        } catch {
            #expect(error.description.contains("PGPASSWORD"))
            #expect(!error.description.contains("s3cret-pw"))
        }
    }

    @Test func badURLsSayWhatToWrite() {
        let refusals: [(String, String)] = [
            ("mysql://hotfolder@db/hotfolder", "postgres://"),
            ("postgres://db.example/hotfolder", "no database user"),
            ("postgres://hotfolder@/hotfolder", "no server"),
            ("postgres://hotfolder@db/hotfolder?sslmode=always", "sslmode 'always' is unknown"),
        ]
        for (url, words) in refusals {
            #expect(throws: PostgresEndpoint.Failure.self) { try PostgresEndpoint(url: url) }
            do { _ = try PostgresEndpoint(url: url) } catch { #expect(error.description.contains(words), "\(url)") }
        }
    }

    @Test func noDescriptionShowsThePassword() throws {
        let endpoint = try PostgresEndpoint(url: "postgres://hotfolder@db.example/hotfolder", password: "s3cret-pw")
        var dumped = ""
        dump(endpoint, to: &dumped)
        for text in [endpoint.description, String(describing: endpoint), String(reflecting: endpoint), "\(endpoint)", dumped] {
            #expect(!text.contains("s3cret-pw"), "\(text)")
        }
        #expect(dumped.contains("redacted"))
    }
}
