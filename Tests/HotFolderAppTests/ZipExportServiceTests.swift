// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import SeedanceEmulator
import Testing

extension ServiceSuites {
    /// ZIP archives dropped into the inbox as design tools and browsers write them.
    @Suite struct ZipExportServiceTests {
        static func png() -> Data {
            Data(PNGWriter.gradient(width: 640, height: 360, from: (10, 20, 30), to: (240, 200, 120)))
        }

        /// A browser downloads a Figma export (`.crdownload`, then renamed): the retina frame and the designer's
        /// prompt inside make one first-frame video, and the archive goes to `archive/`.
        @Test func aFigmaExportDownloadedByABrowserMakesOneFirstFrameVideo() async throws {
            let folders = try ServiceFolders("zip-figma")
            let emulator = try await startEmulator()
            let staging = folders.root + "/Figma.zip"
            try ZipFixture.write(staging, [.file("hero@2x.png", Self.png()), .file("hero.txt", "The hero walks into the light")])
            try await withService(folders, emulator: emulator) { events, _ in
                await events.wait(for: "watching") { $0.contains(.watching) }
                let partial = folders.inbox + "/Figma.zip.crdownload"
                try FileManager.default.moveItem(atPath: staging, toPath: partial)
                try await Task.sleep(for: .milliseconds(300))  // the browser still writing: ignored
                #expect(FileManager.default.fileExists(atPath: partial))
                try FileManager.default.moveItem(atPath: partial, toPath: folders.inbox + "/Figma.zip")
                await events.wait(for: "unpacked") { $0.contains(.archiveUnpacked(name: "Figma.zip", folder: "Figma")) }
                await events.wait(for: "one video") { $0.contains(where: \.isDone) }
            }
            await emulator.shutdown()
            #expect(emulator.stats.tasksCreated == 1, "one first-frame job, not a text-only one")
            let create = try #require(emulator.receivedRequests.first { $0.endpoint == "gateway.create" }?.bodyJSON)
            #expect(create.contains("first_frame"))
            #expect(folders.files(in: "outbox").contains("Figma/hero.mp4"), "\(folders.files(in: "outbox"))")
            let archived = folders.files(in: "archive")
            #expect(archived.contains { $0.hasSuffix("/Figma.zip") }, "\(archived)")
            #expect(archived.contains { $0.hasSuffix("/hero@2x.png") } && archived.contains { $0.hasSuffix("/hero.txt") })
            #expect(folders.files(in: "inbox").isEmpty, "\(folders.files(in: "inbox"))")
            #expect(folders.files(in: "failed").isEmpty)
        }

        /// Canva's multi-page download: numbered pages and the folder's own `_defaults.yaml` (with the prompt) make
        /// one video per page; a `prompt.txt` archive is a shot folder.
        @Test func aCanvaMultiPageExportFollowsTheFolderRules() async throws {
            let folders = try ServiceFolders("zip-canva")
            let emulator = try await startEmulator()
            try await withService(folders, emulator: emulator) { events, _ in
                await events.wait(for: "watching") { $0.contains(.watching) }
                let pages = folders.root + "/Launch deck.zip"
                try ZipFixture.write(pages, [
                    .file("_defaults.yaml", "prompt: \"Slow push-in on the slide\"\naspect_ratio: \"16:9\"\n"),
                    .file("1.png", Self.png()), .file("2.png", Self.png()), .file("3.png", Self.png()),
                ])
                try FileManager.default.moveItem(atPath: pages, toPath: folders.inbox + "/Launch deck.zip")
                let shot = folders.root + "/teaser.zip"
                try ZipFixture.write(shot, [.file("teaser/prompt.txt", "A teaser"), .file("teaser/first_frame.png", Self.png())])
                try FileManager.default.moveItem(atPath: shot, toPath: folders.inbox + "/teaser.zip")
                await events.wait(for: "four videos") { $0.filter(\.isDone).count == 4 }
            }
            await emulator.shutdown()
            #expect(emulator.stats.tasksCreated == 4)
            let outbox = folders.files(in: "outbox").filter { $0.hasSuffix(".mp4") }
            #expect(outbox == ["Launch deck/1.mp4", "Launch deck/2.mp4", "Launch deck/3.mp4", "teaser/teaser.mp4"], "\(outbox)")
            let archived = folders.files(in: "archive")
            #expect(archived.contains { $0.hasSuffix("/Launch deck.zip") } && archived.contains { $0.hasSuffix("/teaser.zip") }, "\(archived)")
            #expect(folders.files(in: "failed").isEmpty, "\(folders.files(in: "failed"))")
        }

        /// The limits come from the configuration, and under `archive_policy: keep` the archive still leaves the
        /// inbox (kept there, it would be unpacked again at every start).
        @Test func theConfiguredLimitsApplyAndAKeptArchiveStillLeavesTheInbox() async throws {
            let folders = try ServiceFolders("zip-limits")
            let emulator = try await startEmulator()
            try await withService(folders, emulator: emulator, configure: {
                $0.zipMaxEntries = 2
                $0.archivePolicy = .keep
            }) { events, _ in
                await events.wait(for: "watching") { $0.contains(.watching) }
                let three = folders.root + "/state/three.zip"
                try ZipFixture.write(three, [.file("a.txt", "A"), .file("b.txt", "B"), .file("c.txt", "C")])
                try FileManager.default.moveItem(atPath: three, toPath: folders.inbox + "/three.zip")
                let two = folders.root + "/state/shot.zip"
                try ZipFixture.write(two, [.file("prompt.txt", "A shot"), .file("first_frame.png", Self.png())])
                try FileManager.default.moveItem(atPath: two, toPath: folders.inbox + "/shot.zip")
                await events.wait(for: "one video, one refusal") {
                    $0.contains(where: \.isDone) && $0.contains { if case .archiveRefused = $0 { true } else { false } }
                }
            }
            await emulator.shutdown()
            let error = try String(contentsOfFile: folders.failed + "/three/three.error.txt", encoding: .utf8)
            #expect(error.contains("3 entries, more than the limit of 2 (zip_max_entries)"), "\(error)")
            #expect(folders.files(in: "archive").contains { $0.hasSuffix("/shot.zip") }, "\(folders.files(in: "archive"))")
            #expect(folders.files(in: "inbox") == ["shot/first_frame.png", "shot/prompt.txt"], "keep: the job's own inputs stay")
        }

        /// A hostile archive goes to `failed/` with an error file; nothing is written in the inbox or beside it.
        @Test func aHostileArchiveIsRefusedAndWritesNothing() async throws {
            let folders = try ServiceFolders("zip-hostile")
            let emulator = try await startEmulator()
            let before = Set(try FileManager.default.contentsOfDirectory(atPath: folders.root))
            try await withService(folders, emulator: emulator) { events, _ in
                await events.wait(for: "watching") { $0.contains(.watching) }
                let evil = folders.root + "/state/evil.zip"
                try ZipFixture.write(evil, [.file("hero.txt", "x"), .file("../../escaped.txt", "out"), .link("hero.png", to: "/etc/passwd")])
                try FileManager.default.moveItem(atPath: evil, toPath: folders.inbox + "/evil.zip")
                let secret = folders.root + "/state/secret.zip"
                try ZipFixture.write(secret, [.file("hero.txt", "x")])
                try ZipFixture.markEncrypted(secret)
                try FileManager.default.moveItem(atPath: secret, toPath: folders.inbox + "/secret.zip")
                await events.wait(for: "both refused") {
                    $0.filter { if case .archiveRefused = $0 { true } else { false } }.count == 2
                }
            }
            await emulator.shutdown()
            #expect(emulator.stats.tasksCreated == 0)
            #expect(folders.files(in: "failed") == ["evil/evil.error.txt", "evil/evil.zip", "secret/secret.error.txt", "secret/secret.zip"])
            let error = try String(contentsOfFile: folders.failed + "/evil/evil.error.txt", encoding: .utf8)
            #expect(error.contains("../../escaped.txt") && error.contains("What to do:"), "\(error)")
            let password = try String(contentsOfFile: folders.failed + "/secret/secret.error.txt", encoding: .utf8)
            #expect(password.contains("not supported: export without a password"), "\(password)")
            // Nothing in the inbox (no folder, no temporary folder), nothing new beside it or above it.
            #expect(try FileManager.default.contentsOfDirectory(atPath: folders.inbox).isEmpty)
            #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folders.root)) == before)
            let parentAfter = Set(try FileManager.default.contentsOfDirectory(atPath: (folders.root as NSString).deletingLastPathComponent))
            #expect(!parentAfter.contains("escaped.txt"))
        }
    }
}
