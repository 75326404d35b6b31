// SPDX-License-Identifier: GPL-2.0-or-later
import GRDB

extension SQLiteStateStore {
    /// Migration v4-scale: what start-up, `hotfolder status` and the history pruner read no longer grows with
    /// every job ever made (issue 14: a million finished jobs).
    ///
    /// - `inputFile_held`: the inputs still held in the inbox (a partial index; finished jobs' moved inputs have
    ///   inode -1), read at every start.
    /// - `jobCount`: jobs per state, kept by triggers, so counting them is one row per state.
    static func registerScaleIndexes(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE INDEX inputFile_held ON inputFile(jobId) WHERE inode != -1;

                CREATE TABLE jobCount (state TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL) WITHOUT ROWID;
                INSERT INTO jobCount (state, n) SELECT state, COUNT(*) FROM job GROUP BY state;
                CREATE TRIGGER jobCount_insert AFTER INSERT ON job BEGIN
                    INSERT INTO jobCount (state, n) VALUES (NEW.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + 1;
                END;
                CREATE TRIGGER jobCount_delete AFTER DELETE ON job BEGIN
                    UPDATE jobCount SET n = n - 1 WHERE state = OLD.state;
                END;
                CREATE TRIGGER jobCount_update AFTER UPDATE OF state ON job WHEN OLD.state != NEW.state BEGIN
                    UPDATE jobCount SET n = n - 1 WHERE state = OLD.state;
                    INSERT INTO jobCount (state, n) VALUES (NEW.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + 1;
                END;
                """)
    }
}
