// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Yams

/// `notify:`: a list of targets, each a webhook (`url:`) or a command (`command:`), with `events:`,
/// `secret_file:` and `timeout:`.
///
/// ```yaml
/// notify:
///   - url: https://hooks.example.com/hotfolder
///     secret_file: /etc/hotfolder/webhook-secret
///     events: [job.failed, job.uncertain, queue.*]
///   - command: apprise -b - mailto://ops@example.com
///     events: job.done
///     timeout: 30s
/// ```
extension ServiceConfigurationLoader {
    /// The sub-settings of one target.
    static let notifyKeys = ["url", "command", "events", "secret_file", "timeout"]

    func parseNotify(_ section: Section, warnings: inout [String]) throws -> [NotifyTarget] {
        let items: [Node]
        if let sequence = section.node.sequence {
            items = Array(sequence)
        } else if section.node.mapping != nil {
            items = [section.node]  // one target written without the dash
        } else {
            throw ConfigurationError.invalidValue(
                source: section.source, key: "notify", value: section.node.string ?? "a value",
                expected: "a list of targets, each with `url:` or `command:`")
        }
        var targets: [NotifyTarget] = []
        for item in items {
            let itemSource = Self.source(section.file, item)
            let entrySection = Section(node: item, source: itemSource, file: section.file, baseDirectory: section.baseDirectory)
            targets.append(try parseNotifyTarget(entrySection, warnings: &warnings))
        }
        return targets
    }

    private func parseNotifyTarget(_ section: Section, warnings: inout [String]) throws -> NotifyTarget {
        var destination: NotifyTarget.Destination?
        var destinationKey: String?
        var filter = NotificationFilter.all
        var secretFile: String?
        var secretSource = section.source
        var timeout: Duration?
        for (name, node, source) in try Self.entries(section, key: "notify", known: Self.notifyKeys) {
            let key = "notify.\(name)"
            switch name {
            case "url", "command":
                if let destinationKey {
                    throw ConfigurationError.conflict(
                        "\(source): a notify target has both `\(destinationKey)` and `\(name)`; give each target one of "
                            + "them (write two targets to use both).")
                }
                destinationKey = name
                if name == "url" {
                    destination = .url(try Self.notifyURL(node, source: source))
                } else {
                    destination = .command(try Self.notifyCommand(node, source: source))
                }
            case "events":
                filter = try Self.notifyEvents(node, source: source)
            case "secret_file":
                guard let text = try Self.scalar(node, key: key, source: source), !text.isEmpty else { continue }
                secretFile = resolve(text, against: section.baseDirectory)
                secretSource = source
            case "timeout":
                guard let text = try Self.scalar(node, key: key, source: source) else { continue }
                let setting = RawSetting(text: text, source: source, baseDirectory: section.baseDirectory)
                guard let value = Self.duration(allowZero: false)(setting) else {
                    throw ConfigurationError.invalidValue(
                        source: source, key: key, value: text, expected: "a duration above 0, such as 10s or 1m")
                }
                timeout = value
            default:
                break
            }
        }
        guard let destination else {
            throw ConfigurationError.conflict(
                "\(section.source): a notify target needs `url:` (a webhook) or `command:` (a program that reads the "
                    + "event on stdin).")
        }
        if let secretFile {
            guard case .url = destination else {
                warnings.append("\(secretSource): `notify.secret_file` only signs webhooks (`url:`); a command target ignores it.")
                return NotifyTarget(destination: destination, events: filter, secretFile: nil, timeout: timeout)
            }
            try Self.checkSecretFile(secretFile, source: secretSource)
            let attributes = (try? FileManager.default.attributesOfItem(atPath: secretFile)) ?? [:]
            if let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o044 != 0 {
                warnings.append(
                    "The webhook secret file \(secretFile) is readable by group or others (mode \(String(mode, radix: 8))); "
                        + "run `chmod 600 \(secretFile)`.")
            }
        }
        return NotifyTarget(destination: destination, events: filter, secretFile: secretFile, timeout: timeout)
    }

    static func notifyURL(_ node: Node, source: String) throws -> String {
        let text = try scalar(node, key: "notify.url", source: source) ?? ""
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else {
            // The value is shown only up to its host: a webhook URL's path often is its token.
            throw ConfigurationError.invalidValue(
                source: source, key: "notify.url", value: String(text.prefix(while: { $0 != "?" }).prefix(60)),
                expected: "an http(s) URL such as https://hooks.example.com/hotfolder")
        }
        return text
    }

    static func notifyCommand(_ node: Node, source: String) throws -> [String] {
        if let sequence = node.sequence {
            let argv = sequence.compactMap(\.string)
            guard argv.count == sequence.count, let first = argv.first, !first.isEmpty else {
                throw ConfigurationError.invalidValue(
                    source: source, key: "notify.command", value: "a list", expected: "a command line, or a list of a program and its arguments")
            }
            return argv
        }
        guard let text = try scalar(node, key: "notify.command", source: source)?.trimmingCharacters(in: .whitespaces),
            !text.isEmpty
        else {
            throw ConfigurationError.invalidValue(
                source: source, key: "notify.command", value: "", expected: "a command line such as `apprise -b - mailto://ops@example.com`")
        }
        return ["/bin/sh", "-c", text]
    }

    static func notifyEvents(_ node: Node, source: String) throws -> NotificationFilter {
        var patterns: [String]
        if let sequence = node.sequence {
            patterns = sequence.compactMap(\.string)
        } else {
            patterns = (try scalar(node, key: "notify.events", source: source) ?? "").split(separator: ",").map(String.init)
        }
        patterns = patterns.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        do {
            return try NotificationFilter(patterns: patterns)
        } catch {
            let hint = error.suggestion.map { "\($0) (did you mean it?); known: " } ?? "one of: "
            throw ConfigurationError.invalidValue(
                source: source, key: "notify.events", value: error.pattern,
                expected: hint + NotificationFilter.knownPatterns.joined(separator: ", "))
        }
    }

    /// The secret file must be there and hold something; its content is never kept, logged or shown.
    static func checkSecretFile(_ path: String, source: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "not readable by this user" : "no such file"
            throw ConfigurationError.invalidValue(
                source: source, key: "notify.secret_file", value: path,
                expected: "a readable file holding the webhook's shared secret (\(reason))")
        }
        if String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ConfigurationError.invalidValue(
                source: source, key: "notify.secret_file", value: path, expected: "a file holding the shared secret (it is empty)")
        }
    }
}
