// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import Testing

/// `notify:`, `stall_after` and `instance` in the configuration file, and errors that say what to fix.
@Suite struct NotifyConfigurationTests {
    let folder: String
    let file: String

    init() throws {
        folder = NSTemporaryDirectory() + "hotfolder-notify-config-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        file = folder + "/hotfolder.yaml"
        try Data("s3cret-MARKER-5b1e\n".utf8).write(to: URL(fileURLWithPath: folder + "/webhook-secret"))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: folder + "/webhook-secret")
    }

    func load(_ yaml: String, environment: [String: String] = [:]) throws -> LoadedConfiguration {
        let loader = ServiceConfigurationLoader(environment: environment, currentDirectory: "/work", homeDirectory: "/home/op")
        return try loader.load(yaml: "inbox: /srv/in\n" + yaml, file: file)
    }

    func error(_ yaml: String) -> String {
        do {
            _ = try load(yaml)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func targetsAreRead() throws {
        let loaded = try load(
            """
            notify:
              - url: https://hooks.example.com/hotfolder?token=abc
                secret_file: webhook-secret
                events: [job.failed, queue.*]
              - command: apprise -b - mailto://ops@example.com
                events: job.done
                timeout: 45s
              - command: [/usr/local/bin/notify, --json]
            stall_after: 45m
            instance: render-01
            """)
        let config = loaded.configuration
        #expect(loaded.warnings.isEmpty)
        #expect(config.notify.count == 3)
        #expect(config.notify[0].destination == .url("https://hooks.example.com/hotfolder?token=abc"))
        #expect(config.notify[0].secretFile == folder + "/webhook-secret", "relative to the file's folder")
        #expect(config.notify[0].events == (try NotificationFilter(patterns: ["job.failed", "queue.*"])))
        #expect(config.notify[0].timeout == .seconds(10))
        #expect(config.notify[0].label == "https://hooks.example.com", "no path or query: that is where tokens live")
        #expect(config.notify[1].destination == .command(["/bin/sh", "-c", "apprise -b - mailto://ops@example.com"]))
        #expect(config.notify[1].timeout == .seconds(45) && config.notify[1].label == "command apprise")
        #expect(config.notify[2].destination == .command(["/usr/local/bin/notify", "--json"]))
        #expect(config.notify[2].timeout == .seconds(30) && config.notify[2].events == .all)
        #expect(Set(config.notify.map(\.key)).count == 3 && config.notify.allSatisfy { !$0.key.contains("token") })
        #expect(config.stallAfter == .seconds(2700) && config.instance == "render-01")
        #expect(!"\(config)".contains("s3cret-MARKER"), "the secret is not part of the configuration")
    }

    @Test func defaultsAndTheEnvironment() throws {
        let config = try load("").configuration
        #expect(config.notify.isEmpty && config.stallAfter == .seconds(1800) && config.instance == nil)
        let env = try load("", environment: ["HOTFOLDER_STALL_AFTER": "10m", "HOTFOLDER_INSTANCE": "node-2"]).configuration
        #expect(env.stallAfter == .seconds(600) && env.instance == "node-2")
    }

    @Test func errorsNameTheLineTheKeyAndTheFix() {
        let unknown = error("notify:\n  - url: https://h.example.com\n    evnts: [job.done]\n")
        #expect(unknown.contains("line 4") && unknown.contains("`notify.evnts`") && unknown.contains("did you mean `notify.events`"), "\(unknown)")

        let scheme = error("notify:\n  - url: ftp://files.example.com/drop\n")
        #expect(scheme.contains("line 3") && scheme.contains("notify.url") && scheme.contains("http(s) URL"), "\(scheme)")

        let missing = error("notify:\n  - url: https://h.example.com\n    secret_file: /nonexistent/secret\n")
        #expect(missing.contains("notify.secret_file") && missing.contains("/nonexistent/secret") && missing.contains("no such file"), "\(missing)")

        let both = error("notify:\n  - url: https://h.example.com\n    command: mail ops\n")
        #expect(both.contains("both `url` and `command`") && both.contains("line 4"), "\(both)")

        let neither = error("notify:\n  - events: [job.done]\n")
        #expect(neither.contains("needs `url:`"), "\(neither)")

        let event = error("notify:\n  - url: https://h.example.com\n    events: [job.don]\n")
        #expect(event.contains("notify.events") && event.contains("job.don") && event.contains("job.done (did you mean it?)"), "\(event)")

        let stall = error("stall_after: soon\n")
        #expect(stall.contains("stall_after") && stall.contains("duration"), "\(stall)")
    }

    @Test func theSecretNeverShowsInAnError() throws {
        try Data().write(to: URL(fileURLWithPath: folder + "/empty"))
        let empty = error("notify:\n  - url: https://h.example.com\n    secret_file: empty\n")
        #expect(empty.contains("it is empty"), "\(empty)")
        let ok = try load("notify:\n  - url: https://h.example.com\n    secret_file: webhook-secret\n")
        #expect(!"\(ok)".contains("s3cret-MARKER") && ok.warnings.isEmpty)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: folder + "/webhook-secret")
        let open = try load("notify:\n  - url: https://h.example.com\n    secret_file: webhook-secret\n")
        #expect(open.warnings.contains { $0.contains("readable by group or others") && $0.contains("chmod 600") }, "\(open.warnings)")
        #expect(!"\(open)".contains("s3cret-MARKER"))
    }
}
