// SPDX-License-Identifier: GPL-2.0-or-later
import AsyncHTTPClient
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
                http:
                  listen: 127.0.0.1:0

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
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            process.standardError = log
            process.standardOutput = log
            try process.run()
        }

        var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

        /// The dashboard's address from the log line `dashboard on http://…/`.
        var dashboard: String? {
            guard let range = log.range(of: "dashboard on ") else { return nil }
            return log[range.upperBound...].split(separator: "\n").first.map { String($0).trimmingCharacters(in: .whitespaces) }
        }

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

    /// Drops still in the inbox (a finished job's files are archived after its last commit).
    static func drops(in directory: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("inbox").path)) ?? []
        return names.filter { $0.hasSuffix(".txt") }
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
        try await Fixture.with({ $0.runSeconds = 6 }) { fixture in
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
            try await Self.waitFor("six videos, their drops archived") {
                Self.videos(in: directory).count >= 6 && Self.drops(in: directory).isEmpty
            }
            #expect(fixture.emulator.stats.tasksCreated == 6, "one create call per drop: \(fixture.emulator.stats.tasksCreated)")
            let status = try Self.status(a)
            let nodes = ((status["nodes"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }
            #expect(nodes == ["a", "b"], "status lists both nodes: \(nodes)")
            #expect((status["counts"] as? [String: Any])?["done"] as? Int == 6, "\(status["counts"] ?? "")")
            // Each node's dashboard reads the shared database: b lists the jobs a made too.
            let address = try #require(b.dashboard, "node b's dashboard address in its log")
            let response = try await fixture.http.execute(HTTPClientRequest(url: address + "api/v1/jobs?state=done"), timeout: .seconds(10))
            let body = Data(try await response.body.collect(upTo: 1 << 20).readableBytesView)
            let listed = ((try JSONSerialization.jsonObject(with: body) as? [String: Any])?["jobs"] as? [[String: Any]]) ?? []
            #expect(listed.count == 6, "node b's dashboard lists the six done jobs: \(String(decoding: body, as: UTF8.self).prefix(500))")

            // Second round: b is frozen (SIGSTOP) so that a makes every task, then a dies (SIGKILL) while the tasks run
            // (6 s each at the emulator) and b, thawed, must take them over once a's lease ends.
            Glibc.kill(b.process.processIdentifier, SIGSTOP)
            for index in 1...6 {
                try Data("A fox in the snow, take \(index)".utf8)
                    .write(to: directory.appendingPathComponent("inbox/second-\(index).txt"))
            }
            // Killed once a recorded every task id (killed between the create call and its record, a job becomes
            // uncertain instead: a path of its own).
            var inFlight = 0
            try await Self.waitFor("a to record the six new tasks") {
                guard fixture.emulator.stats.tasksCreated >= 12 else { return false }
                let active = (try Self.status(a)["active"] as? [[String: Any]]) ?? []
                inFlight = active.count
                return active.allSatisfy { $0["taskId"] is String }
            }
            #expect(fixture.emulator.stats.tasksCreated == 12)
            #expect(inFlight >= 1, "a still has tasks running when it is killed")
            a.kill()
            Glibc.kill(b.process.processIdentifier, SIGCONT)
            try await Self.waitFor("twelve videos, their drops archived", timeout: 90) {
                Self.videos(in: directory).count >= 12 && Self.drops(in: directory).isEmpty
            }
            #expect(fixture.emulator.stats.tasksCreated == 12, "no task created again: \(fixture.emulator.stats.tasksCreated)")
            #expect(Self.videos(in: directory).count == 12, "one video per drop: \(Self.videos(in: directory))")
            let takenOver = b.log.components(separatedBy: "taken over from node a").count - 1
            // Some may have finished between the status read and the kill; a finished job whose inputs a had not moved
            // yet is taken over too (to move them), though `status` no longer lists it as active: at most the six.
            #expect(takenOver >= 1 && takenOver <= 6, "b took a's jobs over (\(inFlight) in flight at the last look): \(takenOver)\n\(b.log.suffix(3000))")
            let after = try Self.status(b)
            #expect((after["counts"] as? [String: Any])?["done"] as? Int == 12, "\(after["counts"] ?? "")\n\(b.log.suffix(3000))")
            b.stop()
            #expect(!a.log.contains(testKey) && !b.log.contains(testKey), "the API key appeared in a node's log")
        }
    }
}
