// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

/// Each validation rule of issue 3, on its valid and its invalid side.
@Suite struct ValidationTests {
    struct SettingCase: Sendable, CustomTestStringConvertible {
        var yaml: String
        var invalidField: String?  // nil: valid
        var testDescription: String { yaml + (invalidField == nil ? " (valid)" : " (invalid)") }
    }

    static let settingCases: [SettingCase] = [
        .init(yaml: "duration: 2", invalidField: nil), .init(yaml: "duration: 12", invalidField: nil),
        .init(yaml: "duration: 1", invalidField: "duration"), .init(yaml: "duration: 13", invalidField: "duration"),
        .init(yaml: "duration: 5.5", invalidField: "duration"), .init(yaml: "duration: five", invalidField: "duration"),
        .init(yaml: "aspect_ratio: \"16:9\"", invalidField: nil), .init(yaml: "aspect_ratio: 9:16", invalidField: nil),
        .init(yaml: "aspect_ratio: 1:1", invalidField: nil), .init(yaml: "aspect_ratio: 4:3", invalidField: nil),
        .init(yaml: "aspect_ratio: 3:4", invalidField: nil), .init(yaml: "aspect_ratio: 21:9", invalidField: nil),
        .init(yaml: "aspect_ratio: 2:1", invalidField: "aspect_ratio"),
        .init(yaml: "resolution: 480p", invalidField: nil), .init(yaml: "resolution: 720p", invalidField: nil),
        .init(yaml: "resolution: 1080p", invalidField: nil), .init(yaml: "resolution: 4k", invalidField: "resolution"),
        .init(yaml: "seed: -1", invalidField: nil), .init(yaml: "seed: 4294967295", invalidField: nil),
        .init(yaml: "seed: -2", invalidField: "seed"), .init(yaml: "seed: 4294967296", invalidField: "seed"),
        .init(yaml: "model: fast", invalidField: nil), .init(yaml: "model: doubao-seedance-1-0-pro-quality", invalidField: nil),
        .init(yaml: "model: turbo", invalidField: "model"),
        .init(yaml: "variants: 1", invalidField: nil), .init(yaml: "variants: 8", invalidField: nil),
        .init(yaml: "variants: 0", invalidField: "variants"), .init(yaml: "variants: 9", invalidField: "variants"),
        .init(yaml: "seeds: [1, 2]", invalidField: nil), .init(yaml: "seeds: [1, 1]", invalidField: "seeds"),
        .init(yaml: "seeds: [1, x]", invalidField: "seeds"),
        .init(yaml: "priority: high", invalidField: nil), .init(yaml: "priority: 5", invalidField: nil),
        .init(yaml: "priority: soon", invalidField: "priority"),
        .init(yaml: "output_name: final-cut", invalidField: nil), .init(yaml: "output_name: ../x", invalidField: "output_name"),
        .init(yaml: "duration:\n  nested: 1", invalidField: "duration"),
    ]

    @Test(arguments: settingCases)
    func settingValue(setting: SettingCase) throws {
        let plan = try Fixture.plan([("a.txt", "A"), ("a.yaml", setting.yaml)])
        let fields = Set(plan.jobs.flatMap(\.errors).map(\.field))
        if let field = setting.invalidField {
            #expect(fields == [field])
            let error = try #require(plan.jobs.first?.errors.first)
            #expect(error.file.hasPrefix("inbox/a.yaml"))
        } else {
            #expect(fields.isEmpty, "\(plan.jobs.flatMap(\.errors))")
        }
    }

    @Test func invalidValueMessageNamesFileFieldValueAndFix() throws {
        let job = try Fixture.single([("a.txt", "A"), ("a.yaml", "duration: 15")])
        #expect(job.errors == [JobError(file: "inbox/a.yaml", field: "duration", message:
            "`duration` is `15` in inbox/a.yaml, which the video service does not accept: use a whole number of seconds from 2 to 12, e.g. `duration: 5`.")])
    }

    struct ImageCase: Sendable, CustomTestStringConvertible {
        var files: [(String, String)]
        var invalidField: String?
        var label: String
        var testDescription: String { label }
    }

    static let imageCases: [ImageCase] = [
        .init(files: [("a.png", "300x300")], invalidField: nil, label: "300 px sides"),
        .init(files: [("a.png", "6000x6000")], invalidField: nil, label: "6000 px sides"),
        .init(files: [("a.png", "299x400")], invalidField: "first_frame", label: "299 px"),
        .init(files: [("a.png", "6001x6000")], invalidField: nil, label: "6001 px (scaled down before it is sent)"),
        .init(files: [("a.png", "1000x2500")], invalidField: nil, label: "ratio 0.4"),
        .init(files: [("a.png", "2500x1000")], invalidField: nil, label: "ratio 2.5"),
        .init(files: [("a.png", "999x2500")], invalidField: "first_frame", label: "ratio below 0.4"),
        .init(files: [("a.png", "2501x1000")], invalidField: "first_frame", label: "ratio above 2.5"),
        .init(files: [("a.png", "800x800"), ("a.jpg", "800x800")], invalidField: "first_frame", label: "two first frames"),
        .init(files: [("a.png", "800x800"), ("a.first.webp", "800x800")], invalidField: "first_frame", label: "first twice"),
        .init(files: [("a.ref.png", "800x800"), ("a.yaml", "resolution: 1080p")], invalidField: "resolution",
            label: "reference at 1080p"),
        .init(files: [("a.ref.png", "800x800"), ("a.yaml", "resolution: 720p")], invalidField: nil, label: "reference at 720p"),
        .init(files: [("a.first.png", "800x800"), ("a.last.png", "800x800")], invalidField: "model", label: "last frame with fast"),
        .init(files: [("a.first.png", "800x800"), ("a.last.png", "800x800"), ("a.yaml", "model: quality")],
            invalidField: nil, label: "last frame with quality"),
        .init(files: [("a.last.png", "800x800"), ("a.yaml", "model: quality")], invalidField: "last_frame",
            label: "last frame alone"),
        .init(files: [("a.ref.png", "800x800"), ("a.png", "800x800")], invalidField: "reference", label: "reference + frame"),
    ]

    @Test(arguments: imageCases)
    func imageRule(image: ImageCase) throws {
        let job = try Fixture.single(image.files + [("a.txt", "A")])
        #expect(Set(job.errors.map(\.field)) == Set(image.invalidField.map { [$0] } ?? []), "\(job.errors)")
        #expect(job.status == (image.invalidField == nil ? .valid : .invalid))
    }

    @Test func imageProblemsReadClearly() throws {
        let job = try Fixture.single([("a.png", "200x200"), ("a.txt", "A")])
        #expect(job.errors.first?.message == "inbox/a.png is 200×200 px; each side must be between 300 and 6000 px, resize it.")
    }

    @Test func imageBytesLimitAndJunk() throws {
        var source = Fixture.inbox([("big.txt", "A"), ("junk.txt", "B"), ("cut.txt", "C")])
        var big = ImageHeader.minimalFile(.png, width: 800, height: 800)
        big += [UInt8](repeating: 0, count: 20_000_001 - big.count)
        source.add("big.png", bytes: big)
        source.add("junk.png", bytes: Array("this is not an image".utf8))
        source.add("cut.png", bytes: Array(ImageHeader.minimalFile(.png, width: 800, height: 800).prefix(18)))
        let plan = try Fixture.plan(source)
        let messages = Dictionary(uniqueKeysWithValues: plan.jobs.map { ($0.name, $0.errors.map(\.message)) })
        #expect(plan.jobs.first { $0.name == "big" }?.images.first?.preparation == ImagePreparation(downscale: true), "made smaller before it is sent")
        var strict = PlannerOptions(config: [:], orphanTimeout: 600)
        strict.imageFit = .fail
        let refused = try DropPlanner(options: strict).plan(source, now: Fixture.t0.addingTimeInterval(3600))
        #expect(refused.jobs.first { $0.name == "big" }?.errors.first?.message.contains("at most 20 MB") == true)
        #expect(messages["junk"]?.first?.contains("not a PNG, JPEG or WebP") == true)
        #expect(messages["cut"]?.first?.contains("damaged") == true)
    }

    struct PromptCase: Sendable, CustomTestStringConvertible {
        var bytes: [UInt8]
        var expectedPrompt: String?
        var label: String
        var testDescription: String { label }
    }

    static let promptCases: [PromptCase] = [
        .init(bytes: [0xEF, 0xBB, 0xBF] + Array("  Héllo 🌅\n\n".utf8), expectedPrompt: "Héllo 🌅", label: "BOM dropped, trimmed"),
        .init(bytes: Array(String(repeating: "x", count: 2000).utf8), expectedPrompt: String(repeating: "x", count: 2000),
            label: "2000 characters"),
        .init(bytes: Array(String(repeating: "x", count: 2001).utf8), expectedPrompt: nil, label: "2001 characters"),
        .init(bytes: Array(" \n\t ".utf8), expectedPrompt: nil, label: "blank"),
        .init(bytes: [0xFF, 0xFE, 0x41, 0x00], expectedPrompt: nil, label: "UTF-16"),
        .init(bytes: [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x00, 0x00], expectedPrompt: nil, label: "binary junk"),
    ]

    @Test(arguments: promptCases)
    func promptText(prompt: PromptCase) throws {
        var source = InMemoryDropSource()
        source.add("a.txt", bytes: prompt.bytes)
        let job = try #require(try Fixture.plan(source).jobs.first)
        if let expected = prompt.expectedPrompt {
            #expect(job.errors == [])
            #expect(job.request.prompt == expected)
        } else {
            #expect(job.errors.map(\.field) == ["prompt"])
            #expect(job.errors.first?.file == "inbox/a.txt")
        }
    }

    @Test(arguments: [
        ("a.yaml", "duration: 5\naspect_ratio: [16:9\n", 3, "inbox/a.yaml"),
        ("a.json", "{\n  \"duration\": 5,\n  \"model\": fast\n}", 3, "inbox/a.json"),
    ])
    func parseErrorsGiveLineAndColumn(file: String, text: String, line: Int, label: String) throws {
        let job = try Fixture.single([("a.txt", "A"), (file, text)])
        let error = try #require(job.errors.first)
        #expect(error.file == label)
        #expect(error.message.contains("at line \(line), column"), "\(error.message)")
    }

    @Test func costUsesTheSizeTableAndPrices() throws {
        let job = try Fixture.single([("a.txt", "A")])
        #expect(job.estimate == CostEstimate(tokens: 102_960, cost: 102_960 * 0.6 / 1_000_000))
        let prices = PriceTable(perMillionTokens: [.quality: 3.0])
        #expect(prices.estimate(model: .quality, resolution: .p480, ratio: .wide, duration: 5).tokens == 48_600)
        #expect(prices.price(for: .fast) == 0.6)
        let plan = try Fixture.plan([("a.txt", "A"), ("b.txt", "B"), ("b.yaml", "duration: 10"), ("c.yaml", "duration: 99")])
        #expect(plan.totals.valid == 2)
        #expect(plan.totals.invalid == 1)
        #expect(plan.totals.tokens == 102_960 * 3)
    }
}
