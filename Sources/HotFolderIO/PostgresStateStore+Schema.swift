// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import PostgresNIO

extension PostgresStateStore {
    /// The schema's migrations, oldest first, each a list of single statements (the extended query protocol runs one
    /// statement per query). Never edit a shipped migration: add a new one. Applied ones are named in
    /// `hotfolder_migration`.
    ///
    /// Times are `double precision` seconds since 1970 (UTC), as in SQLite; ids are `uuid`; states are ``JobState``
    /// raw values; names are those of SQLite's tables, in snake case.
    static let migrations: [(name: String, statements: [String])] = [
        (
            "pg-v1",
            [
                """
                CREATE TABLE job (
                    id uuid PRIMARY KEY,
                    -- The insertion order, as SQLite's rowid: equal priorities and times are claimed oldest first.
                    seq bigserial NOT NULL,
                    name text NOT NULL,
                    lane text NOT NULL DEFAULT '',
                    state text NOT NULL,
                    failure_category text,
                    failure_message text,
                    priority bigint NOT NULL DEFAULT 0,
                    created_at double precision NOT NULL,
                    updated_at double precision NOT NULL,
                    spec_json bytea NOT NULL,
                    attempts bigint NOT NULL DEFAULT 0,
                    next_attempt_at double precision,
                    output_path text,
                    counters text,
                    pending_disposal text,
                    spec_version bigint NOT NULL DEFAULT 1,
                    film_id uuid,
                    reuse_key text,
                    drop_key text,
                    lease_owner text,
                    lease_until double precision,
                    lease_generation bigint NOT NULL DEFAULT 0
                )
                """,
                "CREATE INDEX job_queue ON job (state, priority DESC, created_at, seq)",
                "CREATE INDEX job_lease ON job (state, lease_until)",
                "CREATE INDEX job_lease_owner ON job (lease_owner) WHERE lease_owner IS NOT NULL",
                "CREATE INDEX job_state_due ON job (state, next_attempt_at)",
                "CREATE INDEX job_drop_key ON job (drop_key) WHERE drop_key IS NOT NULL",
                // History pruning reads finished jobs oldest first, only those older than its cutoff.
                """
                CREATE INDEX job_finished ON job (updated_at)
                WHERE state IN ('done', 'invalid', 'failed', 'cancelled') AND pending_disposal IS NULL
                """,
                """
                CREATE TABLE input_file (
                    id bigserial PRIMARY KEY,
                    job_id uuid NOT NULL REFERENCES job (id) ON DELETE CASCADE,
                    path text NOT NULL,
                    device bigint NOT NULL,
                    inode bigint NOT NULL,
                    size bigint NOT NULL,
                    mtime_ns bigint NOT NULL,
                    sha256 text NOT NULL,
                    moved_to text
                )
                """,
                "CREATE INDEX input_file_job ON input_file (job_id)",
                """
                CREATE TABLE task (
                    id bigserial PRIMARY KEY,
                    job_id uuid NOT NULL REFERENCES job (id) ON DELETE CASCADE,
                    provider text NOT NULL,
                    task_id text NOT NULL,
                    status text NOT NULL,
                    progress bigint,
                    video_url text,
                    expires_at double precision,
                    estimated_time bigint,
                    error_message text,
                    result_json bytea,
                    submitted_at double precision NOT NULL,
                    updated_at double precision NOT NULL,
                    poll_count bigint NOT NULL DEFAULT 0,
                    next_poll_at double precision,
                    active boolean NOT NULL DEFAULT true,
                    UNIQUE (provider, task_id)
                )
                """,
                "CREATE INDEX task_job ON task (job_id, active)",
                "CREATE INDEX task_poll ON task (active, next_poll_at)",
                """
                CREATE TABLE event (
                    id bigserial PRIMARY KEY,
                    job_id uuid NOT NULL REFERENCES job (id) ON DELETE CASCADE,
                    at double precision NOT NULL,
                    kind text NOT NULL,
                    from_state text,
                    to_state text,
                    message text
                )
                """,
                "CREATE INDEX event_job ON event (job_id, id)",
                """
                CREATE TABLE spend (
                    id bigserial PRIMARY KEY,
                    job_id uuid NOT NULL REFERENCES job (id) ON DELETE CASCADE,
                    lane text NOT NULL,
                    day text NOT NULL,
                    month text NOT NULL,
                    estimate double precision NOT NULL,
                    tokens bigint NOT NULL,
                    amount double precision NOT NULL,
                    state text NOT NULL,
                    reserved_at double precision NOT NULL,
                    settled_at double precision
                )
                """,
                "CREATE INDEX spend_job ON spend (job_id)",  // every lookup of a job's spend, and the cascade from job
                "CREATE INDEX spend_day ON spend (day, lane)",
                "CREATE INDEX spend_month ON spend (month)",
                "CREATE TABLE budget_override (cap text PRIMARY KEY, value double precision, set_at double precision NOT NULL)",
                """
                CREATE TABLE budget_alert (
                    cap text NOT NULL,
                    period text NOT NULL,
                    fraction double precision NOT NULL,
                    used double precision NOT NULL,
                    cap_limit double precision NOT NULL,
                    at double precision NOT NULL,
                    announced_at double precision,
                    PRIMARY KEY (cap, period, fraction)
                )
                """,
                "CREATE TABLE drop_key (key text PRIMARY KEY, inserted_at double precision NOT NULL)",
                // The notification outbox (SQLite's v3-notifications): one row per event and target, pending while
                // next_attempt_at is set (then it is also the end of a claim's lease); delivered_at or abandoned_at
                // says how it ended. No foreign key to job: a delivery outlives the job's pruned history.
                """
                CREATE TABLE notification (
                    id bigserial PRIMARY KEY,
                    event_id text NOT NULL,
                    type text NOT NULL,
                    target text NOT NULL,
                    label text NOT NULL,
                    body bytea NOT NULL,
                    created_at double precision NOT NULL,
                    attempts bigint NOT NULL DEFAULT 0,
                    next_attempt_at double precision,
                    delivered_at double precision,
                    abandoned_at double precision,
                    last_error text,
                    UNIQUE (event_id, target)
                )
                """,
                "CREATE INDEX notification_pending ON notification (target, id) WHERE next_attempt_at IS NOT NULL",
                "CREATE INDEX notification_created ON notification (created_at) WHERE next_attempt_at IS NULL",
                """
                CREATE TABLE node (
                    name text PRIMARY KEY,
                    registered_at double precision NOT NULL,
                    last_heartbeat double precision NOT NULL
                )
                """,
            ]
        ),
        (
            "pg-v2-queue-pause",
            [
                """
                CREATE TABLE queue_pause (
                    id integer PRIMARY KEY CHECK (id = 1),
                    category text NOT NULL,
                    reason text NOT NULL,
                    since double precision NOT NULL,
                    next_probe double precision NOT NULL
                )
                """
            ]
        ),
        (
            "pg-v3-films-stalls",
            [
                // Storyboards (SQLite's v4-films): a clip job names its film in `job.film_id`, and its `reuse_key`
                // (its request and its keyframes' content) finds clips made before, with their `output_path`; those
                // columns exist since pg-v1. A film is joined once its clips are all finished (`open` → `joining` →
                // `joined` or `failed`). No foreign key either way, as in SQLite: clips outlive pruned films and the
                // other way round.
                """
                CREATE TABLE film (
                    id uuid PRIMARY KEY,
                    name text NOT NULL,
                    lane text NOT NULL,
                    folder text NOT NULL,
                    clips bigint NOT NULL,
                    state text NOT NULL,
                    output_path text,
                    message text,
                    created_at double precision NOT NULL,
                    updated_at double precision NOT NULL
                )
                """,
                "CREATE INDEX film_unsettled ON film (state) WHERE state IN ('open', 'joining')",
                "CREATE INDEX film_folder ON film (lane, folder)",
                "CREATE INDEX job_film ON job (film_id) WHERE film_id IS NOT NULL",
                "CREATE INDEX job_reuse ON job (reuse_key, state) WHERE reuse_key IS NOT NULL",
                // Stalls already told (SQLite's notificationStall): one row per job and stall (the update time it
                // stalled at), so a stall is told once by whichever node finds it first. No foreign key to job, as
                // in SQLite; pruned with the deliveries.
                """
                CREATE TABLE notification_stall (
                    job_id uuid NOT NULL,
                    since double precision NOT NULL,
                    at double precision NOT NULL,
                    PRIMARY KEY (job_id, since)
                )
                """,
                "CREATE INDEX notification_stall_at ON notification_stall (at)",
                // The prompt the job's request sends, for the dashboard's search (SQLite keeps it in its full-text
                // index): written with the job, read from its description by the inserting node.
                "ALTER TABLE job ADD COLUMN prompt text",
                """
                DO $$
                DECLARE r record;
                BEGIN
                    FOR r IN SELECT id, spec_json FROM job LOOP
                        BEGIN
                            UPDATE job SET prompt = convert_from(r.spec_json, 'UTF8')::jsonb #>> '{request,prompt}'
                            WHERE id = r.id;
                        EXCEPTION WHEN others THEN
                            -- Not JSON: no prompt to search, as in SQLite.
                        END;
                    END LOOP;
                END $$
                """,
                // The reads of the service and the dashboard (SQLite's v4-dashboard, v4-scale, v5-lifecycle): pages
                // newest first by (created_at, seq), all jobs, one state, one lane; jobs done per hour; held inputs
                // and identities; what a job's output path and its inputs still to move are.
                "CREATE INDEX job_created ON job (created_at, seq)",
                "CREATE INDEX job_state_created ON job (state, created_at, seq)",
                "CREATE INDEX job_lane_created ON job (lane, created_at, seq)",
                "CREATE INDEX job_state_updated ON job (state, updated_at)",
                "CREATE INDEX job_output_path ON job (output_path) WHERE output_path IS NOT NULL",
                "CREATE INDEX job_pending ON job (seq) WHERE pending_disposal IS NOT NULL",
                "CREATE INDEX input_file_identity ON input_file (device, inode, size, mtime_ns)",
                "CREATE INDEX input_file_held ON input_file (job_id) WHERE inode <> -1",
            ]
        ),
        (
            "pg-v4-input-path",
            [
                // Which jobs share a file (a manifest's rows, a prompt's variants): their drop keys last until the
                // last of them lets it go (finishDisposal).
                "CREATE INDEX input_file_path ON input_file (path, size, mtime_ns)"
            ]
        ),
    ]

    /// Creates or upgrades the schema; safe when several nodes start at once (the migration table is locked for
    /// the length of each migration's transaction: a lock that ends with it, unlike a session advisory lock).
    public func migrate() async throws {
        let now = clock().timeIntervalSince1970
        try await call("create the migration table") { connection in
            do {
                try await connection.query(
                    "CREATE TABLE IF NOT EXISTS hotfolder_migration (name text PRIMARY KEY, applied_at double precision NOT NULL)",
                    logger: self.logger)
            } catch where ["23505", "42P07", "42710"].contains(Self.sqlState(error)) {
                // Another node created it between our check and our create (the race shows as any of the three:
                // unique_violation on the catalog, duplicate_table, duplicate_object for its row type).
            }
        }
        for migration in Self.migrations {
            // Its own deadline: a schema change may wait for another node's migration or take long on a busy server.
            try await transaction("apply migration \(migration.name)", timeout: max(callTimeout, .seconds(120))) { connection in
                try await connection.query("LOCK TABLE hotfolder_migration IN EXCLUSIVE MODE", logger: self.logger)
                let applied = try await self.rows(
                    connection, "SELECT 1 FROM hotfolder_migration WHERE name = \(migration.name)")
                guard applied.isEmpty else { return }
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                try await connection.query(
                    "INSERT INTO hotfolder_migration (name, applied_at) VALUES (\(migration.name), \(now))",
                    logger: self.logger)
            }
        }
    }

    /// The names of the migrations applied so far, in the order they apply: this version's in its order (they are
    /// applied one after the other under the table's lock), then any of a newer version by the time written. The
    /// times alone cannot order them: when nodes start at once, each writes its own clock's time, and nodes' clocks
    /// are not in step.
    public func appliedMigrations() async throws -> [String] {
        let applied = try await call("read the migrations") { connection in
            try await self.rows(connection, "SELECT name FROM hotfolder_migration ORDER BY applied_at, name")
                .map { try $0[0].decode(String.self) }
        }
        let known = Self.migrations.map(\.name)
        return known.filter(applied.contains) + applied.filter { !known.contains($0) }
    }
}
