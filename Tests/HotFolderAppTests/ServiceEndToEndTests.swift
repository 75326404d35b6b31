// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Glibc
import HotFolderApp
import HotFolderCore
import HotFolderIO
import SeedanceEmulator
import Testing

/// The whole service in-process: real inotify, real SQLite, the emulator over loopback.
extension ServiceSuites {
@Suite struct ServiceEndToEndTests {
    @Test func everyKindOfDropBecomesAVideo() async throws {
        let folders = try ServiceFolders("modes")
        let emulator = try await startEmulator()
        try await withService(folders, emulator: emulator) { events, store in
            try ExampleDrops.write(into: folders.inbox)
            await events.wait(for: "9 videos") { $0.filter(\.isDone).count >= 9 }
            #expect(await events.count(\.isFailed) == 0)
            #expect(try store.countsByState() == [.done: 9])
        }
        await emulator.shutdown()
        let outbox = folders.files(in: "outbox")
        for name in ["sunset", "cat", "door", "shoe", "shot-01", "wave", "rain", "fire", "portrait/city"] {
            #expect(outbox.contains("\(name).mp4") && outbox.contains("\(name).json") && outbox.contains("\(name).log"), "\(name)")
            #expect(outbox.contains("\(name).jpg"), "\(name)'s poster")
        }
        #expect(outbox.count == 36, "\(outbox)")
        // Modes and provenance in the metadata.
        let door = jsonObject(folders.outbox + "/door.json")
        #expect(door["mode"] as? String == "first-last-frame")
        #expect(((door["settings"] as? [String: Any])?["model"] as? [String: Any])?["source"] as? String == "inbox/door.yaml")
        let city = jsonObject(folders.outbox + "/portrait/city.json")
        let aspect = (city["settings"] as? [String: Any])?["aspect_ratio"] as? [String: Any]
        #expect(aspect?["value"] as? String == "9:16")
        #expect(aspect?["source"] as? String == "inbox/portrait/_defaults.yaml")
        #expect(jsonObject(folders.outbox + "/shoe.json")["mode"] as? String == "reference")
        #expect(jsonObject(folders.outbox + "/cat.json")["mode"] as? String == "first-frame")
        // What the API received: roles for the image modes, uploads first.
        let creates = emulator.receivedRequests.filter { $0.path == "/v1/videos/generations" }
        #expect(creates.count == 9)
        #expect(emulator.stats.requestsByEndpoint["gateway.upload"] == 5)
        // Inputs were archived: only the lane's defaults (and the emptied shot folder) stay.
        #expect(folders.files(in: "inbox") == ["portrait/_defaults.yaml"])
        #expect(folders.files(in: "failed").isEmpty)
    }

    @Test func manifestOf20Rows() async throws {
        let folders = try ServiceFolders("manifest")
        let emulator = try await startEmulator()
        try await withService(folders, emulator: emulator) { events, _ in
            let rows = (1...20).map { "shot\($0),A lighthouse in a storm take \($0),\($0 % 2 == 0 ? "9:16" : "16:9")" }
            try folders.drop("night/shots.csv", "name,prompt,aspect_ratio\n" + rows.joined(separator: "\n") + "\n")
            await events.wait(for: "20 videos") { $0.filter(\.isDone).count >= 20 }
        }
        await emulator.shutdown()
        let videos = folders.files(in: "outbox").filter { $0.hasSuffix(".mp4") }
        #expect(videos == (1...20).map { "night/shot\($0).mp4" }.sorted())
        let row4 = jsonObject(folders.outbox + "/night/shot4.json")
        let aspect = (row4["settings"] as? [String: Any])?["aspect_ratio"] as? [String: Any]
        #expect(aspect?["source"] as? String == "inbox/night/shots.csv line 5")
        #expect(folders.files(in: "inbox").isEmpty, "the manifest is archived once every row is done")
    }

    @Test func invalidDropGoesToFailedWithoutSpending() async throws {
        let folders = try ServiceFolders("invalid")
        let emulator = try await startEmulator()
        try await withService(folders, emulator: emulator) { events, _ in
            try folders.drop("bad.txt", "A slow zoom on a mountain")
            try folders.drop("bad.yaml", "duration: 99\naspect: 16:9\n")
            await events.wait(for: "the invalid job") { $0.contains(where: \.isInvalid) }
        }
        await emulator.shutdown()
        #expect(emulator.stats.tasksCreated == 0)
        #expect(Set(folders.files(in: "failed")) == ["bad/bad.txt", "bad/bad.yaml", "bad/bad.error.txt"])
        let text = (try? String(contentsOfFile: folders.failed + "/bad/bad.error.txt", encoding: .utf8)) ?? ""
        #expect(text.contains("duration"))
        #expect(text.contains("aspect_ratio"), "the unknown key suggests the right one")
        #expect(text.contains("move this folder"))
    }

    @Test func chaosCasesGetErrorFiles() async throws {
        // The three bad drops scripts/chaos.sh once found without an error file.
        let folders = try ServiceFolders("chaos-bad")
        let emulator = try await startEmulator()
        let deep = (0..<40).map { "d\($0)" }.joined(separator: "/")
        try await withService(folders, emulator: emulator) { events, _ in
            let png = PNGWriter.gradient(width: 400, height: 300, from: (0, 0, 0), to: (255, 255, 255))
            try folders.drop("trunc_png.png", Data(png.prefix(png.count / 2)))
            try folders.drop("trunc_png.txt", "x prompt")
            try folders.drop("bad_prompt_prefix.txt", "a prompt")
            try folders.drop("bad_prompt_prefix.yaml", "prompt_prefix: [1, 2]\n")
            try folders.drop(deep + "/deep.txt", "deeply nested")
            await events.wait(for: "three invalid jobs") { $0.filter(\.isInvalid).count >= 3 }
        }
        await emulator.shutdown()
        #expect(emulator.stats.tasksCreated == 0)
        let failed = Set(folders.files(in: "failed"))
        for (errorFile, phrase) in [
            ("trunc_png/trunc_png.error.txt", "appears truncated"),
            ("bad_prompt_prefix/bad_prompt_prefix.error.txt", "`prompt_prefix` is `[1, 2]`"),
            (deep + "/deep/deep.error.txt", "nested 40 folders deep"),
        ] {
            #expect(failed.contains(errorFile), "\(failed)")
            let text = (try? String(contentsOfFile: folders.failed + "/" + errorFile, encoding: .utf8)) ?? ""
            #expect(text.contains(phrase), "\(text)")
        }
        #expect(failed.contains(deep + "/deep/deep.txt"), "the deep file moved out of the inbox")
        #expect(!folders.files(in: "inbox").contains { $0.hasSuffix(".txt") })
    }

    @Test(arguments: [
        (EmulatorFault.moderation, "moderation", 1),
        (.expireEarly, "expired", 1),
    ])
    func taskFailuresAreFiledWithTheirCategory(fault: EmulatorFault, category: String, creates: Int) async throws {
        let folders = try ServiceFolders("fail-\(category)")
        let emulator = try await startEmulator(faults: [fault: 1])
        try await withService(folders, emulator: emulator) { events, store in
            try folders.drop("clip.txt", "A dancer on a rooftop")
            await events.wait(for: "the failure") { $0.contains(where: \.isFailed) }
            #expect(try store.recentFailures(limit: 1).first?.failureCategory == category)
        }
        await emulator.shutdown()
        #expect(emulator.stats.tasksCreated == creates, "never retried blindly")
        let text = (try? String(contentsOfFile: folders.failed + "/clip/clip.error.txt", encoding: .utf8)) ?? ""
        #expect(text.contains("Category: \(category)"), "\(text)")
        #expect(folders.files(in: "failed").contains("clip/clip.txt"))
        #expect(!folders.files(in: "outbox").contains { $0.hasSuffix(".mp4") })
    }

    @Test func transientErrorsRetryThenFail() async throws {
        let folders = try ServiceFolders("transient")
        let emulator = try await startEmulator(faults: [.serverError: 1])
        try await withService(folders, emulator: emulator, configure: { $0.maxAttempts = 3 }) { events, store in
            // Uploads fail with 5xx: nothing was made, so each is retried, then the job fails.
            try folders.drop("retry.png", Data(PNGWriter.gradient(width: 400, height: 300, from: (0, 0, 0), to: (255, 255, 255))))
            try folders.drop("retry.txt", "Clouds over a valley")
            await events.wait(for: "the failure") { $0.contains(where: \.isFailed) }
            #expect(await events.count { if case .retrying = $0 { true } else { false } } == 2)
            #expect(try store.recentFailures(limit: 1).first?.failureCategory == "transient")
        }
        await emulator.shutdown()
        #expect(emulator.stats.requestsByEndpoint["gateway.upload"] == 3)
        #expect(emulator.stats.requestsByEndpoint["gateway.create"] == nil, "never a create call without the image")
        #expect(folders.files(in: "failed").contains("retry/retry.error.txt"))
    }

    /// Issue 9, path 5: an image waiting for its prompt, renamed (poll mode) or inside a renamed folder (inotify),
    /// becomes a job once its prompt arrives under the new name, without a restart.
    @Test(arguments: [WatchMode.poll, .inotify])
    func renamedFilesAndFoldersArePlannedUnderTheirNewNames(mode: WatchMode) async throws {
        let folders = try ServiceFolders("rename-\(mode.rawValue)")
        let emulator = try await startEmulator()
        let png = Data(PNGWriter.gradient(width: 400, height: 300, from: (0, 0, 0), to: (255, 255, 255)))
        try await withService(folders, emulator: emulator, configure: {
            $0.watchMode = mode
            $0.pollInterval = .milliseconds(200)
        }) { events, store in
            await events.wait(for: "watching") { $0.contains(.watching) }
            try folders.drop("untitled/door.png", png)
            try folders.drop("cat.png", png)
            // Seen (and waiting for a prompt) before the renames.
            try await Task.sleep(for: .seconds(1))
            #expect(rename(folders.inbox + "/untitled", folders.inbox + "/shots") == 0)
            #expect(rename(folders.inbox + "/cat.png", folders.inbox + "/dog.png") == 0)
            try folders.drop("shots/door.txt", "A door opening onto the sea")
            try folders.drop("dog.txt", "A dog running on a beach")
            await events.wait(for: "two videos") { $0.filter(\.isDone).count >= 2 }
            #expect(try store.countsByState() == [.done: 2])
        }
        await emulator.shutdown()
        let outbox = folders.files(in: "outbox")
        #expect(outbox.contains("dog.mp4") && outbox.contains("shots/door.mp4"), "\(outbox)")
        #expect(jsonObject(folders.outbox + "/dog.json")["mode"] as? String == "first-frame")
    }

    /// On Ark the metadata records the body actually sent (Ark's model id, `content`, `ratio`; no image data)
    /// and the tokens Ark billed; a reference image is refused before anything is sent.
    @Test func onArkTheMetadataRecordsTheBodySentAndTheBilledTokens() async throws {
        let folders = try ServiceFolders("ark")
        let emulator = try await startEmulator()
        let png = Data(PNGWriter.gradient(width: 400, height: 300, from: (0, 0, 0), to: (255, 255, 255)))
        try await withService(folders, emulator: emulator, configure: { $0.provider = .ark }) { events, _ in
            try folders.drop("cat.png", png)
            try folders.drop("cat.txt", "A cat on a windowsill")
            try folders.drop("shoe.ref.png", png)
            try folders.drop("shoe.txt", "A shoe, turning")
            await events.wait(for: "the video and the refusal") { $0.contains(where: \.isDone) && $0.contains(where: \.isInvalid) }
        }
        await emulator.shutdown()
        let metadata = jsonObject(folders.outbox + "/cat.json")
        let request = try #require(metadata["request"] as? [String: Any])
        #expect(request["model"] as? String == "doubao-seedance-1-0-pro-fast-251015")
        #expect(request["ratio"] != nil && request["aspect_ratio"] == nil, "Ark's field names: \(request)")
        let content = try #require(request["content"] as? [[String: Any]])
        #expect(content.map { $0["type"] as? String } == ["text", "image_url"])
        #expect(!String(decoding: try Data(contentsOf: URL(fileURLWithPath: folders.outbox + "/cat.json")), as: UTF8.self).contains("base64,"))
        let usage = try #require(metadata["usage"] as? [String: Any])
        #expect((usage["completion_tokens"] as? Int ?? 0) > 0)
        let refusal = (try? String(contentsOfFile: folders.failed + "/shoe/shoe.error.txt", encoding: .utf8)) ?? ""
        #expect(refusal.contains("reference image") && refusal.contains("Ark"), "\(refusal)")
        #expect(emulator.stats.tasksCreated == 1, "the reference drop was never sent")
    }

    /// Found by the chaos money run: a job stopped between reserving its name (an empty log) and recording it
    /// left that empty log in the outbox for good, and its video came out as `name-2`.
    @Test func aNameReservedButNeverRecordedIsFreedAtStart() async throws {
        let folders = try ServiceFolders("reserved")
        #expect(FileManager.default.createFile(atPath: folders.outbox + "/orphan.log", contents: nil))
        #expect(FileManager.default.createFile(atPath: folders.outbox + "/kept.log", contents: nil))
        #expect(FileManager.default.createFile(atPath: folders.outbox + "/kept.mp4", contents: Data("video".utf8)))
        let emulator = try await startEmulator()
        try await withService(folders, emulator: emulator) { events, _ in
            try folders.drop("orphan.txt", "A name that was only reserved")
            await events.wait(for: "the video") { $0.contains(where: \.isDone) }
        }
        await emulator.shutdown()
        let outbox = folders.files(in: "outbox")
        #expect(outbox.contains("orphan.mp4") && !outbox.contains("orphan-2.mp4"), "\(outbox)")
        #expect(outbox.contains("kept.log") && outbox.contains("kept.mp4"), "a log beside a video is kept")
    }

    @Test func aServerErrorOnTheCreateCallIsUncertainUnlessTheAPISaidUnavailable() async throws {
        let folders = try ServiceFolders("create-5xx")
        let emulator = try await startEmulator(faults: [.serverError: 1])
        var retries = 0
        try await withService(folders, emulator: emulator, configure: { $0.maxAttempts = 20 }) { events, store in
            try folders.drop("maybe.txt", "A create call answered 5xx")
            await events.wait(for: "uncertain") { $0.contains(where: \.isUncertain) }
            #expect(try store.countsByState() == [.uncertain: 1])
            retries = await events.count { if case .retrying = $0 { true } else { false } }
        }
        await emulator.shutdown()
        // 503s with the API's own JSON error are retried; the first 500 or 502 stops: a task may exist.
        #expect(emulator.stats.requestsByEndpoint["gateway.create"] == retries + 1)
    }

    @Test func rateLimitsAreRetriedUntilDone() async throws {
        let folders = try ServiceFolders("ratelimit")
        let emulator = try await startEmulator(faults: [.rateLimit: 0.5])
        try await withService(folders, emulator: emulator, configure: { $0.maxAttempts = 20 }) { events, _ in
            for index in 0..<5 { try folders.drop("r\(index).txt", "Rain number \(index)") }
            await events.wait(for: "5 videos") { $0.filter(\.isDone).count >= 5 }
        }
        await emulator.shutdown()
        #expect((emulator.stats.faultsInjected["rate_limit"] ?? 0) > 0)
        #expect(folders.files(in: "outbox").filter { $0.hasSuffix(".mp4") }.count == 5)
    }

    @Test func quotaPausesTheQueueUntilTheAccountWorksAgain() async throws {
        let folders = try ServiceFolders("quota")
        var broke: SeedanceEmulator? = try await startEmulator(faults: [.insufficientBalance: 1])
        let port = broke!.port
        try await withService(folders, emulator: broke!) { events, store in
            try folders.drop("wait.txt", "Snow falling on a quiet street")
            await events.wait(for: "the pause") { $0.contains(.queuePaused(category: "quota")) }
            let status = try await StatusReport.read(store: store, stateDirectory: folders.state)
            #expect(status.paused?.contains("balance") == true, "\(status.text)")
            #expect(try store.countsByState()[.ready] == 1, "the job waits in the queue, it is not failed")
            // The operator tops up the account: the same API, now working.
            await broke?.shutdown()
            broke = nil
            let healthy = try await startEmulator(port: port)
            await events.wait(for: "the resume and the video") { $0.contains(.queueResumed) && $0.contains(where: \.isDone) }
            #expect(try await StatusReport.read(store: store, stateDirectory: folders.state).paused == nil)
            await healthy.shutdown()
        }
    }

    @Test func wrongKeyPausesWithAnAuthReason() async throws {
        let folders = try ServiceFolders("auth")
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.apiKey = "a-different-key"
        configuration.queueSeconds = 0
        configuration.runSeconds = 0
        let emulator = try await SeedanceEmulator.start(configuration)
        try await withService(folders, emulator: emulator) { events, store in
            try folders.drop("key.txt", "A lantern in the dark")
            await events.wait(for: "the pause") { $0.contains(.queuePaused(category: "auth")) }
            let status = try await StatusReport.read(store: store, stateDirectory: folders.state)
            #expect(status.paused?.contains("refused the key") == true)
            #expect(status.text.contains("PAUSED"))
        }
        await emulator.shutdown()
    }

    @Test func variantsMakeDistinctJobsFromSharedInputs() async throws {
        let folders = try ServiceFolders("variants")
        let emulator = try await startEmulator()
        try await withService(folders, emulator: emulator) { events, _ in
            try folders.drop("fox.yaml", "variants: 3\n")
            try folders.drop("fox.txt", "A fox jumping over a log")
            await events.wait(for: "3 videos") { $0.filter(\.isDone).count >= 3 }
        }
        await emulator.shutdown()
        #expect(folders.files(in: "outbox").filter { $0.hasSuffix(".mp4") } == ["fox-v1.mp4", "fox-v2.mp4", "fox-v3.mp4"])
        let seeds = emulator.receivedRequests.filter { $0.path == "/v1/videos/generations" }.compactMap { request in
            request.bodyJSON.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }?["seed"] as? Int
        }
        #expect(Set(seeds).count == 3, "distinct seeds: \(seeds)")
        #expect(folders.files(in: "inbox").isEmpty)
    }

    @Test func aFileStillBeingWrittenIsNotReadWhileItsNeighbourIsPlanned() async throws {
        let folders = try ServiceFolders("halfwritten")
        let emulator = try await startEmulator()
        try await withService(folders, emulator: emulator, configure: { $0.settle = .zero }) { events, _ in
            await events.wait(for: "the watcher") { $0.contains(.watching) }
            // A writer has `slow.txt` open and has written nothing yet; `quick.txt` arrives complete beside it.
            let fd = open(folders.inbox + "/slow.txt", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            #expect(fd >= 0)
            try folders.drop("quick.txt", "A hummingbird in slow motion")
            await events.wait(for: "quick") { $0.contains { if case .done(let name, _, _) = $0 { name == "quick" } else { false } } }
            #expect(await events.count(\.isInvalid) == 0, "the empty, still-open file must not become an invalid job")
            let text = Array("Steam rising from a cup of coffee".utf8)
            _ = write(fd, text, text.count)
            close(fd)
            await events.wait(for: "slow") { $0.filter(\.isDone).count == 2 }
        }
        await emulator.shutdown()
        #expect(folders.files(in: "failed").isEmpty)
        #expect(Set(folders.files(in: "outbox").filter { $0.hasSuffix(".mp4") }) == ["quick.mp4", "slow.mp4"])
    }

    @Test func manifestRowsWaitTogetherForAnImageStillBeingCopied() async throws {
        let folders = try ServiceFolders("manifest-late-image")
        let emulator = try await startEmulator()
        try await withService(folders, emulator: emulator, configure: { $0.settle = .zero }) { events, _ in
            await events.wait(for: "the watcher") { $0.contains(.watching) }
            // The image a row names is still being copied (half written, still open) when the manifest arrives.
            // (In the watched inbox root, so the watcher sees the file created and knows it is open.)
            let png = PNGWriter.gradient(width: 400, height: 300, from: (0, 0, 0), to: (255, 255, 255))
            let fd = open(folders.inbox + "/sea.png", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            #expect(fd >= 0)
            _ = png.withUnsafeBytes { write(fd, $0.baseAddress!, png.count / 2) }
            try folders.drop("shots.csv", "name,prompt,first_frame\nwave,Waves on black sand,\nsea,A calm sea,sea.png\n")
            // A later drop: once it is done, the manifest has been looked at.
            try folders.drop("marker.txt", "A paper boat on a puddle")
            await events.wait(for: "the marker") { $0.contains { if case .done(let name, _, _) = $0 { name == "marker" } else { false } } }
            #expect(emulator.stats.tasksCreated == 1, "no row is sent while another row's image is still arriving")
            _ = png.withUnsafeBytes { write(fd, $0.baseAddress! + png.count / 2, png.count - png.count / 2) }
            close(fd)
            await events.wait(for: "both rows") { $0.filter(\.isDone).count == 3 }
        }
        await emulator.shutdown()
        #expect(folders.files(in: "failed").isEmpty)
        #expect(Set(folders.files(in: "outbox").filter { $0.hasSuffix(".mp4") }) == ["sea.mp4", "wave.mp4", "marker.mp4"])
    }

    @Test func aFailedFolderMovedBackIntoTheInboxIsRetried() async throws {
        let folders = try ServiceFolders("moveback")
        let emulator = try await startEmulator()
        try await withService(folders, emulator: emulator) { events, _ in
            try folders.drop("late.yaml", "duration: 40\n")
            try folders.drop("late.txt", "A train at dusk")
            await events.wait(for: "the invalid job") { $0.contains(where: \.isInvalid) }
            // The designer fixes the setting and moves the folder back.
            try Data("duration: 4\n".utf8).write(to: URL(fileURLWithPath: folders.failed + "/late/late.yaml"))
            try FileManager.default.removeItem(atPath: folders.failed + "/late/late.error.txt")
            try FileManager.default.moveItem(atPath: folders.failed + "/late", toPath: folders.inbox + "/late")
            await events.wait(for: "the video") { $0.contains(where: \.isDone) }
        }
        await emulator.shutdown()
        #expect(folders.files(in: "outbox").contains("late/late.mp4"))
    }
}
}
