// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import PostgresNIO

/// Storyboards' films on PostgreSQL (pg-v3-films-stalls), with the semantics of SQLiteStateStore+Films.swift: films
/// are inserted with their clips by ``recordJobs(_:films:stillThere:)``; a film moves on by compare-and-set, so of
/// two nodes settling the same film at once only one joins it.
extension PostgresStateStore {
    public func film(id: UUID) async throws -> StoredFilm? {
        try await call("read a film") { connection in
            try await self.rows(connection, "SELECT \(unescaped: Self.filmColumns) FROM film WHERE id = \(id)")
                .first.map(Self.decodeFilm)
        }
    }

    public func filmsToSettle() async throws -> [StoredFilm] {
        try await call("find films to join") { connection in
            try await self.rows(
                connection,
                """
                SELECT \(unescaped: Self.filmColumns) FROM film f WHERE f.state IN ('open', 'joining')
                    AND NOT EXISTS (
                        SELECT 1 FROM job j WHERE j.film_id = f.id AND j.state NOT IN (\(unescaped: Self.terminalStates)))
                ORDER BY f.created_at, f.id
                """
            ).map(Self.decodeFilm)
        }
    }

    /// The film's clips in the order they were inserted (the storyboard's).
    public func clips(ofFilm id: UUID) async throws -> [StoredJob] {
        try await jobs(
            "read a film's clips", "SELECT \(unescaped: Self.jobColumns) FROM job WHERE film_id = \(id) ORDER BY seq")
    }

    public func setFilmState(_ id: UUID, from: [FilmState], to: FilmState, outputPath: String?, message: String?) async throws -> Bool {
        let now = clock().timeIntervalSince1970
        return try await call("update a film") { connection in
            try await self.execute(
                connection,
                """
                UPDATE film SET state = \(to.rawValue), output_path = coalesce(\(outputPath), output_path),
                    message = coalesce(\(message), message), updated_at = \(now)
                WHERE id = \(id) AND state = ANY(\(from.map(\.rawValue)))
                RETURNING id
                """) == 1
        }
    }

    public func failedFilms(lane: String, folder: String) async throws -> [StoredFilm] {
        try await call("find failed films") { connection in
            try await self.rows(
                connection,
                """
                SELECT \(unescaped: Self.filmColumns) FROM film
                WHERE lane = \(lane) AND folder = \(folder) AND state = 'failed' ORDER BY created_at, id
                """
            ).map(Self.decodeFilm)
        }
    }

    public func clipsMade(reuseKey: String) async throws -> [(id: UUID, outputPath: String)] {
        try await call("find a clip made before") { connection in
            try await self.rows(
                connection,
                """
                SELECT id, output_path FROM job WHERE reuse_key = \(reuseKey) AND state = 'done' AND output_path IS NOT NULL
                ORDER BY updated_at DESC, seq DESC LIMIT 5
                """
            ).map { (id: try $0[0].decode(UUID.self), outputPath: try $0[1].decode(String.self)) }
        }
    }

    public func pruneFilms(finishedBefore cutoff: Date) async throws -> Int {
        try await call("prune old films") { connection in
            try await self.execute(
                connection,
                """
                DELETE FROM film WHERE state IN ('joined', 'failed') AND updated_at < \(cutoff.timeIntervalSince1970)
                RETURNING id
                """)
        }
    }
}
