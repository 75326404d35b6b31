// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

/// Runs the built `hotfolder plan` on the committed sample inbox and checks its JSON and exit codes.
@Suite struct PlanCommandEndToEndTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures")

    static func hotfolder() throws -> URL {
        let binary = packageRoot.appendingPathComponent(".build/debug/hotfolder")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "build first: swift build --build-tests")
        return binary
    }

    /// Runs the CLI and returns (exit status, stdout, stderr).
    static func run(_ arguments: [String]) throws -> (Int32, Data, String) {
        let process = Process()
        process.executableURL = try hotfolder()
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, stdout, String(decoding: stderr, as: UTF8.self))
    }

    @Test func sampleInboxJSON() throws {
        let inbox = Self.fixtures.appendingPathComponent("sample-inbox").path
        let config = Self.fixtures.appendingPathComponent("sample-config.yaml").path
        let (status, stdout, stderr) = try Self.run(["plan", inbox, "--config", config, "--json"])
        #expect(status == 1, "three sample jobs are invalid on purpose; stderr: \(stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: stdout) as? [String: Any])
        let jobs = try #require(document["jobs"] as? [[String: Any]])
        let totals = try #require(document["totals"] as? [String: Any])
        var byName: [String: [String: Any]] = [:]
        for job in jobs { byName[job["name"] as! String] = job }
        #expect(Set(byName.keys) == [
            "sunset", "cat", "door", "shoe", "typo", "dancer-v1", "dancer-v2", "lamp", "intro", "wave", "forest", "bad",
            "city", "stars-v1", "stars-v2", "stars-v3",
        ])
        for job in jobs {
            for key in ["name", "mode", "request", "images", "settings", "estimate", "errors"] {
                #expect(job[key] != nil, "job \(job["name"] ?? "?") lacks \(key)")
            }
        }
        #expect(totals["jobs"] as? Int == 16)
        #expect(totals["invalid"] as? Int == 3)
        #expect(totals["valid"] as? Int == 13)

        let cat = try #require(byName["cat"])
        #expect(cat["mode"] as? String == "first-frame")
        let request = try #require(cat["request"] as? [String: Any])
        #expect(request["model"] as? String == "doubao-seedance-1-0-pro-fast")
        #expect(request["prompt"] as? String == "A ginger cat wakes up and stretches in the morning light cinematic lighting")
        #expect(request["resolution"] as? String == "720p")
        let images = try #require(cat["images"] as? [[String: Any]])
        #expect(images.first?["role"] as? String == "first_frame")
        #expect(images.first?["path"] as? String == "cat.png")
        let settings = try #require(cat["settings"] as? [String: [String: String]])
        #expect(settings["resolution"] == ["value": "720p", "source": "config"])
        #expect(settings["prompt_suffix"]?["source"] == "sample-inbox/_defaults.yaml")
        let estimate = try #require(cat["estimate"] as? [String: Any])
        #expect(estimate["tokens"] as? Int == 102_960)

        let dancer = try #require(byName["dancer-v2"])
        #expect((dancer["request"] as? [String: Any])?["seed"] as? Int == 101)
        #expect((dancer["settings"] as? [String: [String: String]])?["aspect_ratio"]?["source"] == "sample-inbox/portrait/_defaults.yaml")
        #expect(byName["door"]?["mode"] as? String == "first-last-frame")
        #expect(byName["intro"]?["mode"] as? String == "first-frame")
        #expect(byName["lamp"]?["errors"] as? [Any] == nil || (byName["lamp"]?["errors"] as? [Any])?.isEmpty == true)

        let typoErrors = try #require(byName["typo"]?["errors"] as? [[String: String]])
        #expect(typoErrors == [[
            "file": "sample-inbox/typo.yaml", "field": "aspect",
            "message": "`aspect`: did you mean `aspect_ratio`? sample-inbox/typo.yaml uses a setting name that does not exist; rename it.",
        ]])
        let badErrors = try #require(byName["bad"]?["errors"] as? [[String: String]])
        #expect(badErrors.first?["file"] == "sample-inbox/batch/shots.csv line 4")
        #expect((byName["shoe"]?["errors"] as? [[String: String]])?.first?["field"] == "resolution")
    }

    @Test func humanReportAndUsageErrors() throws {
        let inbox = Self.fixtures.appendingPathComponent("sample-inbox").path
        let (status, stdout, _) = try Self.run(["plan", inbox])
        let text = String(decoding: stdout, as: UTF8.self)
        #expect(status == 1)
        #expect(text.contains("INVALID typo  (text-to-video)"))
        #expect(text.contains("Totals: 16 jobs: 13 valid, 3 invalid"))
        #expect(try Self.run(["plan"]).0 == 2)
        #expect(try Self.run(["plan", inbox, "--bogus"]).0 == 2)
        #expect(try Self.run(["plan", inbox, "--config"]).0 == 2)
        #expect(try Self.run(["plan", "/nonexistent/inbox"]).0 == 2)
    }

    @Test func allValidInboxExitsZeroAndFiftyJobsPlanQuickly() throws {
        let inbox = try TemporaryFolder()
        try Self.writeMixedInbox(inbox, groups: 15)
        let clock = ContinuousClock()
        var result: (Int32, Data, String) = (0, Data(), "")
        let elapsed = try clock.measure { result = try Self.run(["plan", inbox.path, "--json"]) }
        #expect(result.0 == 0, "\(result.2)")
        let document = try JSONSerialization.jsonObject(with: result.1) as? [String: Any]
        let jobs = (document?["totals"] as? [String: Any])?["jobs"] as? Int ?? 0
        #expect(jobs >= 60)
        // The time is a figure for the notes; timing targets live in scripts/bench.sh.
        print("hotfolder plan: \(jobs) jobs in \(elapsed)")
    }

    /// Writes `groups` × (text, image, first/last, shot folder) jobs plus a manifest of `groups` rows.
    static func writeMixedInbox(_ inbox: borrowing TemporaryFolder, groups: Int) throws {
        try inbox.write("_defaults.yaml", "resolution: 720p\n")
        try inbox.write("lane/_defaults.yaml", "aspect_ratio: \"9:16\"\nmodel: quality\n")
        var csv = "name,prompt,first_frame,duration\n"
        for i in 0..<groups {
            try inbox.write("t\(i).txt", "Text job \(i)")
            try inbox.write("i\(i).png", bytes: ImageHeader.minimalFile(.png, width: 1280, height: 720))
            try inbox.write("i\(i).txt", "Image job \(i)")
            try inbox.write("lane/f\(i).first.jpg", bytes: ImageHeader.minimalFile(.jpeg, width: 704, height: 1248))
            try inbox.write("lane/f\(i).last.webp", bytes: ImageHeader.minimalFile(.webp, width: 704, height: 1248))
            try inbox.write("lane/f\(i).txt", "Frames job \(i)")
            try inbox.write("shots/s\(i)/prompt.txt", "Shot \(i)")
            try inbox.write("shots/s\(i)/settings.yaml", "duration: 4\n")
            try inbox.write("m/img\(i).png", bytes: ImageHeader.minimalFile(.png, width: 1000, height: 1000))
            csv += "row\(i),\"Row \(i), from the manifest\",img\(i).png,\(2 + i % 10)\n"
        }
        try inbox.write("m/batch.csv", csv)
    }
}
