// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

/// built-in < config < folder defaults (root down) < sidecar < manifest row, each with its source.
@Suite struct SettingsPrecedenceTests {
    struct Level: Sendable, CustomTestStringConvertible {
        var files: [(String, String)]
        var config: [String: String]
        var job: String
        var duration: String
        var source: String
        var testDescription: String { source }
    }

    static let levels: [Level] = [
        Level(files: [("p/a.txt", "A")], config: [:], job: "a", duration: "5", source: "built-in"),
        Level(files: [("p/a.txt", "A")], config: ["duration": "6"], job: "a", duration: "6", source: "config"),
        Level(files: [("p/a.txt", "A"), ("_defaults.yaml", "duration: 7")], config: ["duration": "6"], job: "a",
            duration: "7", source: "inbox/_defaults.yaml"),
        Level(files: [("p/a.txt", "A"), ("_defaults.yaml", "duration: 7"), ("p/_defaults.json", #"{"duration": 8}"#)],
            config: ["duration": "6"], job: "a", duration: "8", source: "inbox/p/_defaults.json"),
        Level(files: [("p/a.txt", "A"), ("_defaults.yaml", "duration: 7"), ("p/_defaults.yaml", "duration: 8"),
            ("p/a.yaml", "duration: 9")], config: ["duration": "6"], job: "a", duration: "9", source: "inbox/p/a.yaml"),
        Level(files: [("p/_defaults.yaml", "duration: 8"), ("p/m.csv", "name,prompt,duration\nrow,A,10")],
            config: ["duration": "6"], job: "row", duration: "10", source: "inbox/p/m.csv line 2"),
    ]

    @Test(arguments: levels)
    func eachLevelOverridesTheOneBelow(level: Level) throws {
        let job = try Fixture.single(level.files, config: level.config)
        #expect(job.errors == [])
        #expect(job.settings["duration"] == EffectiveSetting(value: level.duration, source: level.source))
        #expect(job.request.duration == Int(level.duration))
    }

    @Test func unsetLevelsFallThroughPerKey() throws {
        let job = try Fixture.single(
            [("_defaults.yaml", "resolution: 480p\nmodel: quality"), ("a.txt", "A"), ("a.yaml", "aspect_ratio: \"9:16\"")],
            config: ["model": "fast", "seed": "42"])
        #expect(job.settings["resolution"]?.source == "inbox/_defaults.yaml")
        #expect(job.settings["model"] == EffectiveSetting(value: "quality", source: "inbox/_defaults.yaml"))
        #expect(job.settings["seed"] == EffectiveSetting(value: "42", source: "config"))
        #expect(job.settings["aspect_ratio"]?.source == "inbox/a.yaml")
        #expect(job.settings["duration"]?.source == "built-in")
        #expect(job.settings["prompt"] == EffectiveSetting(value: "A", source: "inbox/a.txt"))
        #expect(job.request.model == "doubao-seedance-1-0-pro-quality")
        #expect(job.request.aspectRatio == "9:16")
        #expect(job.request.seed == 42)
    }

    @Test func folderDefaultPromptPrefixAndSuffix() throws {
        let plan = try Fixture.plan([
            ("design/_defaults.yaml", "prompt: Slow camera push-in on the product\nprompt_suffix: soft light"),
            ("design/lamp.png", "1200x1200"), ("design/chair.png", "1200x1200"), ("design/chair.txt", "A chair turns"),
            ("_defaults.yaml", "prompt_prefix: 'Cinematic:'"),
        ])
        let lamp = try #require(plan.jobs.first { $0.name == "lamp" })
        #expect(lamp.status == .valid)
        #expect(lamp.request.prompt == "Cinematic: Slow camera push-in on the product soft light")
        #expect(lamp.settings["prompt"]?.source == "inbox/design/_defaults.yaml")
        let chair = try #require(plan.jobs.first { $0.name == "chair" })
        #expect(chair.request.prompt == "Cinematic: A chair turns soft light")
    }

    @Test func promptFileBeatsSidecarPrompt() throws {
        let job = try Fixture.single([("a.txt", "from text"), ("a.yaml", "prompt: from yaml")])
        #expect(job.request.prompt == "from text")
    }

    @Test(arguments: [("aspect", "aspect_ratio"), ("durration", "duration"), ("modle", "model"),
        ("resolutoin", "resolution"), ("prefix", "prompt_prefix"), ("variant", "variants")])
    func unknownKeysSuggestTheNearest(written: String, suggested: String) throws {
        let job = try Fixture.single([("a.txt", "A"), ("a.yaml", "\(written): 1")])
        #expect(job.status == .invalid)
        let error = try #require(job.errors.first)
        #expect(error.field == written)
        #expect(error.file == "inbox/a.yaml")
        #expect(error.message.hasPrefix("`\(written)`: did you mean `\(suggested)`?"))
    }

    @Test func farOffKeysListTheValidOnes() {
        #expect(SettingKey.suggestion(for: "colour") == nil)
        #expect(SettingKey(written: "Aspect-Ratio") == .aspectRatio)
    }

    @Test func configUnknownKeyIsReported() throws {
        let job = try Fixture.single([("a.txt", "A")], config: ["aspect": "16:9"])
        #expect(job.errors.first?.file == "config")
        #expect(job.errors.first?.message.contains("aspect_ratio") == true)
    }
}
