// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB

extension SQLiteStateStore {
    /// Migration v5-search: the dashboard's search by name or prompt reads a full-text index instead of every row
    /// (issue 11: ≤ 50 ms p99 with 100,000 jobs, also when nothing matches).
    ///
    /// `jobSearch` is an FTS5 table with the trigram tokenizer (case-insensitive substrings of 3 characters or
    /// more), one row per job under the job's rowid, holding its name and the prompt its request sends. Triggers
    /// keep it in step with `job`; a job saved without a new name or prompt (every state change) leaves it alone.
    /// It keeps its own copy of the text, which the search of 1 or 2 characters scans (trigrams cannot find it).
    static func registerSearchIndex(_ db: Database) throws {
        let prompt = { (row: String) in
            """
            coalesce(CASE WHEN json_valid(CAST(\(row).specJSON AS TEXT))
                THEN json_extract(CAST(\(row).specJSON AS TEXT), '$.request.prompt') END, '')
            """
        }
        try db.execute(
            sql: """
                CREATE VIRTUAL TABLE jobSearch USING fts5(name, prompt, tokenize = 'trigram');
                INSERT INTO jobSearch (rowid, name, prompt) SELECT rowid, name, \(prompt("job")) FROM job;
                CREATE TRIGGER jobSearch_insert AFTER INSERT ON job BEGIN
                    INSERT INTO jobSearch (rowid, name, prompt) VALUES (NEW.rowid, NEW.name, \(prompt("NEW")));
                END;
                CREATE TRIGGER jobSearch_delete AFTER DELETE ON job BEGIN
                    DELETE FROM jobSearch WHERE rowid = OLD.rowid;
                END;
                CREATE TRIGGER jobSearch_update AFTER UPDATE OF name, specJSON ON job
                WHEN OLD.name IS NOT NEW.name OR (OLD.specJSON IS NOT NEW.specJSON AND \(prompt("OLD")) IS NOT \(prompt("NEW")))
                BEGIN
                    DELETE FROM jobSearch WHERE rowid = OLD.rowid;
                    INSERT INTO jobSearch (rowid, name, prompt) VALUES (NEW.rowid, NEW.name, \(prompt("NEW")));
                END;
                """)
    }

    /// How a search's text is looked up: the trigram index for 3 characters or more, a scan of the index's copy of
    /// names and prompts for fewer.
    struct SearchTerm {
        /// `job.rowid IN (…)`: the rowids of the jobs whose name or prompt contains the text, optionally within a
        /// range of rowids (`?` placeholders for the range follow the term's own arguments).
        let matchingRowids: (_ ranged: Bool) -> String
        /// The term's own arguments.
        let arguments: StatementArguments

        init?(_ text: String?) {
            guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            if text.unicodeScalars.count >= 3 {
                // One FTS5 string: quotes doubled, so `"`, `*`, `:`, `(`, `-`, `AND`… are text, never query syntax.
                arguments = ["\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""]
                matchingRowids = { ranged in
                    "SELECT rowid FROM jobSearch WHERE jobSearch MATCH ?" + (ranged ? " AND rowid BETWEEN ? AND ?" : "")
                }
            } else {
                let pattern =
                    "%" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                    .replacingOccurrences(of: "_", with: "\\_") + "%"
                arguments = [pattern, pattern]
                // FTS5's content table (`c0` name, `c1` prompt) is a plain table: a range or full scan of short rows.
                matchingRowids = { ranged in
                    "SELECT id FROM jobSearch_content WHERE (c0 LIKE ? ESCAPE '\\' OR c1 LIKE ? ESCAPE '\\')"
                        + (ranged ? " AND id BETWEEN ? AND ?" : "")
                }
            }
        }
    }

    /// How many of the newest jobs a search looks at first (see `searchCondition`).
    static func searchWindow(limit: Int) -> Int { max(2_000, 40 * limit) }

    /// The condition (and its arguments) that keeps the jobs matching `term` among those `conditions` select, for
    /// a page of `limit` rows.
    ///
    /// A common word matches thousands of jobs, and sorting them all by date costs more than the 50 ms a page
    /// may take; a rare one matches few. So the newest `searchWindow` jobs the other conditions select are
    /// searched first, through the index restricted to their rowids: when they hold a page, that is the page.
    /// Otherwise the word is rare among them, and every match is read and sorted.
    func searchCondition(
        _ db: Database, term: SearchTerm, conditions: [String], arguments: StatementArguments, limit: Int
    ) throws -> (condition: String, arguments: StatementArguments, complete: Bool) {
        let window = Self.searchWindow(limit: limit)
        let keys = try Row.fetchAll(
            db,
            sql: """
                SELECT job.rowid, job.createdAt FROM job
                \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
                ORDER BY job.createdAt DESC, job.rowid DESC LIMIT ?
                """,
            arguments: arguments + [window])
        guard keys.count == window, let last = keys.last else {
            // Fewer jobs than the window: searching them all is the whole answer.
            return ("job.rowid IN (\(term.matchingRowids(false)))", term.arguments, true)
        }
        var low = Int64.max
        var high = Int64.min
        for key in keys {
            let rowid: Int64 = key[0]
            low = min(low, rowid)
            high = max(high, rowid)
        }
        let lastRowid: Int64 = last[0]
        let lastCreatedAt: Double = last[1]
        return (
            "job.rowid IN (\(term.matchingRowids(true))) AND (job.createdAt, job.rowid) >= (?, ?)",
            term.arguments + [low, high, lastCreatedAt, lastRowid], false
        )
    }
}
