// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore

/// Where a storyboard's film is: waiting for its clips, being joined, joined, or failed (a clip failed).
public enum FilmState: String, Sendable, Hashable, CaseIterable {
    case open, joining, joined, failed
}

/// A film to record with its clips (``SQLiteStateStore/insertJobs(_:films:)``).
public struct NewFilm: Sendable, Hashable {
    public var id: UUID
    /// The storyboard folder's name, the film's output name.
    public var name: String
    /// The outbox lane the clips and the film go to.
    public var lane: String
    /// The storyboard folder, relative to the inbox.
    public var folder: String
    /// How many clips it joins.
    public var clips: Int

    public init(id: UUID = UUID(), name: String, lane: String, folder: String, clips: Int) {
        self.id = id
        self.name = name
        self.lane = lane
        self.folder = folder
        self.clips = clips
    }
}

/// One row of the `film` table.
public struct StoredFilm: Sendable, Hashable {
    public var id: UUID
    public var name: String
    public var lane: String
    public var folder: String
    public var clips: Int
    public var state: FilmState
    /// For `joining`/`joined`: the film's reserved output stem path; for `failed`: its error file.
    public var outputPath: String?
    /// Why it failed, or what was joined.
    public var message: String?
    public var updatedAt: Date
}

extension SQLiteStateStore {
    static func insertFilm(_ db: Database, _ film: NewFilm, now: Date) throws {
        try db.execute(
            sql: """
                INSERT INTO film (id, name, lane, folder, clips, state, createdAt, updatedAt)
                VALUES (?, ?, ?, ?, ?, 'open', ?, ?)
                """,
            arguments: [film.id.lowercasedString, film.name, film.lane, film.folder, film.clips, now.timeIntervalSince1970, now.timeIntervalSince1970])
    }

    private static let filmColumns = "id, name, lane, folder, clips, state, outputPath, message, updatedAt"

    private static func decodeFilm(_ row: Row) throws -> StoredFilm {
        StoredFilm(
            id: try uuid(row[0], table: "film"), name: row[1], lane: row[2], folder: row[3], clips: row[4],
            state: FilmState(rawValue: row[5]) ?? .failed, outputPath: row[6], message: row[7], updatedAt: date(row[8]))
    }

    /// The film with this id, or nil.
    public func film(_ id: UUID) throws -> StoredFilm? {
        try read("read a film") { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.filmColumns) FROM film WHERE id = ?", arguments: [id.lowercasedString])
                .map(Self.decodeFilm)
        }
    }

    /// Films not yet joined or failed whose clips have all finished: what is left to do for them.
    public func filmsToSettle() throws -> [StoredFilm] {
        let finished = JobState.allCases.filter(\.isTerminal).map { "'\($0.rawValue)'" }.joined(separator: ",")
        return try read("find films to join") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.filmColumns) FROM film f WHERE f.state IN ('open', 'joining')
                        AND NOT EXISTS (SELECT 1 FROM job j WHERE j.filmId = f.id AND j.state NOT IN (\(finished)))
                    """
            ).map(Self.decodeFilm)
        }
    }

    /// The clip jobs of a film (in no particular order: their specs say where each goes).
    public func filmClips(_ id: UUID) throws -> [StoredJob] {
        try read("read a film's clips") { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.jobColumns) FROM job WHERE filmId = ?", arguments: [id.lowercasedString])
                .map(Self.decodeJob)
        }
    }

    /// Moves a film on if, and only if, it is in one of `from` now; true when it did.
    @discardableResult
    public func updateFilm(_ id: UUID, from: [FilmState], to: FilmState, outputPath: String?, message: String?) throws -> Bool {
        try write("update a film") { db in
            try db.execute(
                sql: """
                    UPDATE film SET state = ?, outputPath = coalesce(?, outputPath), message = coalesce(?, message), updatedAt = ?
                    WHERE id = ? AND state IN (\(from.map { "'\($0.rawValue)'" }.joined(separator: ",")))
                    """,
                arguments: [to.rawValue, outputPath, message, clock().timeIntervalSince1970, id.lowercasedString])
            return db.changesCount == 1
        }
    }

    /// Earlier failed films of the same storyboard (their error files are stale once it is joined).
    public func failedFilms(lane: String, folder: String) throws -> [StoredFilm] {
        try read("find failed films") { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.filmColumns) FROM film WHERE lane = ? AND folder = ? AND state = 'failed'",
                arguments: [lane, folder]
            ).map(Self.decodeFilm)
        }
    }

    /// Finished clips made with the same request from the same keyframes, newest first, with their output paths.
    public func clipsMadeBefore(reuseKey: String) throws -> [(id: UUID, outputPath: String)] {
        try read("find a clip made before") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, outputPath FROM job WHERE reuseKey = ? AND state = 'done' AND outputPath IS NOT NULL
                    ORDER BY updatedAt DESC LIMIT 5
                    """,
                arguments: [reuseKey]
            ).map { (try Self.uuid($0[0], table: "job"), $0[1]) }
        }
    }

    /// Forgets films settled before `cutoff` (their clips' history goes with ``pruneHistory(before:now:)``).
    @discardableResult
    public func pruneFilms(before cutoff: Date) throws -> Int {
        try write("prune old films") { db in
            try db.execute(sql: "DELETE FROM film WHERE state IN ('joined', 'failed') AND updatedAt < ?", arguments: [cutoff.timeIntervalSince1970])
            return db.changesCount
        }
    }
}
