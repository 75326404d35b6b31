// SPDX-License-Identifier: GPL-2.0-or-later
import ArgumentParser
import AsyncHTTPClient
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import Logging

/// `hotfolder doctor`: checks everything the service needs and says what to fix.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the configuration, API key, API reachability, folders, file systems and inotify limits.")

    @OptionGroup var options: ConfigOptions
    @Flag(help: "Skip the network check of the API.") var offline = false

    func run() async throws {
        var problems = 0
        func ok(_ text: String) { Terminal.output("✔ " + text) }
        func warn(_ text: String) { Terminal.output("! " + text) }
        func bad(_ text: String) {
            problems += 1
            Terminal.output("✘ " + text)
        }

        let configuration = try options.load()
        ok("configuration loaded\(configuration.configFile.map { " from \($0)" } ?? " (environment and defaults only)")")

        var apiKey: String?
        do {
            let key = try ServiceConfigurationLoader().resolveAPIKey(for: configuration)
            ok("API key found in \(key.source)")
            key.warnings.forEach(warn)
            apiKey = key.key.exposedValue
        } catch {
            bad("API key: \(error)")
        }

        let inbox = HotFolderService.absolute(configuration.inbox)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: inbox, isDirectory: &isDirectory), isDirectory.boolValue {
            if FileManager.default.isReadableFile(atPath: inbox) {
                ok("inbox \(inbox) exists and is readable")
            } else {
                bad("inbox \(inbox) is not readable: give the service's user read and execute permission")
            }
            if let kind = FileSystemProbe.fileSystemKind(of: inbox) {
                if kind.needsPolling {
                    let note = configuration.watchMode == .inotify ? " but watch_mode is inotify: set watch_mode: auto or poll" : " (watch_mode \(configuration.watchMode.rawValue) will poll)"
                    (configuration.watchMode == .inotify ? bad : warn)("the inbox is on \(kind) (a network or FUSE file system): inotify misses files written by other machines\(note)")
                } else {
                    ok("the inbox is on \(kind): inotify works")
                }
            }
        } else {
            bad("inbox \(inbox) does not exist: create it with `mkdir -p \(inbox)`")
        }
        for (label, path) in [("outbox", configuration.outbox), ("failed", configuration.failed), ("archive", configuration.archive), ("state_dir", configuration.stateDirectory)] {
            let absolute = HotFolderService.absolute(path)
            if FileManager.default.fileExists(atPath: absolute) {
                if FileManager.default.isWritableFile(atPath: absolute) {
                    ok("\(label) \(absolute) is writable")
                } else {
                    bad("\(label) \(absolute) is not writable by this user: fix its owner or permissions")
                }
            } else {
                let parent = (absolute as NSString).deletingLastPathComponent
                if FileManager.default.isWritableFile(atPath: parent) {
                    ok("\(label) \(absolute) will be created")
                } else {
                    bad("\(label) \(absolute) does not exist and \(parent) is not writable: create it")
                }
            }
        }

        let watches = Self.readInt("/proc/sys/fs/inotify/max_user_watches")
        let folders = Self.countFolders(inbox)
        if let watches {
            if folders * 2 > watches {
                bad("the inbox has \(folders) folders but fs.inotify.max_user_watches is \(watches): raise it, e.g. `sysctl fs.inotify.max_user_watches=524288`")
            } else {
                ok("inotify: \(folders) folder(s) to watch, limit \(watches) (fs.inotify.max_user_watches)")
            }
        }
        if let queued = Self.readInt("/proc/sys/fs/inotify/max_queued_events"), queued < 16_384 {
            warn("fs.inotify.max_queued_events is \(queued): bursts of more than \(queued / 2) files cause rescans; consider raising it")
        }

        if !offline, let apiKey {
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            let api = ServiceLauncher.makeAPI(configuration: configuration, apiKey: apiKey, httpClient: client, uploadCache: nil, logger: Logger(label: "doctor"))
            do {
                _ = try await api.task(id: "task_00000000000000000000000000")
                ok("the API at \(configuration.baseURL) answers and accepts the key")
            } catch let error as VideoAPIError {
                switch error.category {
                case .auth: bad("the API at \(configuration.baseURL) refused the key: \(error)")
                case .transient: bad("the API at \(configuration.baseURL) cannot be reached: \(error)")
                default: ok("the API at \(configuration.baseURL) answers and accepts the key")
                }
            } catch {
                bad("the API at \(configuration.baseURL): \(error)")
            }
            try? await client.shutdown()
        }

        Terminal.output(problems == 0 ? "\nAll checks passed." : "\n\(problems) problem(s) to fix.")
        if problems > 0 { throw ExitCode.failure }
    }

    static func readInt(_ path: String) -> Int? {
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    static func countFolders(_ root: String) -> Int {
        var count = 1
        DirectoryWalker().walk(root, visitDirectory: { _ in count += 1 }, visitEntry: { _ in }, problem: { _ in })
        return count - 1
    }
}
