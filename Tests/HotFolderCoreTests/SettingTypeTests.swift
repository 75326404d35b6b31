// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

/// A list or a nested block where one value belongs is an error in every kind of settings file.
@Suite struct SettingTypeTests {
    struct Case: Sendable, CustomTestStringConvertible {
        /// The job's files besides the prompt `a.txt` (manifest cases bring their own prompt).
        var files: [(String, String)]
        var job = "a"
        var field: String
        var file: String
        var value: String
        var testDescription: String { "\(field) = \(value) in \(file)" }
    }

    static let cases: [Case] = [
        // Every setting in a YAML sidecar, written as a list or as a mapping.
        .init(files: [("a.yaml", "prompt_prefix: [1, 2]")], field: "prompt_prefix", file: "inbox/a.yaml", value: "[1, 2]"),
        .init(files: [("a.yaml", "prompt_suffix: [soft, light]")], field: "prompt_suffix", file: "inbox/a.yaml",
            value: "[soft, light]"),
        .init(files: [("a.yaml", "prompt: [A cat, walks]")], field: "prompt", file: "inbox/a.yaml", value: "[A cat, walks]"),
        .init(files: [("a.yaml", "output_name: [final]")], field: "output_name", file: "inbox/a.yaml", value: "[final]"),
        .init(files: [("a.yaml", "model: [fast, quality]")], field: "model", file: "inbox/a.yaml", value: "[fast, quality]"),
        .init(files: [("a.yaml", "aspect_ratio: [\"16:9\"]")], field: "aspect_ratio", file: "inbox/a.yaml", value: "[16:9]"),
        .init(files: [("a.yaml", "resolution:\n  p: 720")], field: "resolution", file: "inbox/a.yaml", value: "{p: 720}"),
        .init(files: [("a.yaml", "priority: {level: high}")], field: "priority", file: "inbox/a.yaml", value: "{level: high}"),
        .init(files: [("a.yaml", "duration: [5]")], field: "duration", file: "inbox/a.yaml", value: "[5]"),
        .init(files: [("a.yaml", "seed: [1, 2]")], field: "seed", file: "inbox/a.yaml", value: "[1, 2]"),
        .init(files: [("a.yaml", "variants: {n: 2}")], field: "variants", file: "inbox/a.yaml", value: "{n: 2}"),
        .init(files: [("a.yaml", "seeds: {a: 1}")], field: "seeds", file: "inbox/a.yaml", value: "{a: 1}"),
        .init(files: [("a.yaml", "seeds: [[1, 2], 3]")], field: "seeds", file: "inbox/a.yaml", value: "[[…], 3]"),
        .init(files: [("a.yaml", "prompt_prefix: {style: {a: 1}, b: 2}")], field: "prompt_prefix", file: "inbox/a.yaml",
            value: "{style: {…}, b: 2}"),
        // A JSON sidecar.
        .init(files: [("a.json", #"{"prompt_prefix": [1, 2]}"#)], field: "prompt_prefix", file: "inbox/a.json", value: "[1, 2]"),
        .init(files: [("a.json", #"{"output_name": {"x": "y"}}"#)], field: "output_name", file: "inbox/a.json", value: "{x: y}"),
        // Folder defaults, even when the job's sidecar sets the same key properly.
        .init(files: [("_defaults.yaml", "prompt_prefix: [1, 2]")], field: "prompt_prefix", file: "inbox/_defaults.yaml",
            value: "[1, 2]"),
        .init(files: [("_defaults.yaml", "prompt_suffix: [x]"), ("a.yaml", "prompt_suffix: fine")], field: "prompt_suffix",
            file: "inbox/_defaults.yaml", value: "[x]"),
        // A shot folder's settings.yaml.
        .init(files: [("a/prompt.txt", "A"), ("a/settings.yaml", "model: [quality]")], field: "model",
            file: "inbox/a/settings.yaml", value: "[quality]"),
        // JSONL manifest rows: settings and the manifest's own columns.
        .init(files: [("m.jsonl", #"{"name": "a", "prompt": "A", "prompt_prefix": [1, 2]}"#)], field: "prompt_prefix",
            file: "inbox/m.jsonl line 1", value: "[1, 2]"),
        .init(files: [("m.jsonl", #"{"name": "a", "prompt": {"text": "A"}}"#)], field: "prompt",
            file: "inbox/m.jsonl line 1", value: "{text: A}"),
        .init(files: [("m.jsonl", #"{"name": ["a", "b"], "prompt": "A"}"#)], job: "m-1", field: "name",
            file: "inbox/m.jsonl line 1", value: "[a, b]"),
        .init(files: [("m.jsonl", #"{"name": "a", "prompt": "A", "first_frame": ["x.png"]}"#)], field: "first_frame",
            file: "inbox/m.jsonl line 1", value: "[x.png]"),
    ]

    @Test(arguments: cases)
    func listsAndBlocksAreRefused(setting: Case) throws {
        let isManifest = setting.files.contains { $0.0.hasSuffix(".jsonl") }
        let isShot = setting.files.contains { $0.0.hasSuffix("prompt.txt") }
        let plan = try Fixture.plan(setting.files + (isManifest || isShot ? [] : [("a.txt", "A")]))
        let job = try #require(plan.jobs.first { $0.name == setting.job }, "\(plan.jobs.map(\.name))")
        #expect(job.status == .invalid)
        let error = try #require(job.errors.first { $0.field == setting.field }, "\(job.errors)")
        #expect(error.file == setting.file)
        #expect(error.message.hasPrefix("`\(setting.field)` is `\(setting.value)` in \(setting.file): it must be "),
            "\(error.message)")
        #expect(error.message.contains("e.g. `"), "the fix shows an example: \(error.message)")
    }

    @Test func messageOfTheChaosCase() throws {
        let job = try Fixture.single([("bad_prompt_prefix__1__2_.txt", "a prompt"), ("bad_prompt_prefix__1__2_.yaml", "prompt_prefix: [1, 2]\n")])
        #expect(job.errors == [JobError(file: "inbox/bad_prompt_prefix__1__2_.yaml", field: "prompt_prefix", message:
            "`prompt_prefix` is `[1, 2]` in inbox/bad_prompt_prefix__1__2_.yaml: it must be text, e.g. `prompt_prefix: \"Cinematic:\"`.")])
    }

    @Test(arguments: [
        ("prompt_prefix: 12", "12 A"), ("prompt_suffix: 3.5", "A 3.5"), ("prompt_prefix: \"Cinematic:\"", "Cinematic: A"),
    ])
    func numbersStillCountAsText(yaml: String, prompt: String) throws {
        let job = try Fixture.single([("a.txt", "A"), ("a.yaml", yaml)])
        #expect(job.errors == [])
        #expect(job.request.prompt == prompt)
    }

    @Test func seedsStillTakeAList() throws {
        let plan = try Fixture.plan([("a.txt", "A"), ("a.yaml", "seeds: [1, 2]")])
        #expect(plan.jobs.map(\.request.seed) == [1, 2])
        #expect(plan.jobs.allSatisfy { $0.status == .valid })
    }

    @Test func otherSettingsOfTheFileStillApply() throws {
        let job = try Fixture.single([("a.txt", "A"), ("a.yaml", "duration: 8\nprompt_prefix: [1, 2]")])
        #expect(job.request.duration == 8)
        #expect(job.errors.map(\.field) == ["prompt_prefix"])
    }

    @Test(arguments: [
        ("defaults:\n  prompt_prefix: [1, 2]\n", "defaults.prompt_prefix"),
        ("defaults:\n  model: {name: fast}\n", "defaults.model"),
    ])
    func configDefaultsRefuseListsToo(yaml: String, field: String) throws {
        #expect {
            try PlannerConfigFile.parse(Array(yaml.utf8), file: "hotfolder.yaml")
        } throws: { error in
            guard case .invalid(_, let reported, let reason)? = error as? PlannerConfigFile.ParseError else { return false }
            return reported == field && reason.contains("it must be")
        }
        let seeds = try PlannerConfigFile.parse(Array("defaults:\n  seeds: [1, 2]\n".utf8), file: "hotfolder.yaml")
        #expect(seeds.defaults["seeds"] == "1,2")
    }
}
