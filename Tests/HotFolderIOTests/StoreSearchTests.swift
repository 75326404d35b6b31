// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

/// Migration v5-search: the dashboard's search by name or prompt through the trigram index, kept in step with the
/// jobs by triggers, with query syntax in the text read as text.
@Suite struct StoreSearchTests {
    let directory: TemporaryDirectory
    let clock = TestClock()
    let store: SQLiteStateStore

    init() throws {
        directory = try TemporaryDirectory("store-search")
        store = try SQLiteStateStore(directory: directory.file("state"), clock: clock.closure)
    }

    func newJob(_ name: String, prompt: String, state: JobState = .done) throws -> NewJob {
        let spec = try JSONSerialization.data(withJSONObject: ["name": name, "request": ["model": "seedance-1-0-lite", "prompt": prompt]])
        return NewJob(name: name, lane: "", state: state, specJSON: spec)
    }

    /// The names of every job `query` finds, page after page of `limit`, newest first.
    func search(_ query: String, state: JobState? = nil, limit: Int = 50) throws -> [String] {
        var names: [String] = []
        var cursor: String?
        repeat {
            let page = try store.jobPage(JobListFilter(states: state.map { [$0] } ?? [], query: query), cursor: cursor, limit: limit)
            names += page.rows.map(\.job.name)
            cursor = page.nextCursor
        } while cursor != nil
        return names
    }

    @Test func findsNamesAndPromptsAndReadsQuerySyntaxAsText() throws {
        try store.insertJobs([
            newJob("fox", prompt: "A red fox running through fresh snow"),
            newJob("owl-50%", prompt: #"An owl says "hoot" at dusk"#),
            newJob("star*field", prompt: "Stars (over) the sea: NEAR AND far, - NOT here"),
            newJob("héron", prompt: "A grey heron with ÉLAN, by a_river"),
        ])
        #expect(try search("FRESH snow") == ["fox"], "in the prompt, whatever the case")
        #expect(try search("owl-5") == ["owl-50%"], "in the name")
        #expect(try search("nomatch").isEmpty)
        #expect(try search("request").isEmpty, "the request's other fields are not searched")
        #expect(try search(#""hoot""#) == ["owl-50%"])
        #expect(try search(#"""#) == ["owl-50%"], "a lone quote is text")
        #expect(try search(#"a"b"#).isEmpty)
        #expect(try search("50%") == ["owl-50%"], "% is text, not a wildcard")
        #expect(try search("%").count == 1)
        #expect(try search("r*f") == ["star*field"], "* is text, not a prefix search")
        #expect(try search("*").count == 1)
        #expect(try search("(over)") == ["star*field"])
        #expect(try search("NEAR AND far") == ["star*field"])
        #expect(try search("- NOT") == ["star*field"])
        #expect(try search("sea:") == ["star*field"])
        #expect(try search("_") == ["héron"], "_ is text, not any one character")
        #expect(try search("élan") == ["héron"], "case beyond ASCII")
        #expect(try search("  snow ") == ["fox"], "spaces around the text are dropped")
        #expect(try search("fo") == ["fox"], "two characters: the short search")
        #expect(try search("x").sorted() == ["fox"])
        #expect(try search("zq").isEmpty)
    }

    @Test func followsRenamesNewPromptsAndPruning() throws {
        let job = try store.insertJob(newJob("first", prompt: "A lighthouse in a storm", state: .ready))
        #expect(try search("lighthouse") == ["first"])
        let replacement = try newJob("second", prompt: "A windmill at noon").specJSON
        try store.updateJob(job.id, in: .ready) {
            $0.name = "second"
            $0.specJSON = replacement
        }
        #expect(try search("lighthouse").isEmpty)
        #expect(try search("windmill") == ["second"])
        #expect(try search("second") == ["second"])
        try store.updateJob(job.id, in: .ready) { $0.nextAttemptAt = clock.now }
        #expect(try search("windmill") == ["second"], "a save that keeps the prompt keeps the index row")
        _ = try store.transition(job.id, from: .ready, to: .cancelled)
        clock.advance(200 * 86_400)
        #expect(try store.pruneHistory(before: clock.now.addingTimeInterval(-86_400)) == 1)
        #expect(try search("windmill").isEmpty)
    }

    @Test func pagesThroughCommonAndRareWordsBeyondTheFirstWindow() throws {
        // More jobs than the newest ones a search looks at first (2,000 for a page of 50): the rare word is only in
        // the oldest jobs, the common one in every other job, and the short one in every job.
        let rare = try (0..<3).map { try newJob("old-\($0)", prompt: "A rare kingfisher \($0)", state: .failed) }
        try store.insertJobs(rare)
        clock.advance(1)
        let many = try (0..<3_000).map { index in
            try newJob("job-\(index)", prompt: index % 2 == 0 ? "A common sparrow \(index)" : "A pigeon \(index)")
        }
        try store.insertJobs(many)
        #expect(try search("kingfisher") == ["old-2", "old-1", "old-0"], "newest first")
        #expect(try search("kingfisher", state: .failed) == ["old-2", "old-1", "old-0"])
        #expect(try search("kingfisher", state: .done).isEmpty)
        let sparrows = try search("sparrow")
        #expect(sparrows.count == 1_500)
        #expect(sparrows.first == "job-2998")
        #expect(sparrows.last == "job-0")
        #expect(Set(sparrows).count == 1_500, "no job on two pages")
        #expect(try search("sparrow 2998", limit: 10) == ["job-2998"])
        #expect(try search("A ").count == 3_003, "short text, every job")
        #expect(try search("d-") == ["old-2", "old-1", "old-0"], "short text only in the oldest jobs")
    }
}
