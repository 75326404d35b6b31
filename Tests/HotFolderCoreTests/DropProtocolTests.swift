// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

/// Every row of the DESIGN §2 table, and the grouping rules around it.
@Suite struct DropProtocolTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var files: [(String, String)]
        var config: [String: String] = [:]
        var name: String
        var lane: String = ""
        var mode: JobMode
        var images: [String]  // "role path"
        var testDescription: String { files.map(\.0).joined(separator: " + ") }
    }

    static let rows: [Row] = [
        Row(files: [("sunset.txt", "A sunset over the sea")], name: "sunset", mode: .textToVideo, images: []),
        Row(files: [("cat.png", "1280x720"), ("cat.txt", "A cat")], name: "cat", mode: .firstFrame,
            images: ["first_frame cat.png"]),
        Row(files: [("door.first.png", "1280x720"), ("door.last.PNG", "1280x720"), ("door.txt", "A door opens"),
            ("door.yaml", "model: quality")], name: "door", mode: .firstLastFrame,
            images: ["first_frame door.first.png", "last_frame door.last.PNG"]),
        Row(files: [("shoe.ref.webp", "800x800"), ("shoe.txt", "A shoe")], name: "shoe", mode: .reference,
            images: ["reference shoe.ref.webp"]),
        Row(files: [("fox.yaml", "prompt: A fox in snow\nduration: 8")], name: "fox", mode: .textToVideo, images: []),
        Row(files: [("owl.JPG", "1024x768"), ("owl.json", #"{"prompt": "An owl", "resolution": "480p"}"#)],
            name: "owl", mode: .firstFrame, images: ["first_frame owl.JPG"]),
        Row(files: [("shots/intro/prompt.txt", "Opening shot"), ("shots/intro/first_frame.png", "1920x1080"),
            ("shots/intro/settings.yaml", "duration: 6")], name: "intro", lane: "shots", mode: .firstFrame,
            images: ["first_frame shots/intro/first_frame.png"]),
        Row(files: [("brief.csv", "name,prompt\nwave,A wave breaks")], name: "wave", mode: .textToVideo, images: []),
        Row(files: [("brief.jsonl", #"{"name": "rain", "prompt": "Rain on glass"}"#)], name: "rain",
            mode: .textToVideo, images: []),
    ]

    @Test(arguments: rows)
    func designTableRow(row: Row) throws {
        let job = try Fixture.single(row.files, config: row.config)
        #expect(job.errors == [])
        #expect(job.status == .valid)
        #expect(job.name == row.name)
        #expect(job.lane == row.lane)
        #expect(job.mode == row.mode)
        #expect(job.images.map { "\($0.role.rawValue) \($0.path)" } == row.images)
        #expect(job.request.imageWithRoles?.map(\.url) == (row.images.isEmpty ? nil : job.images.map { "local:" + $0.path }))
    }

    @Test func requestIsTheExactGatewayBody() throws {
        let job = try Fixture.single([("cat.png", "1280x720"), ("cat.txt", "\u{FEFF}  A cat\n"), ("cat.yaml", "seed: 7")])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = String(decoding: try encoder.encode(job.request), as: UTF8.self)
        #expect(body == #"{"aspect_ratio":"16:9","duration":5,"image_with_roles":[{"role":"first_frame","url":"local:cat.png"}],"model":"doubao-seedance-1-0-pro-fast","prompt":"A cat","resolution":"720p","seed":7}"#)
        let uploaded = job.request(uploadedURLs: ["cat.png": "https://cdn.example/cat.png"])
        #expect(uploaded?.imageWithRoles == [ImageWithRole(url: "https://cdn.example/cat.png", role: .firstFrame)])
        #expect(job.request(uploadedURLs: [:]) == nil)
        #expect(job.inputFiles == ["cat.png", "cat.txt", "cat.yaml"])
    }

    @Test func magicBytesDecideTheFormatNotTheExtension() throws {
        var source = Fixture.inbox([("pic.txt", "A picture")])
        source.add("pic.png", bytes: ImageHeader.minimalFile(.jpeg, width: 640, height: 480))
        let job = try #require(try Fixture.plan(source).jobs.first)
        #expect(job.status == .valid)
        #expect(job.images.first?.header == ImageHeader(format: .jpeg, width: 640, height: 480))
    }

    @Test func temporaryAndHiddenFilesAreIgnored() throws {
        let plan = try Fixture.plan([
            ("a.txt", "ok"), (".b.txt", "hidden"), ("c.txt.part", "partial"), ("~$d.txt", "lock"),
            (".cache/e.txt", "inside a hidden folder"), ("f.crdownload", "x"), ("notes.md", "not ours"),
        ])
        #expect(plan.jobs.map(\.name) == ["a"])
    }

    @Test func unsupportedAndMisnamedFilesAreReported() throws {
        let plan = try Fixture.plan([("logo.psd", "x"), ("logo.txt", "A logo"), ("sky.final.png", "1280x720"), ("sky.txt", "Sky")])
        let logo = try #require(plan.jobs.first { $0.name == "logo" })
        #expect(logo.errors.map(\.field) == ["image"])
        let sky = try #require(plan.jobs.first { $0.name == "sky" })
        #expect(sky.errors.first?.message.contains("sky.first.png") == true)
        #expect(sky.inputFiles.contains("sky.final.png"))
    }

    @Test func lanesComeFromFolders() throws {
        let plan = try Fixture.plan([("portrait/720/a.txt", "A"), ("b.txt", "B")])
        #expect(plan.jobs.map { "\($0.lane)|\($0.name)" } == ["|b", "portrait/720|a"])
    }
}
