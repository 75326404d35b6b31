// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

/// Storyboard films in the store: recorded with their clips, settled only once every clip has finished, moved on
/// by compare-and-set, and clips found again by their reuse key.
@Suite struct StoreFilmTests {
    let directory: TemporaryDirectory
    let store: SQLiteStateStore

    init() throws {
        directory = try TemporaryDirectory("store-films")
        store = try SQLiteStateStore(directory: directory.file("state"))
    }

    @Test func aFilmIsSettledOnlyWhenAllItsClipsHaveFinished() throws {
        let film = NewFilm(name: "story", lane: "ads", folder: "ads/story", clips: 2)
        var first = NewJob(name: "story-01-02", lane: "ads", specJSON: Data("{}".utf8))
        var second = NewJob(name: "story-02-03", lane: "ads", specJSON: Data("{}".utf8))
        (first.filmID, first.reuseKey) = (film.id, "key-1")
        (second.filmID, second.reuseKey) = (film.id, "key-2")
        _ = try store.insertJobs([first, second], films: [film])
        #expect(try store.filmsToSettle().isEmpty, "both clips are still queued")
        #expect(try store.filmClips(film.id).count == 2)

        _ = try store.transition(first.id, from: .ready, to: .failed, message: "moderation")
        #expect(try store.filmsToSettle().isEmpty, "one clip still runs")
        _ = try store.transition(second.id, from: .ready, to: .cancelled, message: "cancelled")
        #expect(try store.filmsToSettle().map(\.id) == [film.id])

        #expect(try store.updateFilm(film.id, from: [.open], to: .joining, outputPath: "/out/ads/story", message: nil))
        #expect(try !store.updateFilm(film.id, from: [.open], to: .joining, outputPath: "/out/ads/story-2", message: nil), "compare-and-set")
        #expect(try store.film(film.id)?.outputPath == "/out/ads/story")
        #expect(try store.filmsToSettle().map(\.id) == [film.id], "a film left joining by a crash is joined again")
        #expect(try store.updateFilm(film.id, from: [.joining], to: .failed, outputPath: "/failed/ads/story/story.error.txt", message: "a clip failed"))
        #expect(try store.filmsToSettle().isEmpty)
        #expect(try store.failedFilms(lane: "ads", folder: "ads/story").map(\.outputPath) == ["/failed/ads/story/story.error.txt"])
    }

    @Test func aClipMadeBeforeIsFoundByItsReuseKeyOnlyWhenDone() throws {
        var made = NewJob(name: "story-01-02", lane: "", specJSON: Data("{}".utf8))
        made.reuseKey = "same"
        _ = try store.insertJobs([made])
        #expect(try store.clipsMadeBefore(reuseKey: "same").isEmpty, "not done yet")
        _ = try store.transition(made.id, from: .ready, to: .submitting)
        _ = try store.transition(made.id, from: .submitting, to: .submitted)
        _ = try store.transition(made.id, from: .submitted, to: .downloading)
        _ = try store.transition(made.id, from: .downloading, to: .done, update: { $0.outputPath = "/out/story-01-02" })
        #expect(try store.clipsMadeBefore(reuseKey: "same").map(\.outputPath) == ["/out/story-01-02"])
        #expect(try store.clipsMadeBefore(reuseKey: "other").isEmpty)

        // A reused clip is recorded as done at once, pointing at the earlier video, its inputs still to archive.
        var reused = NewJob(name: "story-01-02", lane: "", state: .done, specJSON: Data("{}".utf8))
        (reused.reuseKey, reused.reusedOutput) = ("same", "/out/story-01-02")
        let stored = try store.insertJobs([reused])
        #expect(stored.first?.outputPath == "/out/story-01-02" && stored.first?.pendingDisposal == .archive)
    }
}
