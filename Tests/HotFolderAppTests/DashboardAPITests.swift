// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import NIOHTTP1
import SeedanceEmulator
import Testing

/// The dashboard's JSON API, health checks, files and metrics over real HTTP on loopback.
extension ServiceSuites {
@Suite struct DashboardAPITests {
    @Test func statusListAndDetailAnswerFromTheStore() async throws {
        let folders = try ServiceFolders("dash-api")
        let emulator = try await startEmulator()
        try await withDashboard(folders, emulator: emulator) { http, events, _ in
            #expect(try await http.send("/healthz").status == 200)
            try folders.drop("fox.txt", "A red fox running through fresh snow")
            try folders.drop("portrait/owl.txt", "An owl turning its head at dusk")
            await events.wait(for: "2 videos") { $0.filter(\.isDone).count >= 2 }

            let status = try await http.send("/api/v1/status")
            #expect(status.status == 200)
            #expect(status.headers["Content-Type"].first?.hasPrefix("application/json") == true)
            #expect((status.json["counts"] as? [String: Int])?["done"] == 2)
            #expect((status.json["finishedPerHour"] as? [Int])?.reduce(0, +) == 2)
            #expect((status.json["watch"] as? [String: Any])?["reachable"] as? Bool == true)

            let first = try await http.send("/api/v1/jobs?limit=1")
            let firstJobs = first.json["jobs"] as? [[String: Any]] ?? []
            #expect(firstJobs.count == 1)
            let cursor = try #require(first.json["nextCursor"] as? String)
            let second = try await http.send("/api/v1/jobs?limit=1&cursor=\(cursor)")
            let secondJobs = second.json["jobs"] as? [[String: Any]] ?? []
            #expect(secondJobs.count == 1)
            #expect(second.json["nextCursor"] == nil, "two jobs make two pages of one")
            #expect(Set([firstJobs[0]["name"] as? String, secondJobs[0]["name"] as? String]) == ["fox", "owl"])

            let owl = try await http.send("/api/v1/jobs?lane=portrait")
            #expect((owl.json["jobs"] as? [[String: Any]])?.map { $0["name"] as? String } == ["owl"])
            let search = try await http.send("/api/v1/jobs?q=FRESH+snow")
            #expect((search.json["jobs"] as? [[String: Any]])?.map { $0["name"] as? String } == ["fox"], "the prompt is searched")
            let done = try await http.send("/api/v1/jobs?state=done,failed")
            #expect((done.json["jobs"] as? [[String: Any]])?.count == 2)

            let fox = try #require((search.json["jobs"] as? [[String: Any]])?.first)
            let id = try #require(fox["id"] as? String)
            #expect((fox["video"] as? String)?.hasSuffix("/files/jobs/\(id)/video") == true)
            let detail = try await http.send("/api/v1/jobs/\(id)")
            #expect(detail.status == 200)
            let settings = detail.json["settings"] as? [[String: Any]] ?? []
            #expect(settings.contains { $0["name"] as? String == "resolution" && $0["value"] as? String == "480p" && $0["source"] as? String != nil })
            #expect(((detail.json["timeline"] as? [[String: Any]])?.count ?? 0) >= 3)
            #expect((detail.json["request"] as? [String: Any])?["prompt"] != nil || detail.json["request"] != nil)
            #expect(!detail.body.contains(serviceTestKey))
            #expect(detail.json["actions"] as? [String] == [])
        }
        await emulator.shutdown()
    }

    @Test func inputImagesShowAsThumbnailsInTheInboxAndOnceArchived() async throws {
        let folders = try ServiceFolders("dash-inputs")
        // Tasks run 3 s: long enough to look at the job while its image is still in the inbox.
        let emulator = try await startEmulator(run: 3)
        let png = Data(PNGWriter.gradient(width: 400, height: 300, from: (0, 0, 0), to: (255, 255, 255)))
        try await withDashboard(folders, emulator: emulator) { http, events, store in
            try folders.drop("cat.png", png)
            try folders.drop("cat.txt", "A cat blinking slowly in the sun")
            await events.wait(for: "the task submitted") { $0.contains { if case .submitted = $0 { true } else { false } } }
            let job = try #require(try store.findJobs("cat").first)
            let id = job.id.lowercasedString
            /// The image's thumbnail address on the job's API answer and page, and what it serves.
            func thumbnail() async throws -> DashboardClient.Answer {
                let detail = try await http.send("/api/v1/jobs/\(id)")
                let inputs = detail.json["inputs"] as? [[String: Any]] ?? []
                #expect(inputs.first { $0["path"] as? String == "cat.txt" }?["url"] == nil, "a prompt has no thumbnail")
                let url = try #require(inputs.first { $0["path"] as? String == "cat.png" }?["url"] as? String, "\(inputs)")
                #expect(url.hasPrefix("/files/jobs/\(id)/inputs/"))
                let page = try await http.send("/jobs/\(id)")
                #expect(page.body.contains("<img src=\"\(url)\""), "the job page shows it")
                return try await http.send(url)
            }
            #expect(FileManager.default.fileExists(atPath: folders.inbox + "/cat.png"))
            let inInbox = try await thumbnail()
            #expect(inInbox.status == 200)
            #expect(inInbox.headers["Content-Type"].first == "image/png")
            #expect(inInbox.bytes == png.count)

            await events.wait(for: "the video") { $0.contains(where: \.isDone) }
            #expect(!FileManager.default.fileExists(atPath: folders.inbox + "/cat.png"), "archived with the job")
            let archived = folders.files(in: "archive").filter { $0.hasSuffix("cat.png") }
            #expect(archived.count == 1)
            #expect(try store.inputDestinations(ofJob: job.id).compactMap { $0 }.contains { $0.hasSuffix("/cat.png") })
            let fromArchive = try await thumbnail()
            #expect(fromArchive.status == 200)
            #expect(fromArchive.bytes == png.count)

            let archivePath = folders.root + "/archive/" + archived[0]
            #expect(unlink(archivePath) == 0)
            let detail = try await http.send("/api/v1/jobs/\(id)")
            let image = (detail.json["inputs"] as? [[String: Any]] ?? []).first { $0["path"] as? String == "cat.png" }
            #expect(image != nil && image?["url"] == nil, "no thumbnail once the archived file is gone")
            let gone = try await http.send("/files/jobs/\(id)/inputs/0")
            let gone1 = try await http.send("/files/jobs/\(id)/inputs/1")
            #expect(gone.status == 404 && gone1.status == 404)
        }
        await emulator.shutdown()
    }

    @Test(arguments: [WatchMode.inotify, .poll])
    func theOverviewCountsTheFoldersWatched(mode: WatchMode) async throws {
        let folders = try ServiceFolders("dash-folders-\(mode.rawValue)")
        try FileManager.default.createDirectory(atPath: folders.inbox + "/a/b", withIntermediateDirectories: true)
        let emulator = try await startEmulator()
        try await withDashboard(folders, emulator: emulator, configure: {
            $0.watchMode = mode
            $0.pollInterval = .milliseconds(100)
        }) { http, events, _ in
            await events.wait(for: "watching") { $0.contains(.watching) }
            let first = try await http.send("/api/v1/status")
            let watch = first.json["watch"] as? [String: Any]
            #expect(watch?["mode"] as? String == mode.rawValue)
            #expect(watch?["folders"] as? Int == 3, "the inbox, a and a/b: \(first.body)")
            try folders.drop("c/fox.txt", "A fox running through fresh snow")
            await events.wait(for: "the new folder's job") { $0.contains(where: \.isDone) }
            let second = try await http.send("/api/v1/status")
            #expect((second.json["watch"] as? [String: Any])?["folders"] as? Int == 4, "and c: \(second.body)")
            let page = try await http.send("/")
            #expect(page.body.contains("<dt>Folders watched</dt><dd><span id=\"watch-folders\">4</span></dd>"))
        }
        await emulator.shutdown()
    }

    @Test func badRequestsGetJSONErrorsNotStackTraces() async throws {
        let folders = try ServiceFolders("dash-errors")
        let emulator = try await startEmulator()
        try await withDashboard(folders, emulator: emulator) { http, _, _ in
            let cases: [(String, Int)] = [
                ("/api/v1/jobs?state=nonsense", 400), ("/api/v1/jobs?limit=0", 400), ("/api/v1/jobs?limit=x", 400),
                ("/api/v1/jobs?cursor=garbage", 400), ("/api/v1/jobs/not-a-uuid", 404),
                ("/api/v1/jobs/\(UUID().uuidString)", 404), ("/files/jobs/\(UUID().uuidString)/video", 404),
                ("/files/jobs/..%2F..%2Fetc%2Fpasswd/video", 404),
            ]
            for (path, expected) in cases {
                let answer = try await http.send(path)
                #expect(answer.status == expected, "\(path)")
                #expect((answer.json["error"] as? [String: Any])?["message"] as? String != nil, "\(path): \(answer.body)")
            }
            let retry = try await http.send("/api/v1/jobs/\(UUID().uuidString)/retry", method: .POST)
            #expect(retry.status == 404)
            let page = try await http.send("/jobs/\(UUID().uuidString)")
            #expect(page.status == 404)
            #expect(page.body.contains("<html"))
        }
        await emulator.shutdown()
    }

    @Test func retryAndCancelGoThroughJobControl() async throws {
        let folders = try ServiceFolders("dash-retry")
        let emulator = try await startEmulator(run: 30)
        try await withDashboard(folders, emulator: emulator) { http, events, store in
            try folders.drop("bad.txt", "A slow zoom on a mountain")
            try folders.drop("bad.yaml", "duration: 99\n")
            try folders.drop("slow.txt", "A glacier calving, very slowly")
            await events.wait(for: "the invalid job") { $0.contains(where: \.isInvalid) }
            await events.wait(for: "the slow job submitted") { $0.contains { if case .submitted = $0 { true } else { false } } }
            let bad = try #require(try store.findJobs("bad").first)
            let slow = try #require(try store.findJobs("slow").first)

            let cancelBad = try await http.send("/api/v1/jobs/\(bad.id.lowercasedString)/cancel", method: .POST)
            #expect(cancelBad.status == 409, "an invalid job has nothing to cancel")
            let retried = try await http.send("/api/v1/jobs/\(bad.id.lowercasedString)/retry", method: .POST)
            #expect(retried.status == 200, "\(retried.body)")
            #expect((retried.json["message"] as? String)?.contains("moved back into the inbox") == true)
            #expect(FileManager.default.fileExists(atPath: folders.inbox + "/bad.yaml"))

            let cancelled = try await http.send("/api/v1/jobs/\(slow.id.lowercasedString)/cancel", method: .POST)
            #expect(cancelled.status == 200, "\(cancelled.body)")
            #expect(try store.job(slow.id)?.state == .cancelled)
            let again = try await http.send("/api/v1/jobs/\(slow.id.lowercasedString)/cancel", method: .POST)
            #expect(again.status == 409)
        }
        await emulator.shutdown()
    }

    @Test func videosAnswerRangeRequestsAndMetricsCountTheWork() async throws {
        let folders = try ServiceFolders("dash-files")
        let emulator = try await startEmulator()
        try await withDashboard(folders, emulator: emulator) { http, events, store in
            try folders.drop("wave.txt", "A wave breaking on black sand")
            await events.wait(for: "the video") { $0.contains(where: \.isDone) }
            let job = try #require(try store.findJobs("wave").first)
            let size = try #require(FileSystemProbe.lstat(folders.outbox + "/wave.mp4")?.size)
            let whole = try await http.send("/files/jobs/\(job.id.lowercasedString)/video")
            #expect(whole.status == 200)
            #expect(whole.headers["Accept-Ranges"].first == "bytes")
            #expect(whole.bytes == Int(size))
            let part = try await http.send("/files/jobs/\(job.id.lowercasedString)/video", headers: [("Range", "bytes=0-99")])
            #expect(part.status == 206)
            #expect(part.headers["Content-Range"].first == "bytes 0-99/\(size)")
            #expect(part.headers["Content-Length"].first == "100")
            let tail = try await http.send("/files/jobs/\(job.id.lowercasedString)/video", headers: [("Range", "bytes=-10")])
            #expect(tail.headers["Content-Range"].first == "bytes \(size - 10)-\(size - 1)/\(size)")
            let beyond = try await http.send("/files/jobs/\(job.id.lowercasedString)/video", headers: [("Range", "bytes=\(size)-")])
            #expect(beyond.status == 416)
            #expect(try await http.send("/files/jobs/\(job.id.lowercasedString)/poster").status == 200)

            let metrics = try await http.send("/metrics")
            #expect(metrics.status == 200)
            let text = metrics.body
            #expect(text.contains("hotfolder_jobs{state=\"done\"} 1"), "\(text)")
            #expect(text.contains("hotfolder_jobs_finished_total{result=\"done\""))
            #expect(text.contains("hotfolder_api_requests_total{operation=\"create\",outcome=\"ok\"} 1"))
            #expect(text.contains("hotfolder_api_request_duration_seconds_bucket"))
            #expect(text.contains("hotfolder_job_duration_seconds_count 1"))
            #expect(text.contains("hotfolder_tasks_in_flight 0"))
            #expect(text.contains("hotfolder_watch_events_total 1"))
            #expect(text.contains("hotfolder_queue_paused 0"))
            #expect(!text.contains(job.id.lowercasedString), "no per-job labels")
            #expect(!text.contains("hotfolder_spend_dollars"), "no spend gauges without a budget")
            #expect(try await http.send("/readyz").status == 200)
        }
        await emulator.shutdown()
    }
}
}
