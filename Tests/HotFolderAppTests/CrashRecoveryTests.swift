// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Glibc
import HotFolderApp
import HotFolderCore
import HotFolderIO
import SeedanceEmulator
import Testing

/// The built `hotfolder run` as a separate process, killed with SIGKILL at chosen points and restarted.
extension ServiceSuites {
@Suite struct CrashRecoveryTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// One `hotfolder run` process with its stderr in `root/logs/`.
    final class ServiceProcess {
        let process = Process()
        let log: String

        init(_ folders: ServiceFolders, arguments: [String] = ["run"], run index: Int) throws {
            let binary = CrashRecoveryTests.packageRoot.appendingPathComponent(".build/debug/hotfolder")
            try #require(FileManager.default.isExecutableFile(atPath: binary.path), "build first: swift build --build-tests")
            try FileManager.default.createDirectory(atPath: folders.root + "/logs", withIntermediateDirectories: true)
            log = folders.root + "/logs/run-\(index).log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            process.executableURL = binary
            process.arguments = arguments + ["--config", folders.root + "/hotfolder.yaml"]
            var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("HOTFOLDER_") }
            environment["SEEDANCE_API_KEY"] = serviceTestKey
            process.environment = environment
            process.standardError = FileHandle(forWritingAtPath: log)
            process.standardOutput = FileHandle(forWritingAtPath: log)
            try process.run()
        }

        func kill9() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
    }

    static func writeConfig(_ folders: ServiceFolders, baseURL: String, extra: String = "") throws {
        let yaml = """
            inbox: inbox
            outbox: outbox
            failed: failed
            archive: archive
            state_dir: state
            base_url: \(baseURL)
            settle: 100ms
            poll_first_delay: 50ms
            poll_min_interval: 50ms
            poll_max_interval: 300ms
            max_status_calls_per_second: 200
            backoff_base: 20ms
            backoff_max: 200ms
            request_timeout: 60s
            shutdown_grace: 2s
            defaults:
              resolution: 480p
              duration: 2
            \(extra)
            """
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: folders.root + "/hotfolder.yaml"))
    }

    /// Waits (checking the database every 20 ms: the service is another process) until `condition` holds.
    static func waitForState(
        _ folders: ServiceFolders, _ what: @autoclosure () -> String, timeout: Double = 30, sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: ([JobState: Int]) -> Bool
    ) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: folders.state + "/hotfolder.sqlite"),
                let store = try? SQLiteStateStore(directory: folders.state),
                let counts = try? store.countsByState()
            {
                try? store.close()
                if condition(counts) { return }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for \(what())", sourceLocation: sourceLocation)
    }

    static func videos(_ folders: ServiceFolders) -> [String] {
        folders.files(in: "outbox").filter { $0.hasSuffix(".mp4") }
    }

    static func checkNoPartialFiles(_ folders: ServiceFolders, sourceLocation: SourceLocation = #_sourceLocation) {
        for file in folders.files(in: "outbox") {
            let name = (file as NSString).lastPathComponent
            #expect(!name.hasPrefix("."), "temporary file left in the outbox: \(file)", sourceLocation: sourceLocation)
            let size = (try? FileManager.default.attributesOfItem(atPath: folders.outbox + "/" + file)[.size] as? Int) ?? 0
            #expect(size > 0, "empty file in the outbox: \(file)", sourceLocation: sourceLocation)
        }
    }

    @Test func killedWhilePollingResumesWithoutResubmitting() async throws {
        let folders = try ServiceFolders("kill-poll")
        let emulator = try await startEmulator(run: 2)
        try Self.writeConfig(folders, baseURL: emulator.baseURL)
        let first = try ServiceProcess(folders, run: 1)
        try folders.drop("poll.txt", "Waves under a full moon")
        try await Self.waitForState(folders, "a task in flight") { ($0[.submitted] ?? 0) + ($0[.running] ?? 0) == 1 }
        first.kill9()
        let second = try ServiceProcess(folders, run: 2)
        try await Self.waitForState(folders, "the video") { $0[.done] == 1 }
        second.process.interrupt()
        second.process.waitUntilExit()
        await emulator.shutdown()
        #expect(second.process.terminationStatus == 0)
        #expect(second.output.contains("resuming 1 task(s) in flight"))
        #expect(emulator.stats.tasksCreated == 1, "the task was not submitted twice")
        #expect(Self.videos(folders) == ["poll.mp4"])
        Self.checkNoPartialFiles(folders)
        #expect(folders.filesContaining(serviceTestKey).isEmpty)
    }

    @Test func killedDuringTheCreateCallBecomesUncertainAndIsNotResubmittedSilently() async throws {
        let folders = try ServiceFolders("kill-create")
        let stalled = try await startEmulator(faults: [.stall: 1], stall: 60)
        let port = stalled.port
        try Self.writeConfig(folders, baseURL: stalled.baseURL)
        let first = try ServiceProcess(folders, run: 1)
        try folders.drop("maybe.txt", "A kite above the dunes")
        try await Self.waitForState(folders, "the create call") { $0[.submitting] == 1 }
        first.kill9()
        await stalled.shutdown()
        let healthy = try await startEmulator(port: port)
        let second = try ServiceProcess(folders, run: 2)
        try await Self.waitForState(folders, "the uncertain job") { $0[.uncertain] == 1 }
        // The status explains the possible double charge; the input stays in the inbox; nothing is resubmitted.
        let store = try SQLiteStateStore(directory: folders.state)
        let status = try await StatusReport.read(store: store, stateDirectory: folders.state)
        #expect(status.active.first?.note?.contains("double charge") == true, "\(status.text)")
        #expect(folders.files(in: "inbox") == ["maybe.txt"])
        #expect(healthy.stats.tasksCreated == 0)
        // An operator accepts the risk: `hotfolder retry --uncertain`.
        let retry = try ServiceProcess(folders, arguments: ["retry", "--uncertain"], run: 3)
        retry.process.waitUntilExit()
        #expect(retry.process.terminationStatus == 0, "\(retry.output)")
        try await Self.waitForState(folders, "the video after the retry") { $0[.done] == 1 }
        second.process.interrupt()
        second.process.waitUntilExit()
        await healthy.shutdown()
        #expect(healthy.stats.tasksCreated == 1)
        #expect(Self.videos(folders) == ["maybe.mp4"])
        #expect(second.output.contains("uncertain"))
        #expect(folders.filesContaining(serviceTestKey).isEmpty)
    }

    @Test func killedWhileUploadingStartsOverWithoutACharge() async throws {
        let folders = try ServiceFolders("kill-upload")
        let stalled = try await startEmulator(faults: [.stall: 1], stall: 60)
        let port = stalled.port
        try Self.writeConfig(folders, baseURL: stalled.baseURL)
        let first = try ServiceProcess(folders, run: 1)
        try folders.drop("frame.png", Data(PNGWriter.gradient(width: 400, height: 300, from: (0, 0, 0), to: (255, 255, 255))))
        try folders.drop("frame.txt", "The picture comes alive")
        try await Self.waitForState(folders, "the upload") { $0[.uploading] == 1 }
        first.kill9()
        await stalled.shutdown()
        let healthy = try await startEmulator(port: port)
        let second = try ServiceProcess(folders, run: 2)
        try await Self.waitForState(folders, "the video") { $0[.done] == 1 }
        second.process.interrupt()
        second.process.waitUntilExit()
        await healthy.shutdown()
        #expect(healthy.stats.tasksCreated == 1)
        #expect(Self.videos(folders) == ["frame.mp4"])
        Self.checkNoPartialFiles(folders)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/ffmpeg"), "needs ffmpeg for a slow render"))
    func killedMidDownloadFinishesWithOneVideo() async throws {
        let folders = try ServiceFolders("kill-download")
        // A real render of a long 1080p clip keeps the download request busy for a while.
        let emulator = try await startEmulator(bundled: false)
        try Self.writeConfig(folders, baseURL: emulator.baseURL)
        let first = try ServiceProcess(folders, run: 1)
        try folders.drop("long.yaml", "resolution: 1080p\nduration: 12\n")
        try folders.drop("long.txt", "A very long establishing shot of a city at night")
        try await Self.waitForState(folders, "the download") { $0[.downloading] == 1 }
        first.kill9()
        let second = try ServiceProcess(folders, run: 2)
        try await Self.waitForState(folders, "the video", timeout: 120) { $0[.done] == 1 }
        second.process.interrupt()
        second.process.waitUntilExit()
        await emulator.shutdown()
        #expect(emulator.stats.tasksCreated == 1)
        #expect(Self.videos(folders) == ["long.mp4"])
        Self.checkNoPartialFiles(folders)
    }

    @Test func sigtermStopsPromptlyAndCleanly() async throws {
        let folders = try ServiceFolders("sigterm")
        let emulator = try await startEmulator(run: 30)
        try Self.writeConfig(folders, baseURL: emulator.baseURL)
        let service = try ServiceProcess(folders, run: 1)
        try folders.drop("slow.txt", "A glacier calving")
        try await Self.waitForState(folders, "a task in flight (log: \(service.output))") { ($0[.submitted] ?? 0) + ($0[.running] ?? 0) == 1 }
        service.process.terminate()
        service.process.waitUntilExit()
        await emulator.shutdown()
        #expect(service.process.terminationStatus == 0, "\(service.output)")
        #expect(service.output.contains("hotfolder stopped"))
        // The task is still in flight in the database, ready to be resumed.
        let store = try SQLiteStateStore(directory: folders.state)
        #expect(try store.inFlightTasks().count == 1)
    }
}
}
