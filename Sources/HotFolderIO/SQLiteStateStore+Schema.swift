// SPDX-License-Identifier: GPL-2.0-or-later
import GRDB

extension SQLiteStateStore {
    /// The schema's migrations, from the first version on. Never edit a shipped migration: add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // Times are REAL seconds since 1970 (UTC); ids are lowercase UUID text; states are JobState raw values.
            try db.execute(
                sql: """
                    CREATE TABLE job (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        lane TEXT NOT NULL DEFAULT '',
                        state TEXT NOT NULL,
                        failureCategory TEXT,
                        failureMessage TEXT,
                        priority INTEGER NOT NULL DEFAULT 0,
                        createdAt REAL NOT NULL,
                        updatedAt REAL NOT NULL,
                        specJSON BLOB NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        nextAttemptAt REAL,
                        outputPath TEXT
                    );
                    CREATE INDEX job_queue ON job(state, priority DESC, createdAt);
                    CREATE INDEX job_due ON job(nextAttemptAt) WHERE nextAttemptAt IS NOT NULL;
                    CREATE INDEX job_name ON job(name);
                    CREATE INDEX job_updated ON job(updatedAt);

                    CREATE TABLE inputFile (
                        id INTEGER PRIMARY KEY,
                        jobId TEXT NOT NULL REFERENCES job(id) ON DELETE CASCADE,
                        path TEXT NOT NULL,
                        device INTEGER NOT NULL,
                        inode INTEGER NOT NULL,
                        size INTEGER NOT NULL,
                        mtimeNs INTEGER NOT NULL,
                        sha256 TEXT NOT NULL
                    );
                    CREATE INDEX inputFile_job ON inputFile(jobId);
                    CREATE INDEX inputFile_identity ON inputFile(device, inode, size, mtimeNs);
                    CREATE INDEX inputFile_sha256 ON inputFile(sha256);

                    CREATE TABLE task (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        jobId TEXT NOT NULL REFERENCES job(id) ON DELETE CASCADE,
                        provider TEXT NOT NULL,
                        taskId TEXT NOT NULL,
                        status TEXT NOT NULL,
                        progress INTEGER,
                        videoURL TEXT,
                        expiresAt REAL,
                        estimatedTime INTEGER,
                        errorMessage TEXT,
                        resultJSON BLOB,
                        submittedAt REAL NOT NULL,
                        updatedAt REAL NOT NULL,
                        pollCount INTEGER NOT NULL DEFAULT 0,
                        nextPollAt REAL,
                        active INTEGER NOT NULL DEFAULT 1,
                        UNIQUE (provider, taskId)
                    );
                    CREATE INDEX task_job ON task(jobId, active);
                    CREATE INDEX task_poll ON task(active, nextPollAt);

                    CREATE TABLE upload (
                        sha256 TEXT PRIMARY KEY NOT NULL,
                        url TEXT NOT NULL,
                        expiresAt REAL NOT NULL,
                        createdAt REAL NOT NULL
                    );
                    CREATE INDEX upload_expiry ON upload(expiresAt);

                    CREATE TABLE event (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        jobId TEXT NOT NULL REFERENCES job(id) ON DELETE CASCADE,
                        at REAL NOT NULL,
                        kind TEXT NOT NULL,
                        fromState TEXT,
                        toState TEXT,
                        message TEXT
                    );
                    CREATE INDEX event_job ON event(jobId, id);
                    """)
        }
        migrator.registerMigration("v2-lifecycle") { db in
            // Failures per step (JobCounters as 7 comma-separated numbers), the inputs still to move after a crash, the version of
            // specJSON's layout, and the uncertain/held jobs' next search or end of hold through nextAttemptAt.
            try db.execute(
                sql: """
                    ALTER TABLE job ADD COLUMN counters TEXT;
                    ALTER TABLE job ADD COLUMN pendingDisposal TEXT;
                    ALTER TABLE job ADD COLUMN specVersion INTEGER NOT NULL DEFAULT 1;
                    CREATE INDEX job_pending ON job(pendingDisposal) WHERE pendingDisposal IS NOT NULL;
                    CREATE INDEX job_state_due ON job(state, nextAttemptAt);
                    """)
            // Jobs left in `detected` by an older version (never written in practice) are queued.
            try db.execute(sql: "UPDATE job SET state = 'ready' WHERE state = 'detected'")
        }
        migrator.registerMigration("v3-budget") { db in
            // One row per create call's reserved cost (`amount`: the estimate while reserved, the billed figure once
            // settled, 0 once released), dated by the day and month it was reserved in (the service's time zone).
            try db.execute(
                sql: """
                    CREATE TABLE spend (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        jobId TEXT NOT NULL REFERENCES job(id) ON DELETE CASCADE,
                        lane TEXT NOT NULL,
                        day TEXT NOT NULL,
                        month TEXT NOT NULL,
                        estimate REAL NOT NULL,
                        tokens INTEGER NOT NULL,
                        amount REAL NOT NULL,
                        state TEXT NOT NULL,
                        reservedAt REAL NOT NULL,
                        settledAt REAL
                    );
                    CREATE INDEX spend_day ON spend(day, lane);
                    CREATE INDEX spend_month ON spend(month);
                    CREATE INDEX spend_open ON spend(jobId) WHERE state = 'reserved';

                    CREATE TABLE budgetOverride (
                        cap TEXT PRIMARY KEY NOT NULL,
                        value REAL,
                        setAt REAL NOT NULL
                    );

                    CREATE TABLE budgetAlert (
                        cap TEXT NOT NULL,
                        period TEXT NOT NULL,
                        fraction REAL NOT NULL,
                        used REAL NOT NULL,
                        cap_limit REAL NOT NULL,
                        at REAL NOT NULL,
                        announcedAt REAL,
                        PRIMARY KEY (cap, period, fraction)
                    );
                    CREATE INDEX budgetAlert_new ON budgetAlert(at) WHERE announcedAt IS NULL;
                    """)
        }
        migrator.registerMigration("v3-notifications") { db in
            try SQLiteStateStore.registerNotificationTables(db)
        }
        migrator.registerMigration("v4-films") { db in
            // Storyboards: each clip job names its film; a clip's `reuseKey` (its request and its keyframes' content)
            // lets a storyboard dropped again reuse clips already made and paid for. A film is joined once its
            // clips are all finished (`open` → `joining` → `joined` or `failed`).
            try db.execute(
                sql: """
                    ALTER TABLE job ADD COLUMN filmId TEXT;
                    ALTER TABLE job ADD COLUMN reuseKey TEXT;
                    CREATE INDEX job_film ON job(filmId) WHERE filmId IS NOT NULL;
                    CREATE INDEX job_reuse ON job(reuseKey, state) WHERE reuseKey IS NOT NULL;
                    CREATE TABLE film (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        lane TEXT NOT NULL,
                        folder TEXT NOT NULL,
                        clips INTEGER NOT NULL,
                        state TEXT NOT NULL,
                        outputPath TEXT,
                        message TEXT,
                        createdAt REAL NOT NULL,
                        updatedAt REAL NOT NULL
                    );
                    CREATE INDEX film_unsettled ON film(state) WHERE state IN ('open', 'joining');
                    CREATE INDEX film_folder ON film(lane, folder);
                    """)
        }
        migrator.registerMigration("v4-scale") { db in
            try SQLiteStateStore.registerScaleIndexes(db)
        }
        migrator.registerMigration("v4-dashboard") { db in
            // The dashboard's job list, newest first, paged by (createdAt, rowid): all jobs, one state, one lane; and the
            // overview's jobs done per hour (state, updatedAt), read from the index alone.
            try db.execute(
                sql: """
                    CREATE INDEX job_created ON job(createdAt);
                    CREATE INDEX job_state_created ON job(state, createdAt);
                    CREATE INDEX job_lane_created ON job(lane, createdAt);
                    CREATE INDEX job_state_updated ON job(state, updatedAt);
                    """)
        }
        migrator.registerMigration("v5-search") { db in
            try SQLiteStateStore.registerSearchIndex(db)
        }
        migrator.registerMigration("v5-moved-inputs") { db in
            // Where the archive or a failed folder put each input (absolute; NULL while it is in the inbox), so the
            // dashboard shows a finished job's input images from the database's own record.
            try db.execute(sql: "ALTER TABLE inputFile ADD COLUMN movedTo TEXT")
        }
        migrator.registerMigration("v5-spend-by-job") { db in
            // v3's index on a job's spend held only reserved rows, so the job's whole spend (the `job.done` payload,
            // the job page) and the cascade when pruning a job scanned every spend row ever made (found while
            // profiling the burst with a dashboard connected). One full index serves all of them.
            try db.execute(sql: "CREATE INDEX spend_job ON spend(jobId); DROP INDEX spend_open")
        }
        migrator.registerMigration("v5-lease") { db in
            try SQLiteStateStore.registerLeaseTables(db)
        }
        migrator.registerMigration("v5-queue-pause") { db in
            // The queue's pause (a refused key, an empty balance), one row; before, a file in the state directory.
            try db.execute(
                sql: """
                    CREATE TABLE queue_pause (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        category TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        since REAL NOT NULL,
                        next_probe REAL NOT NULL
                    )
                    """)
        }
        migrator.registerMigration("v6-input-path") { db in
            // Which jobs share a file (a manifest's rows, a prompt's variants): their drop keys last until the last
            // of them lets it go (``forgetReleasedDrop``).
            try db.execute(sql: "CREATE INDEX inputFile_path ON inputFile(path, size, mtimeNs)")
        }
        return migrator
    }
}
