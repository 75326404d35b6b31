// SPDX-License-Identifier: GPL-2.0-or-later
import ArgumentParser
import Foundation
import HotFolderIO

/// `hotfolder watch`: shows which files the service would pick up, and when.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print each file in a folder as soon as it is complete (what the service would pick up).",
        discussion: """
            A file is READY when all of these hold:
              • it is a regular file (symlinks, FIFOs and devices are reported on stderr and never used);
              • its name is not hidden or temporary: dotfiles (this includes rsync's .NAME.XXXXXX),
                ~$* lock files, and names ending in .tmp .part .partial .crdownload .download .swp or ~;
              • no program is known to still be writing it, and its size and modification time have not
                changed for --settle seconds.
            A file copied slowly, uploaded by a sync client or written by rsync is printed once, after the
            copy is finished. An unchanged file is printed once; a file whose content or modification
            time changes afterwards is printed again. Files already in the folder are printed at start.
            Sub-folders are watched too, including folders created or moved in later.

            Mode: `auto` uses inotify on local disks and scanning (every --poll-interval seconds) on
            network shares (NFS, SMB/CIFS) and FUSE mounts, where inotify does not see other hosts' files.

            Runs until interrupted (Ctrl-C or SIGTERM), then exits 0. Diagnostics go to stderr.
            """
    )

    @Argument(help: "The folder to watch (the inbox).")
    var directory: String

    @Option(help: "Seconds a file's size and modification time must stay unchanged before it is ready.")
    var settle: Double = 2

    @Option(help: "auto (inotify on local disks, polling on network shares), inotify, or poll.")
    var mode: WatchMode = .auto

    @Option(help: "Seconds between scans in poll mode.")
    var pollInterval: Double = 5

    @Option(help: "Poll mode: auto, skip-unchanged (read a folder again only when its mtime changed) or read-all.")
    var pollFolders: FolderReading = .auto

    @Option(help: """
        Poll mode: a file unchanged for a minute is examined on one scan in this many, so a settled file rewritten \
        in place is seen up to this many scans later (added, removed and renamed files are seen at the next scan). \
        1 examines every file on every scan.
        """)
    var pollSettledEvery: Int = PollScanner.defaultSettledEvery

    @Option(help: "Seconds between safety rescans in inotify mode.")
    var rescanInterval: Double = 60

    @Flag(help: "Print one JSON object per line: {\"path\", \"size\", \"mtime\", ...}.")
    var json = false

    func validate() throws {
        guard settle >= 0, settle <= 86_400 else { throw ValidationError("--settle must be between 0 and 86400 seconds, not \(settle)") }
        guard pollInterval >= 0.1 else { throw ValidationError("--poll-interval must be at least 0.1 seconds, not \(pollInterval)") }
        guard pollSettledEvery >= 1 else { throw ValidationError("--poll-settled-every must be 1 or more, not \(pollSettledEvery)") }
        guard rescanInterval >= 1 else { throw ValidationError("--rescan-interval must be at least 1 second, not \(rescanInterval)") }
    }

    func run() async throws {
        var configuration = WatcherConfiguration(root: directory)
        configuration.settle = settle
        configuration.mode = mode
        configuration.pollInterval = pollInterval
        configuration.folderReading = pollFolders
        configuration.settledEvery = pollSettledEvery
        configuration.rescanInterval = rescanInterval
        let watcher = InboxWatcher(configuration: configuration)
        do {
            try watcher.validate()
        } catch {
            Terminal.error("hotfolder watch: \(error)")
            throw ExitCode.failure
        }
        let json = self.json
        try await Terminal.runUntilSignalled {
            try await watcher.run { event in
                switch event {
                case .started(let mode, let fileSystem):
                    Terminal.error("watching \(watcher.configuration.root) (\(mode.rawValue) on \(fileSystem), settle \(watcher.configuration.settle) s)")
                case .ready(let file):
                    Terminal.output(json ? Self.jsonLine(file) : file.relativePath)
                case .unsupported(let file):
                    Terminal.error("ignored \(file.relativePath): a \(file.stat.kind.rawValue), not a regular file")
                case .problem(let problem):
                    Terminal.error("warning: \(problem)")
                case .scanCompleted:
                    break
                }
            }
        }
    }

    static func jsonLine(_ file: ReadyFile) -> String {
        let seconds = Double(file.stat.mtimeNanoseconds) / 1e9
        let object: [String: Any] = [
            "path": file.relativePath,
            "size": file.stat.size,
            "mtime": Terminal.iso8601(seconds),
            "mtime_ns": file.stat.mtimeNanoseconds,
            "inode": file.stat.inode,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

extension WatchMode: ExpressibleByArgument {}
extension FolderReading: ExpressibleByArgument {}
