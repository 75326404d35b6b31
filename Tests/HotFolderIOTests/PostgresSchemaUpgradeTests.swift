// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
@testable import HotFolderIO
import PostgresNIO
import Testing

/// A database made by an older version (pg-v1 and pg-v2 applied, jobs in it) is brought up to date by the next
/// node that starts: pg-v3-films-stalls adds its tables and fills `job.prompt` from the jobs' descriptions.
@Suite(
    .enabled(if: PostgresCluster.findBinaries() != nil, Comment(rawValue: PostgresCluster.missingMessage)),
    SharedPostgresCluster())
struct PostgresSchemaUpgradeTests {
    @Test func pgV3FillsThePromptsOfJobsMadeBeforeIt() async throws {
        let database = try await StoreMigrationTests.makeDatabase()
        let fox = UUID()
        let broken = UUID()
        let spec = try JSONSerialization.data(withJSONObject: ["request": ["model": "fast", "prompt": "A lighthouse at night"]])
        try await StoreMigrationTests.withClient(database) { client in
            try await client.query(
                "CREATE TABLE hotfolder_migration (name text PRIMARY KEY, applied_at double precision NOT NULL)")
            for migration in PostgresStateStore.migrations.prefix(2) {
                for statement in migration.statements { try await client.query(PostgresQuery(unsafeSQL: statement)) }
                try await client.query("INSERT INTO hotfolder_migration (name, applied_at) VALUES (\(migration.name), 1)")
            }
            for (id, name, body) in [(fox, "fox", spec), (broken, "broken", Data("not json \u{1}".utf8))] {
                try await client.query(
                    """
                    INSERT INTO job (id, name, state, created_at, updated_at, spec_json)
                    VALUES (\(id), \(name), 'ready', 1, 1, \(body))
                    """)
            }
        }
        try await PostgresStateStore.withStore(try StoreMigrationTests.endpoint(database)) { store in
            #expect(try await store.appliedMigrations() == ["pg-v1", "pg-v2-queue-pause", "pg-v3-films-stalls", "pg-v4-input-path"])
            let found = try await store.jobListPage(JobListFilter(query: "lighthouse"), cursor: nil, limit: 10)
            #expect(found.rows.map(\.job.id) == [fox] && found.rows.first?.model == "fast")
            #expect(try await store.jobListPage(JobListFilter(query: "json"), cursor: nil, limit: 10).rows.isEmpty,
                    "a description that is not JSON has no prompt, and does not stop the upgrade")
            #expect(try await store.job(id: broken)?.name == "broken")
            #expect(try await store.filmsToSettle().isEmpty)
        }
    }

    /// Nodes' clocks are not ordered: when two start at once, one may apply a later migration with an earlier time
    /// than the other gave an earlier one (CI saw `twoNodesStartingAtOnceMigrateOnce` list them out of order). The
    /// list follows the migrations' order, not the times the nodes wrote.
    @Test func migrationsAreListedInTheirOrderWhateverTheNodesClocks() async throws {
        let database = try await StoreMigrationTests.makeDatabase()
        try await PostgresStateStore.withStore(try StoreMigrationTests.endpoint(database)) { _ in }
        try await StoreMigrationTests.withClient(database) { client in
            // pg-v4 applied by a node whose clock runs ten seconds behind the one that applied the others.
            try await client.query("UPDATE hotfolder_migration SET applied_at = applied_at - 10 WHERE name = 'pg-v4-input-path'")
            // A migration of a newer version this one does not know comes after its own.
            try await client.query("INSERT INTO hotfolder_migration (name, applied_at) VALUES ('pg-v9-future', 0)")
        }
        let listed = try await PostgresStateStore.withStore(try StoreMigrationTests.endpoint(database)) { store in
            try await store.appliedMigrations()
        }
        #expect(listed == ["pg-v1", "pg-v2-queue-pause", "pg-v3-films-stalls", "pg-v4-input-path", "pg-v9-future"])
    }
}
