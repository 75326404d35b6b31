// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

/// Design tools' export names: a scale suffix is not part of the name, so the image meets its prompt.
@Suite struct ExportNamesTests {
    func plan(_ files: [(String, String)], names: ExportNames = .auto) throws -> Plan {
        var options = PlannerOptions(config: [:], orphanTimeout: 600)
        options.exportNames = names
        return try DropPlanner(options: options).plan(Fixture.inbox(files), now: Fixture.t0.addingTimeInterval(3600))
    }

    @Test func aScaleSuffixIsReadOff() {
        #expect(ExportNames.scaleSuffix("hero@2x.png")! == ("hero", 2, "png"))
        #expect(ExportNames.scaleSuffix("hero@0.5x.first.PNG")! == ("hero", 0.5, "first.png"))
        #expect(ExportNames.scaleSuffix("Hero Banner@3X.jpg")! == ("Hero Banner", 3, "jpg"))
        #expect(ExportNames.scaleSuffix("me@example.png") == nil)
        #expect(ExportNames.scaleSuffix("hero@2x") == nil)
        #expect(ExportNames.scaleSuffix("@2x.png") == nil)
        #expect(ExportNames.scaleSuffix("v1.2@2x.png") == nil, "a dot before the suffix is not a stem")
    }

    /// The money bug: `poster@2x.png` + `poster.txt` made a text-only video from the prompt and left the image waiting.
    @Test func anImageWithAScaleSuffixJoinsItsPrompt() throws {
        let plan = try plan([("poster@2x.png", "1280x720"), ("poster.txt", "The poster comes alive")])
        #expect(plan.jobs.count == 1)
        let job = try #require(plan.jobs.first)
        #expect(job.name == "poster" && job.mode == .firstFrame && job.errors == [])
        #expect(job.images.map(\.path) == ["poster@2x.png"])
        #expect(job.readAs?["poster@2x.png"] == "first frame of poster (scale suffix @2x ignored when grouping)")
        #expect(job.readAs?["poster.txt"] == "prompt of poster")
    }

    @Test func whenSeveralScalesAreThereTheLargerIsUsedAndTheOtherMovesWithTheJob() throws {
        let plan = try plan([("hero.png", "640x360"), ("hero@2x.png", "1280x720"), ("hero@0.5x.png", "320x180"), ("hero.txt", "A hero shot")])
        #expect(plan.jobs.count == 1)
        let job = try #require(plan.jobs.first)
        #expect(job.images.map(\.path) == ["hero@2x.png"])
        #expect(Set(job.inputFiles) == ["hero.png", "hero@2x.png", "hero@0.5x.png", "hero.txt"], "nothing is left behind")
        #expect(job.readAs?["hero.png"] == "not used: inbox/hero@2x.png is the same first frame exported larger")
        #expect(job.readAs?["hero@0.5x.png"]?.hasPrefix("not used") == true)
        #expect(job.errors == [])
    }

    @Test func literalNamesAndPhotoshopLayerNamesKeepWorking() throws {
        let literal = try plan([("poster@2x.png", "1280x720"), ("poster.txt", "The poster comes alive")], names: .literal)
        #expect(literal.jobs.map(\.name).sorted() == ["poster", "poster@2x"])
        let layers = try plan([
            ("poster_0003_Layer 2.png", "1280x720"), ("poster_0003_Layer 2.txt", "Layer two drifts"),
            ("poster_0004_Layer 3.png", "1280x720"), ("poster_0004_Layer 3.txt", "Layer three drifts"),
        ])
        #expect(layers.jobs.map(\.name) == ["poster_0003_Layer 2", "poster_0004_Layer 3"])
        #expect(layers.jobs.allSatisfy { $0.errors.isEmpty && $0.mode == .firstFrame })
    }

    @Test func planJSONShowsHowEveryNameWasRead() throws {
        let plan = try plan([("poster@2x.png", "1280x720"), ("poster.txt", "The poster comes alive"), ("poster.yaml", "duration: 3")])
        let json = String(decoding: try JSONEncoder().encode(plan.jobs[0]), as: UTF8.self)
        #expect(json.contains(#""read_as":{"#))
        #expect(plan.jobs[0].readAs?["poster.yaml"] == "settings of poster")
        // A stored description written before `read_as` existed still reads.
        var old = plan.jobs[0]
        old.readAs = nil
        let decoded = try JSONDecoder().decode(JobSpec.self, from: try JSONEncoder().encode(old))
        #expect(decoded == old)
    }
}

/// Design documents and image types the API does not take get an error that says which export to use.
@Suite struct DesignDocumentTests {
    @Test(arguments: [
        ("poster.psd", "Photoshop document", "Quick Export as PNG"),
        ("poster.ai", "Illustrator file", "Export for Screens"),
        ("poster.svg", "vector drawing", "export it as PNG"),
        ("poster.pdf", "PDF is not sent", "export the page as PNG"),
        ("poster.sketch", "design document", "Export › PNG"),
        ("poster.eps", "Illustrator file", "Export for Screens"),
    ])
    func aDesignDocumentSaysWhichExportToUse(file: String, what: String, fix: String) throws {
        let job = try Fixture.single([(file, "document bytes"), ("poster.txt", "The poster comes alive")])
        #expect(job.status == .invalid, "nothing is sent")
        let message = try #require(job.errors.first { $0.field == "image" }?.message)
        #expect(message.contains(what) && message.contains(fix), "\(message)")
    }
}

/// Image types the API does not take are converted, and oversized images scaled down, on this machine.
@Suite struct ImagePreparationPlanTests {
    @Test(arguments: ["tiff", "tif", "bmp", "gif", "heic", "heif", "avif"])
    func anImageTypeTheAPIDoesNotTakeIsConvertedBeforeItIsSent(ext: String) throws {
        let job = try Fixture.single([("poster.\(ext)", "image bytes"), ("poster.txt", "The poster comes alive")])
        #expect(job.errors == [] && job.mode == .firstFrame)
        #expect(job.images.first?.preparation == ImagePreparation(convertFrom: ext, downscale: true))
    }

    @Test func anImageOver6000PixelsIsScaledDownUnlessImageFitIsFail() throws {
        let files = [("huge.png", "8000x4500"), ("huge.txt", "A huge poster")]
        let job = try Fixture.single(files)
        #expect(job.errors == [])
        #expect(job.images.first?.preparation == ImagePreparation(downscale: true))
        var options = PlannerOptions(config: [:], orphanTimeout: 600)
        options.imageFit = .fail
        let refused = try DropPlanner(options: options).plan(Fixture.inbox(files), now: Fixture.t0.addingTimeInterval(3600))
        #expect(refused.jobs.first?.errors.contains { $0.field == "first_frame" || $0.message.contains("8000") } == true)
        // Too small is never scaled up.
        #expect(try Fixture.single([("tiny.png", "200x200"), ("tiny.txt", "Tiny")]).status == .invalid)
    }

    @Test func aShapeOutsideTheRangeIsPaddedOrCroppedOnlyWhenImageFitSaysSo() throws {
        let files = [("banner.png", "3000x600"), ("banner.txt", "A banner comes alive")]
        let refused = try Fixture.single(files)
        #expect(refused.status == .invalid && refused.errors.contains { $0.message.contains("3000") }, "the default refuses it with the usual error")
        for fit in [ImageFit.pad, .crop] {
            var options = PlannerOptions(config: [:], orphanTimeout: 600)
            options.imageFit = fit
            let job = try #require(try DropPlanner(options: options).plan(Fixture.inbox(files), now: Fixture.t0.addingTimeInterval(3600)).jobs.first)
            #expect(job.errors == [] && job.images.first?.preparation == ImagePreparation(downscale: true, reshape: fit.reshape))
            #expect(job.images.first?.preparation?.summary.contains(fit == .pad ? "padded" : "cropped") == true)
        }
        // A side under 300 px is still refused: nothing is scaled up, padded or cropped.
        for fit in [ImageFit.pad, .crop] {
            var options = PlannerOptions(config: [:], orphanTimeout: 600)
            options.imageFit = fit
            let thin = [("thin.png", "2000x250"), ("thin.txt", "Thin")]
            #expect(try DropPlanner(options: options).plan(Fixture.inbox(thin), now: Fixture.t0.addingTimeInterval(3600)).jobs.first?.status == .invalid)
        }
    }
}
