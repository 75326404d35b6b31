// SPDX-License-Identifier: GPL-2.0-or-later
import ArgumentParser
import Foundation
import HotFolderApp

/// `hotfolder init`: a ready-to-run folder layout with a configuration and examples.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create inbox, outbox, failed and archive folders, a configuration and example drops.",
        discussion: """
            The examples go into <dir>/examples/, not into the inbox, so nothing is submitted (or paid)
            until you move one into the inbox.
            """)

    @Argument(help: "The folder to set up (created if needed).") var directory: String

    func run() async throws {
        let root = (directory as NSString).standardizingPath
        let fileManager = FileManager.default
        for folder in ["inbox", "outbox", "failed", "archive", "state", "examples"] {
            try fileManager.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
        }
        let config = root + "/hotfolder.yaml"
        if fileManager.fileExists(atPath: config) {
            Terminal.error("keeping the existing \(config)")
        } else {
            try Data(Self.configText.utf8).write(to: URL(fileURLWithPath: config))
        }
        let examples = try ExampleDrops.write(into: root + "/examples")
        Terminal.output("""
            Created \(root):
              inbox/     drop files here
              outbox/    videos, their metadata (.json) and logs appear here
              failed/    drops that could not be made into videos, each with an .error.txt
              archive/   inputs of finished jobs
              state/     the service's database
              examples/  \(examples.count) example files: one drop of each kind (move them into inbox/ to run them)
              hotfolder.yaml   the configuration (every setting is documented in etc/hotfolder.example.yaml)

            Next:
              export SEEDANCE_API_KEY=...        (or set api_key_file in hotfolder.yaml)
              hotfolder doctor --config \(config)
              hotfolder plan \(root)/examples      (what the examples would cost, without spending anything)
              hotfolder run --config \(config)
            """)
    }

    static let configText = """
        # hotfolder configuration. Relative paths are relative to this file.
        # Every setting, with its default, is documented in etc/hotfolder.example.yaml.
        inbox: inbox
        outbox: outbox
        failed: failed
        archive: archive
        state_dir: state
        archive_policy: move
        provider: gateway
        # api_key_file: hotfolder.key   # or set SEEDANCE_API_KEY in the environment
        defaults:
          model: fast
          resolution: 720p
          duration: 5
        max_in_flight: 4

        """
}
