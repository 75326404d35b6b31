// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Yams

/// Reads `hotfolder.yaml`, applies environment overrides and defaults, and checks every value.
///
/// Precedence, lowest first: built-in defaults < the file < environment variables (`HOTFOLDER_<SETTING>`, e.g.
/// `HOTFOLDER_INBOX`, `HOTFOLDER_MAX_IN_FLIGHT`, `HOTFOLDER_PRICES_FAST`, `HOTFOLDER_DEFAULTS_MODEL`). Relative
/// paths in the file are resolved against the file's folder, relative paths in the environment against the
/// current directory; `~` is the home directory. Unknown settings are errors that name the nearest known one.
/// The environment, current directory and home are injected, so tests never depend on the machine.
public struct ServiceConfigurationLoader: Sendable {
    /// The environment variables to read.
    public var environment: [String: String]
    /// The folder relative paths in the environment (and everything when there is no file) are resolved against.
    public var currentDirectory: String
    /// The folder `~` stands for, and where the default state directory lives.
    public var homeDirectory: String

    /// Creates a loader; by default it reads the process's environment and folders.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: String = FileManager.default.currentDirectoryPath,
        homeDirectory: String = NSHomeDirectory()
    ) {
        self.environment = environment
        self.currentDirectory = currentDirectory
        self.homeDirectory = homeDirectory
    }

    /// Every top-level setting of the file, in the order the example file documents them.
    public static let settingKeys: [String] = [
        "inbox", "outbox", "failed", "archive", "archive_policy", "provider", "base_url", "api_key_file",
        "state_dir", "defaults", "prices", "settle", "watch_mode", "poll_interval", "poll_folders", "poll_settled_every",
        "rescan_interval",
        "orphan_timeout", "max_in_flight", "max_uploads", "max_downloads", "max_submits",
        "poll_first_delay", "poll_min_interval",
        "poll_max_interval", "max_status_calls_per_second", "max_attempts", "max_task_failures", "backoff_base", "backoff_max",
        "request_timeout", "resubmit_uncertain", "history_days", "pause_probe_interval", "shutdown_grace", "log_level",
        "timezone", "budget", "schedule", "report", "notify", "export_names", "sequence_settle", "image_fit",
        "zip_max_entries", "zip_max_bytes", "stall_after", "instance", "node_name", "lease", "store", "store_password_file", "http",
    ]

    /// Settings that hold a structure (mappings, lists of mappings); each is read by its own parser
    /// (`ServiceConfigurationLoader+<Section>.swift`) from the YAML node as written.
    public static let sectionKeys: Set<String> = ["budget", "schedule", "report", "notify", "http"]

    /// The settings under `prices:`.
    public static let priceKeys = ["fast", "quality"]

    /// Environment variables with the `HOTFOLDER_` prefix that are not settings but are used elsewhere.
    public static let otherEnvironmentVariables: Set<String> = ["HOTFOLDER_CONFIG"]

    /// The environment variable that overrides a setting: `HOTFOLDER_` and the key in capitals
    /// (`prices.fast` → `HOTFOLDER_PRICES_FAST`, `defaults.model` → `HOTFOLDER_DEFAULTS_MODEL`).
    public static func environmentVariable(for key: String) -> String {
        "HOTFOLDER_" + key.replacingOccurrences(of: ".", with: "_").uppercased()
    }

    /// Loads the configuration from `file` (or from the environment and defaults alone when nil).
    public func load(file: String?) throws -> LoadedConfiguration {
        guard let file else { return try load(yaml: nil, file: nil) }
        let path = resolve(file, against: currentDirectory)
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "it is not readable UTF-8 text" : "no such file"
            throw ConfigurationError.fileUnreadable(path: path, reason: reason)
        }
        return try load(yaml: text, file: path)
    }

    /// Loads the configuration from YAML text that came from `file` (an absolute path; its folder anchors relative
    /// paths), then the environment.
    public func load(yaml: String?, file: String?) throws -> LoadedConfiguration {
        var raw: [String: RawSetting] = [:]
        var sections: [String: Section] = [:]
        if let yaml {
            raw = try parse(yaml: yaml, file: file ?? "(configuration)", sections: &sections)
        }
        var warnings: [String] = []
        overlayEnvironment(on: &raw, warnings: &warnings)
        var configuration = try build(raw, configFile: file, warnings: &warnings)
        try applySections(sections, to: &configuration, warnings: &warnings)
        return LoadedConfiguration(configuration: configuration, warnings: warnings)
    }

    // MARK: - Raw settings

    /// One value as written, with where it came from and the folder its relative paths are resolved against.
    struct RawSetting {
        var text: String
        var source: String
        var baseDirectory: String
    }

    /// A structured setting as written: its YAML node, where it came from, and the folder its relative paths are
    /// resolved against.
    struct Section {
        var node: Node
        var source: String
        var file: String
        var baseDirectory: String
    }

    func parse(yaml: String, file: String) throws -> [String: RawSetting] {
        var sections: [String: Section] = [:]
        return try parse(yaml: yaml, file: file, sections: &sections)
    }

    func parse(yaml: String, file: String, sections: inout [String: Section]) throws -> [String: RawSetting] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError.invalidYAML(path: file, reason: "\(error)".split(separator: "\n").joined(separator: " "))
        }
        guard let root, root.null == nil else { return [:] }
        guard let mapping = root.mapping else { throw ConfigurationError.notAMapping(source: file, key: nil) }
        let base = (file as NSString).deletingLastPathComponent
        var raw: [String: RawSetting] = [:]
        for (keyNode, valueNode) in mapping {
            let key = keyNode.string ?? ""
            let source = Self.source(file, keyNode)
            guard Self.settingKeys.contains(key) else {
                throw ConfigurationError.unknownKey(
                    source: source, key: key, suggestion: Self.nearest(key, in: Self.settingKeys))
            }
            if Self.sectionKeys.contains(key) {
                if valueNode.null == nil { sections[key] = Section(node: valueNode, source: source, file: file, baseDirectory: base) }
            } else if key == "defaults" || key == "prices" {
                if valueNode.null != nil { continue }
                guard let nested = valueNode.mapping else { throw ConfigurationError.notAMapping(source: source, key: key) }
                for (subkeyNode, subvalueNode) in nested {
                    let subkey = subkeyNode.string ?? ""
                    let subsource = Self.source(file, subkeyNode)
                    if key == "prices" && !Self.priceKeys.contains(subkey) {
                        throw ConfigurationError.unknownKey(
                            source: subsource, key: "prices.\(subkey)",
                            suggestion: Self.nearest(subkey, in: Self.priceKeys).map { "prices.\($0)" })
                    }
                    if let text = try Self.scalar(subvalueNode, key: "\(key).\(subkey)", source: subsource) {
                        raw["\(key).\(subkey)"] = RawSetting(text: text, source: subsource, baseDirectory: base)
                    }
                }
            } else if let text = try Self.scalar(valueNode, key: key, source: source) {
                raw[key] = RawSetting(text: text, source: source, baseDirectory: base)
            }
        }
        return raw
    }

    /// A scalar's text; nil for a YAML null (the default applies); an error for a list or mapping.
    static func scalar(_ node: Node, key: String, source: String) throws -> String? {
        guard let scalar = node.scalar else {
            throw ConfigurationError.invalidValue(
                source: source, key: key, value: node.sequence != nil ? "a list" : "a mapping", expected: "a single value")
        }
        if scalar.style == .plain && node.null != nil { return nil }
        return scalar.string
    }

    static func source(_ file: String, _ node: Node) -> String {
        node.mark.map { "\(file) line \($0.line)" } ?? file
    }

    func overlayEnvironment(on raw: inout [String: RawSetting], warnings: inout [String]) {
        var known: Set<String> = Self.otherEnvironmentVariables
        for key in Self.settingKeys where key != "defaults" && key != "prices" && !Self.sectionKeys.contains(key) {
            known.insert(Self.environmentVariable(for: key))
        }
        for key in Self.priceKeys {
            known.insert(Self.environmentVariable(for: "prices.\(key)"))
        }
        let defaultsPrefix = "HOTFOLDER_DEFAULTS_"
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("HOTFOLDER_") {
            // An empty variable is treated as unset, as a shell's `VAR=` usually means "no value".
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            let setting = RawSetting(
                text: trimmed, source: "environment variable \(name)", baseDirectory: currentDirectory)
            if name.hasPrefix(defaultsPrefix), name.count > defaultsPrefix.count {
                if !trimmed.isEmpty {
                    raw["defaults." + name.dropFirst(defaultsPrefix.count).lowercased()] = setting
                }
            } else if known.contains(name) {
                if !trimmed.isEmpty && !Self.otherEnvironmentVariables.contains(name) {
                    let key = String(name.dropFirst("HOTFOLDER_".count)).lowercased()
                    raw[key.hasPrefix("prices_") ? "prices." + key.dropFirst("prices_".count) : key] = setting
                }
            } else {
                let hint = Self.nearest(name, in: Array(known)).map { "; did you mean \($0)?" } ?? "."
                warnings.append("The environment variable \(name) is not a hotfolder setting and is ignored\(hint)")
            }
        }
    }

    // MARK: - Suggestions

    /// The known name closest to `word` by edit distance, if it is close enough to be a likely typo.
    static func nearest(_ word: String, in candidates: [String]) -> String? {
        let lower = word.lowercased()
        let scored = candidates.map { ($0, editDistance(lower, $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }) else { return nil }
        return best.1 <= max(2, best.0.count / 3) ? best.0 : nil
    }

    /// Levenshtein distance.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// A loaded configuration and the warnings an operator should see (logged at start-up, shown by `doctor`).
public struct LoadedConfiguration: Sendable, Hashable {
    /// The configuration.
    public var configuration: ServiceConfiguration
    /// Things that work but look wrong, one sentence each.
    public var warnings: [String]
}
