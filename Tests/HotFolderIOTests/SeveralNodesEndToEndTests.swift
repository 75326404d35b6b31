// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderIO
import SeedanceEmulator
import Testing

/// `hotfolder run` as several machines run it (issue 12): separate processes on one inbox, each with its own state
/// folder, sharing one PostgreSQL database through `store:` (the suite's private cluster), against the emulator.
@Suite(
    .enabled(if: PostgresCluster.findBinaries() != nil, Comment(rawValue: PostgresCluster.missingMessage)),
    SharedPostgresCluster())
struct SeveralNodesEndToEndTests {
    /// One node of the test: its `hotfolder run` process and where it writes.
    final class Node: @unchecked Sendable {
        let name: String
        let configPath: String
        let process = Process()
        let logPath: String

        init(name: String, directory: URL, url: String, baseURL: String) throws {
            self.name = name
            let root = directory.path
            configPath = root + "/\(name).yaml"
            logPath = root + "/\(name).log"
            let yaml = """
                inbox: \(root)/inbox
                outbox: \(root)/outbox
                failed: \(root)/failed
                archive: \(root)/archive
                state_dir: \(root)/state-\(name)
                base_url: \(baseURL)
                settle: 0.3s
                poll_first_delay: 0.5s
                poll_min_interval: 0.5s
                node_name: \(name)
                lease: 3s
                shutdown_grace: 2s
                store: \(url)

                """
            try Data(yaml.utf8).write(to: URL(fileURLWithPath: configPath))
        }

        /// Starts `hotfolder run` (the key from the environment, as systemd's EnvironmentFile gives it).
        func start() throws {
            process.executableURL = try PlanCommandEndToEndTests.hotfolder()
            process.arguments = ["run", "--config", configPath]
            var environment = ProcessInfo.processInfo.environment
            environment["SEEDANCE_API_KEY"] = testKey
            environment["PGPASSWORD"] = nil
            process.environment = environment
            FileManager.default.createFile(atPath: logPath, contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            process.standardError = log
            process.standardOutput = log
            try process.run()
        }

        var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

        func stop() {
            if process.isRunning { process.interrupt() }
            process.waitUntilExit()
        }

        func kill() {
            if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    /// Polls `condition` every 50 ms until it holds or `timeout` passes (files appearing have no event to await).
    static func waitFor(_ what: String, timeout: Double = 60, _ condition: () throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out after \(timeout) s waiting for \(what)")
    }

    static func videos(in directory: URL) -> [String] {
        let outbox = directory.appendingPathComponent("outbox").path
        let names = (FileManager.default.enumerator(atPath: outbox)?.allObjects as? [String]) ?? []
        return names.filter { $0.hasSuffix(".mp4") }.sorted()
    }

    /// `hotfolder status --json` of a node's configuration.
    static func status(_ node: Node) throws -> [String: Any] {
        let (code, out, err) = try PlanCommandEndToEndTests.run(["status", "--json", "--config", node.configPath])
        #expect(code == 0, "hotfolder status: \(err)")
        return (try JSONSerialization.jsonObject(with: out) as? [String: Any]) ?? [:]
    }

    /// Two nodes watching one inbox make one job and one create call per drop, whichever node sees it first, and
    /// `hotfolder status` (on the shared database) lists both. Then node a is killed with SIGKILL while its tasks
    /// run at the provider: b takes them over once a's lease ends and delivers every video without creating any
    /// task again.
    @Test func twoNodesOnOneInboxAndADeadNodesTasksAreTakenOver() async throws {
        let database = try await StoreMigrationTests.makeDatabase()
        let url = try StoreMigrationTests.url(database)
        try await EmulatorFixture.with({ $0.runSeconds = 4 }) { fixture in
            let directory = fixture.directory
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("inbox"), withIntermediateDirectories: true)
            let a = try Node(name: "a", directory: directory, url: url, baseURL: fixture.emulator.baseURL)
            let b = try Node(name: "b", directory: directory, url: url, baseURL: fixture.emulator.baseURL)
            try a.start()
            defer { a.stop() }
            try b.start()
            defer { b.stop() }
            try await Self.waitFor("both nodes to watch the inbox") { a.log.contains("watching") && b.log.contains("watching") }

            // First round: each drop one job, one create call.
            for index in 1...6 {
                try Data("A lighthouse in a storm, take \(index)".utf8)
                    .write(to: directory.appendingPathComponent("inbox/first-\(index).txt"))
            }
            try await Self.waitFor("six videos") { Self.videos(in: directory).count >= 6 }
            #expect(fixture.emulator.stats.tasksCreated == 6, "one create call per drop: \(fixture.emulator.stats.tasksCreated)")
            let status = try Self.status(a)
            let nodes = ((status["nodes"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }
            #expect(nodes == ["a", "b"], "status lists both nodes: \(nodes)")
            #expect((status["counts"] as? [String: Any])?["done"] as? Int == 6, "\(status["counts"] ?? "")")

            // Second round: a dies while the tasks run (4 s each at the emulator).
            for index in 1...6 {
                try Data("A fox in the snow, take \(index)".utf8)
                    .write(to: directory.appendingPathComponent("inbox/second-\(index).txt"))
            }
            try await Self.waitFor("the six new tasks to be created") { fixture.emulator.stats.tasksCreated >= 12 }
            a.kill()
            try await Self.waitFor("twelve videos", timeout: 90) { Self.videos(in: directory).count >= 12 }
            #expect(fixture.emulator.stats.tasksCreated == 12, "no task created again: \(fixture.emulator.stats.tasksCreated)")
            #expect(Self.videos(in: directory).count == 12, "one video per drop: \(Self.videos(in: directory))")
            let after = try Self.status(b)
            #expect((after["counts"] as? [String: Any])?["done"] as? Int == 12, "\(after["counts"] ?? "")\n\(b.log.suffix(3000))")
            let inbox = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("inbox").path)
            #expect(inbox.filter { $0.hasSuffix(".txt") }.isEmpty, "every drop archived: \(inbox)")
            b.stop()
            #expect(!a.log.contains(testKey) && !b.log.contains(testKey), "the API key appeared in a node's log")
        }
    }
}
