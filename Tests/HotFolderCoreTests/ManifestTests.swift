// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

/// CSV and JSONL manifests: one job per row, bad rows fail alone with their line number.
@Suite struct ManifestTests {
    @Test func csvGoodAndBadRows() throws {
        let csv = """
            name,prompt,first_frame,duration,aspect_ratio
            intro,"A calm sea, at dawn",img/sea.png,6,16:9
            broken,A storm,,30,16:9

            ghost,A ghost,img/missing.png,5,16:9
            "multi","Line one
            line two",,4,9:16
            extra,A,,5,16:9,surplus
            """
        let plan = try Fixture.plan([("batch/shots.csv", csv), ("batch/img/sea.png", "1920x1080")])
        let byName = Dictionary(uniqueKeysWithValues: plan.jobs.map { ($0.name, $0) })
        #expect(plan.jobs.count == 5)
        let intro = try #require(byName["intro"])
        #expect(intro.status == .valid)
        #expect(intro.lane == "batch")
        #expect(intro.request.prompt == "A calm sea, at dawn")
        #expect(intro.images.map(\.path) == ["batch/img/sea.png"])
        #expect(intro.settings["duration"] == EffectiveSetting(value: "6", source: "inbox/batch/shots.csv line 2"))
        #expect(Set(intro.inputFiles) == ["batch/shots.csv", "batch/img/sea.png"])
        let broken = try #require(byName["broken"])
        #expect(broken.errors.map(\.file) == ["inbox/batch/shots.csv line 3"])
        #expect(broken.errors.map(\.field) == ["duration"])
        let ghost = try #require(byName["ghost"])
        #expect(ghost.errors.first?.message.contains("`img/missing.png` does not exist") == true)
        #expect(ghost.errors.first?.file == "inbox/batch/shots.csv line 5")
        #expect(byName["multi"]?.request.prompt == "Line one\nline two")
        #expect(byName["multi"]?.status == .valid)
        let extra = try #require(byName["shots-8"])
        #expect(extra.errors.first?.file == "inbox/batch/shots.csv line 8")
        #expect(extra.errors.first?.field == "row")
        // The image a row names is not also an orphan stem group.
        #expect(byName["sea"] == nil)
    }

    @Test func csvUnknownColumnFailsTheManifest() throws {
        let plan = try Fixture.plan([("m.csv", "name,prompt,aspect\na,A,16:9")])
        #expect(plan.jobs.count == 1)
        #expect(plan.jobs[0].name == "m")
        #expect(plan.jobs[0].errors.first?.message.hasPrefix("`aspect`: did you mean `aspect_ratio`?") == true)
    }

    @Test func csvSyntaxErrorGivesLineAndColumn() throws {
        let plan = try Fixture.plan([("m.csv", "name,prompt\na,\"unterminated\nb,B\n")])
        #expect(plan.jobs.first?.errors.first?.message.contains("line 2, column 3") == true)
    }

    @Test func semicolonSeparatedSpreadsheetExport() throws {
        let plan = try Fixture.plan([("m.csv", "\u{FEFF}name;prompt;duration\r\na;Hello, world;3\r\n")])
        #expect(plan.jobs.first?.request.prompt == "Hello, world")
        #expect(plan.jobs.first?.request.duration == 3)
    }

    @Test func jsonlGoodAndBadRows() throws {
        let jsonl = """
            {"name": "one", "prompt": "First", "seeds": [1, 2]}
            {"name": "two", "prompt": "Second", "resolution": "480p"

            {"name": "three", "prompt": "Third", "aspect": "1:1"}
            {"name": "../four", "prompt": "Fourth"}
            {"name": "five", "prompt": "Fifth", "reference": "../../outside.png"}
            """
        let plan = try Fixture.plan([("lane/m.jsonl", jsonl)])
        let byName = Dictionary(uniqueKeysWithValues: plan.jobs.map { ($0.name, $0) })
        #expect(byName["one-v1"]?.request.seed == 1)
        #expect(byName["one-v2"]?.request.seed == 2)
        let two = try #require(byName["m-2"])
        #expect(two.errors.first?.message.contains("at line 2, column") == true)
        #expect(byName["three"]?.errors.first?.message.hasPrefix("`aspect`: did you mean `aspect_ratio`?") == true)
        #expect(byName["m-5"]?.errors.first?.field == "row")
        #expect(byName["five"]?.errors.first?.message.contains("outside the inbox") == true)
        #expect(byName["one-v1"]?.status == .valid)
    }

    @Test func csvParserHandlesQuotes() throws {
        let table = try CSVTable.parse("a,b\n\"x,\"\"y\"\"\",z\n")
        #expect(table.header == ["a", "b"])
        #expect(table.rows == [CSVTable.Row(line: 2, cells: ["x,\"y\"", "z"])])
        #expect(throws: CSVTable.ParseError.strayQuote(line: 2, column: 2)) { try CSVTable.parse("a\nx\"y\n") }
    }
}
