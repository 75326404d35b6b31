// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

/// Files nested deeper than the inbox allows become invalid jobs with an error, never silently nothing.
@Suite struct NestingDepthTests {
    /// `levels` folders `d0/d1/…`, without a trailing slash.
    static func folders(_ levels: Int) -> String {
        (0..<levels).map { "d\($0)" }.joined(separator: "/")
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var files: [(String, String)]
        var job: String
        var depth: Int?  // nil: valid
        var label: String
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        .init(files: [("a.txt", "A")], job: "a", depth: nil, label: "inbox root"),
        .init(files: [(folders(32) + "/a.txt", "A")], job: "a", depth: nil, label: "32 folders deep"),
        .init(files: [(folders(33) + "/a.txt", "A")], job: "a", depth: 33, label: "33 folders deep"),
        .init(files: [(folders(40) + "/deep.txt", "deeply nested")], job: "deep", depth: 40, label: "40 deep (chaos)"),
        .init(files: [(folders(40) + "/cat.png", "800x600"), (folders(40) + "/cat.txt", "A cat")], job: "cat", depth: 40,
            label: "image and prompt"),
        .init(files: [(folders(40) + "/cat.png", "800x600")], job: "cat", depth: 40, label: "image without prompt, at once"),
        .init(files: [(folders(36) + "/shot/prompt.txt", "A"), (folders(36) + "/shot/settings.yaml", "duration: 4")],
            job: "shot", depth: 37, label: "shot folder"),
        .init(files: [(folders(35) + "/m.csv", "name,prompt\none,A\ntwo,B\n")], job: "m", depth: 35, label: "manifest"),
        .init(files: [("m.jsonl", #"{"name": "r", "prompt": "A", "first_frame": "\#(folders(34))/x.png"}"#),
            (folders(34) + "/x.png", "800x600")], job: "r", depth: 34, label: "manifest naming a deep image"),
    ]

    @Test(arguments: cases)
    func depthLimit(nesting: Case) throws {
        let plan = try Fixture.plan(nesting.files)
        let job = try #require(plan.jobs.first { $0.name == nesting.job }, "\(plan.jobs.map(\.name))")
        guard let depth = nesting.depth else {
            #expect(job.status == .valid, "\(job.errors)")
            return
        }
        #expect(plan.jobs.count == 1, "one error for the whole drop: \(plan.jobs.map(\.name))")
        #expect(job.status == .invalid)
        #expect(job.errors.map(\.field) == ["file"])
        let message = try #require(job.errors.first?.message)
        #expect(message.hasSuffix(" is nested \(depth) folders deep; the inbox accepts at most 32 levels: move it higher up."),
            "\(message)")
        #expect(Set(job.inputFiles) == Set(nesting.files.map(\.0)), "every file moves to failed/ with the error")
    }

    @Test func theMessageNamesTheFile() throws {
        let path = Self.folders(40) + "/deep.txt"
        let job = try Fixture.single([(path, "deeply nested")])
        #expect(job.lane == Self.folders(40))
        #expect(job.errors == [JobError(file: "inbox/" + path, field: "file", message:
            "inbox/\(path) is nested 40 folders deep; the inbox accepts at most 32 levels: move it higher up.")])
    }

    @Test func theLimitIsAnOption() throws {
        var options = PlannerOptions()
        options.limits.maxFolderDepth = 2
        let plan = try DropPlanner(options: options).plan(Fixture.inbox([("a/b/ok.txt", "A"), ("a/b/c/no.txt", "B")]), now: Fixture.t0)
        #expect(Set(plan.jobs.map(\.name)) == ["ok", "no"])
        #expect(plan.jobs.first { $0.name == "ok" }?.status == .valid)
        #expect(plan.jobs.first { $0.name == "no" }?.errors.first?.message.contains("nested 3 folders deep") == true)
    }
}
