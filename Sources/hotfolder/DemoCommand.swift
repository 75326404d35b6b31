// SPDX-License-Identifier: GPL-2.0-or-later
import ArgumentParser
import Foundation
import HotFolderApp
import HotFolderCore
import Logging
import SeedanceEmulator

/// `hotfolder demo`: the emulator and the service together, no API key needed.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the service against the built-in emulator on ./demo (no API key, nothing is paid).",
        discussion: """
            Creates ./demo/{inbox,outbox,failed,archive,state}, starts the Seedance emulator on loopback and
            the service on those folders. Drop a prompt file into demo/inbox and watch its video appear in
            demo/outbox a few seconds later. Ctrl-C stops both.
            """)

    @Option(help: "The demo folder.") var directory = "demo"
    @Option(help: "Seconds each emulated task waits in the queue.") var queueSeconds = 1.0
    @Option(help: "Seconds each emulated task runs.") var runSeconds = 2.0
    @Flag(help: "Start with the example drops already in the inbox.") var examples = false
    @Option(help: "The dashboard's port on 127.0.0.1 (0: any free port).") var dashboardPort = 8470

    func run() async throws {
        let root = HotFolderService.absolute(directory)
        for folder in ["inbox", "outbox", "failed", "archive", "state"] {
            try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
        }
        let logger = makeLogger(level: .info)
        var emulatorConfiguration = EmulatorConfiguration()
        emulatorConfiguration.port = 0
        emulatorConfiguration.apiKey = "demo-key"
        emulatorConfiguration.queueSeconds = queueSeconds
        emulatorConfiguration.runSeconds = runSeconds
        let emulator = try await SeedanceEmulator.start(emulatorConfiguration, logger: logger)

        var configuration = ServiceConfiguration(inbox: root + "/inbox", stateDirectory: root + "/state")
        configuration.outbox = root + "/outbox"
        configuration.failed = root + "/failed"
        configuration.archive = root + "/archive"
        configuration.baseURL = emulator.baseURL
        configuration.settle = .milliseconds(500)
        configuration.pollFirstDelay = .milliseconds(500)
        configuration.pollMinInterval = .milliseconds(500)
        configuration.pollMaxInterval = .seconds(2)
        configuration.maxStatusCallsPerSecond = 50
        configuration.defaults = ["resolution": "480p", "duration": "3"]

        configuration.http.port = dashboardPort
        if examples { try ExampleDrops.write(into: root + "/inbox") }
        Terminal.error("""

            hotfolder demo — emulator at \(emulator.baseURL) (\(emulator.videoSource))
              drop files into   \(root)/inbox    e.g.  echo "A red fox in the snow" > \(directory)/inbox/fox.txt
              videos appear in  \(root)/outbox
              problems go to    \(root)/failed
              examples of every kind of drop:  hotfolder init /tmp/hf && ls /tmp/hf/examples
            Ctrl-C stops.

            """)
        do {
            // Labelled: an unlabelled trailing closure would bind to `observer` and print every service event.
            try await ServiceLauncher.run(
                configuration: configuration, apiKey: "demo-key", logger: logger,
                onDashboard: { address in Terminal.error("  dashboard         \(address)\n") })
        } catch {
            await emulator.shutdown()
            throw error
        }
        await emulator.shutdown()
    }
}
