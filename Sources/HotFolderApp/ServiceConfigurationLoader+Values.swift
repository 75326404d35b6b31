// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Logging

extension ServiceConfigurationLoader {
    /// Turns raw settings into a checked configuration with defaults.
    func build(
        _ raw: [String: RawSetting], configFile: String?, warnings: inout [String]
    ) throws -> ServiceConfiguration {
        let values = Values(raw: raw)
        guard let inbox = try values.get("inbox", path) else { throw ConfigurationError.missingInbox }
        let stateDirectory = try values.get("state_dir", path) ?? defaultStateDirectory()
        var configuration = ServiceConfiguration(inbox: inbox, stateDirectory: stateDirectory, configFile: configFile)

        try values.set(&configuration.outbox, "outbox", path)
        try values.set(&configuration.failed, "failed", path)
        try values.set(&configuration.archive, "archive", path)
        try values.set(&configuration.archivePolicy, "archive_policy", Self.choice(ArchivePolicy.self))
        try values.set(&configuration.provider, "provider", Self.choice(ServiceConfiguration.Provider.self))
        configuration.baseURL = configuration.provider.defaultBaseURL
        try values.set(&configuration.baseURL, "base_url", Self.url)
        configuration.apiKeyFile = try values.get("api_key_file", path)
        for (key, setting) in raw where key.hasPrefix("defaults.") {
            configuration.defaults[String(key.dropFirst("defaults.".count))] = setting.text
        }
        try values.set(&configuration.prices.fast, "prices.fast", Self.number(minimum: 0))
        try values.set(&configuration.prices.quality, "prices.quality", Self.number(minimum: 0))
        try values.set(&configuration.settle, "settle", Self.duration(allowZero: true))
        try values.set(&configuration.watchMode, "watch_mode", Self.choice(WatchMode.self))
        try values.set(&configuration.pollInterval, "poll_interval", Self.duration(allowZero: false))
        try values.set(&configuration.pollFolders, "poll_folders", Self.choice(FolderReading.self))
        try values.set(&configuration.pollSettledEvery, "poll_settled_every", Self.count)
        try values.set(&configuration.rescanInterval, "rescan_interval", Self.duration(allowZero: false))
        try values.set(&configuration.orphanTimeout, "orphan_timeout", Self.duration(allowZero: false))
        try values.set(&configuration.maxInFlight, "max_in_flight", Self.count)
        try values.set(&configuration.maxUploads, "max_uploads", Self.count)
        try values.set(&configuration.maxDownloads, "max_downloads", Self.count)
        try values.set(&configuration.maxSubmits, "max_submits", Self.count)
        try values.set(&configuration.pollFirstDelay, "poll_first_delay", Self.duration(allowZero: true))
        try values.set(&configuration.pollMinInterval, "poll_min_interval", Self.duration(allowZero: false))
        try values.set(&configuration.pollMaxInterval, "poll_max_interval", Self.duration(allowZero: false))
        try values.set(
            &configuration.maxStatusCallsPerSecond, "max_status_calls_per_second", Self.number(minimum: 0.001))
        try values.set(&configuration.maxAttempts, "max_attempts", Self.count)
        try values.set(&configuration.maxTaskFailures, "max_task_failures", Self.count)
        try values.set(&configuration.historyDays, "history_days", Self.countOrZero)
        try values.set(&configuration.backoffBase, "backoff_base", Self.duration(allowZero: false))
        try values.set(&configuration.backoffMax, "backoff_max", Self.duration(allowZero: false))
        try values.set(&configuration.requestTimeout, "request_timeout", Self.duration(allowZero: false))
        try values.set(&configuration.resubmitUncertain, "resubmit_uncertain", Self.boolean)
        try values.set(&configuration.pauseProbeInterval, "pause_probe_interval", Self.duration(allowZero: false))
        try values.set(&configuration.shutdownGrace, "shutdown_grace", Self.duration(allowZero: true))
        try values.set(&configuration.logLevel, "log_level", Self.choice(Logger.Level.self))
        try values.set(&configuration.timeZone, "timezone", Self.timeZone)
        try values.set(&configuration.exportNames, "export_names", Self.choice(ExportNames.self))
        try values.set(&configuration.sequenceSettle, "sequence_settle", Self.duration(allowZero: true))
        try values.set(&configuration.imageFit, "image_fit", Self.choice(ImageFit.self))
        try values.set(&configuration.zipMaxEntries, "zip_max_entries", Self.count)
        try values.set(&configuration.zipMaxBytes, "zip_max_bytes", Self.byteSize)
        try values.set(&configuration.stallAfter, "stall_after", Self.duration(allowZero: false))
        configuration.instance = try values.get("instance") { $0.text.isEmpty ? nil : $0.text }
        configuration.nodeName = try values.get("node_name") { $0.text.isEmpty ? nil : $0.text }
        try values.set(&configuration.lease, "lease", Self.duration(allowZero: false))
        configuration.store = try values.get("store") { $0.text.isEmpty ? nil : $0.text }
        configuration.storePasswordFile = try values.get("store_password_file", path)

        try check(configuration, raw, warnings: &warnings)
        return configuration
    }

    /// Settings that are fine one by one but not together.
    func check(_ configuration: ServiceConfiguration, _ raw: [String: RawSetting], warnings: inout [String]) throws {
        if configuration.pollMinInterval > configuration.pollMaxInterval {
            throw ConfigurationError.conflict(
                "poll_min_interval (\(configuration.pollMinInterval)) is longer than poll_max_interval "
                    + "(\(configuration.pollMaxInterval)); make poll_min_interval the shorter one.")
        }
        if configuration.backoffBase > configuration.backoffMax {
            throw ConfigurationError.conflict(
                "backoff_base (\(configuration.backoffBase)) is longer than backoff_max "
                    + "(\(configuration.backoffMax)); make backoff_base the shorter one.")
        }
        if configuration.lease < .seconds(3) {
            throw ConfigurationError.conflict(
                "\(raw["lease"]?.source ?? "lease"): a lease of \(String(format: "%g", configuration.lease.seconds))s is too short: the heartbeat renews it "
                    + "every third, and a node would lose its jobs at every pause of the network; use 3s or more (default 60s).")
        }
        if let store = configuration.store {
            // The sentence never repeats the URL: it could hold a password by mistake.
            do {
                _ = try PostgresEndpoint(url: store)
            } catch {
                throw ConfigurationError.conflict("\(raw["store"]?.source ?? "store"): \(error.description)")
            }
        }
        for (key, folder) in [("outbox", configuration.outbox), ("failed", configuration.failed), ("archive", configuration.archive)]
        where folder == configuration.inbox {
            throw ConfigurationError.conflict(
                "\(raw[key]?.source ?? key): `\(key)` is the inbox itself (\(folder)); give it its own folder, "
                    + "inside or beside the inbox.")
        }
        if let url = URL(string: configuration.baseURL), url.scheme == "http",
            !["localhost", "127.0.0.1", "::1"].contains(url.host ?? "")
        {
            warnings.append(
                "base_url \(configuration.baseURL) is plain http: the API key would cross the network unencrypted; "
                    + "use https.")
        }
    }

    /// The state directory when `state_dir` is not set: systemd's `$STATE_DIRECTORY`, else
    /// `$XDG_STATE_HOME/hotfolder`, else `~/.local/state/hotfolder`.
    func defaultStateDirectory() -> String {
        if let systemd = environment["STATE_DIRECTORY"]?.split(separator: ":").first, systemd.hasPrefix("/") {
            return String(systemd)
        }
        if let xdg = environment["XDG_STATE_HOME"], xdg.hasPrefix("/") {
            return (xdg as NSString).appendingPathComponent("hotfolder")
        }
        return (homeDirectory as NSString).appendingPathComponent(".local/state/hotfolder")
    }

    // MARK: - Parsers

    /// Reads each raw setting once and reports a bad value with its source.
    struct Values {
        let raw: [String: RawSetting]

        /// Sets `target` to the parsed value when the setting is present.
        func set<Value>(_ target: inout Value, _ key: String, _ parse: (RawSetting) -> Value?) throws {
            if let value = try get(key, parse) {
                target = value
            }
        }

        /// The parsed value, nil when the setting is absent; an error naming the source when it does not parse.
        func get<Value>(_ key: String, _ parse: (RawSetting) -> Value?) throws -> Value? {
            guard let setting = raw[key] else { return nil }
            guard let value = parse(setting) else { throw invalid(setting, key) }
            return value
        }

        func invalid(_ setting: RawSetting, _ key: String) -> ConfigurationError {
            ConfigurationError.invalidValue(
                source: setting.source, key: key, value: setting.text, expected: Self.expected[key] ?? "a valid value")
        }

        static let expected: [String: String] = {
            var table: [String: String] = [
                "archive_policy": "move, keep or delete",
                "inbox": "a folder path", "outbox": "a folder path", "failed": "a folder path",
                "archive": "a folder path", "state_dir": "a folder path", "api_key_file": "a file path",
                "provider": "gateway or ark",
                "base_url": "an http(s) URL such as https://api.example.com",
                "watch_mode": "auto, inotify or poll",
                "poll_folders": "auto, skip-unchanged or read-all",
                "log_level": Logger.Level.allCases.map(\.rawValue).joined(separator: ", "),
                "resubmit_uncertain": "true or false",
                "history_days": "a whole number of days, 0 (keep forever) or more, such as 90",
                "export_names": "auto or literal",
                "sequence_settle": "a duration such as 30s",
                "image_fit": "downscale, pad, crop or fail",
                "zip_max_entries": "a whole number of 1 or more, such as 1000",
                "zip_max_bytes": "a size of 1 byte or more, such as 2GB, 500MB or 1000000",
                "timezone": "a time zone name from the tz database, such as Europe/Berlin or UTC",
                "instance": "a name for this hotfolder in notifications, such as render-01",
                "node_name": "this machine's name among the nodes sharing one database, such as render-01",
                "store": "a postgres://USER@HOST:5432/DATABASE URL without a password", "store_password_file": "a file path",
                "lease": "a duration of 3 seconds or more, such as 60s",
                "max_status_calls_per_second": "a number above 0, such as 5",
                "prices.fast": "a number of US dollars per million tokens, 0 or more, such as 0.6",
                "prices.quality": "a number of US dollars per million tokens, 0 or more, such as 2.2",
            ]
            for key in [
                "max_in_flight", "max_uploads", "max_downloads", "max_submits", "max_attempts", "max_task_failures",
                "poll_settled_every",
            ] {
                table[key] = "a whole number of 1 or more"
            }
            for key in ["settle", "poll_first_delay", "shutdown_grace"] {
                table[key] = "a duration of 0 or more, such as 2, 2s, 500ms, 5m or 1h"
            }
            for key in [
                "poll_interval", "rescan_interval", "orphan_timeout", "poll_min_interval", "poll_max_interval",
                "backoff_base", "backoff_max", "request_timeout", "stall_after",
            ] {
                table[key] = "a duration above 0, such as 5, 5s, 500ms, 10m or 1h"
            }
            return table
        }()
    }

    /// An absolute, standardised path: `~` expanded, relative paths resolved against the setting's base folder.
    func path(_ setting: RawSetting) -> String? {
        guard !setting.text.isEmpty, !setting.text.contains("\0") else { return nil }
        return resolve(setting.text, against: setting.baseDirectory)
    }

    func resolve(_ text: String, against base: String) -> String {
        var text = text
        if text == "~" {
            text = homeDirectory
        } else if text.hasPrefix("~/") {
            text = (homeDirectory as NSString).appendingPathComponent(String(text.dropFirst(2)))
        }
        if !text.hasPrefix("/") {
            text = (base as NSString).appendingPathComponent(text)
        }
        return (text as NSString).standardizingPath
    }

    static func choice<Value: RawRepresentable>(_: Value.Type) -> (RawSetting) -> Value? where Value.RawValue == String {
        { Value(rawValue: $0.text.lowercased()) }
    }

    static func url(_ setting: RawSetting) -> String? {
        guard let url = URL(string: setting.text), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else { return nil }
        // A trailing slash would double the one every endpoint path starts with.
        return setting.text.hasSuffix("/") ? String(setting.text.dropLast()) : setting.text
    }

    static func timeZone(_ setting: RawSetting) -> TimeZone? {
        TimeZone(identifier: setting.text.trimmingCharacters(in: .whitespaces))
    }

    static func countOrZero(_ setting: RawSetting) -> Int? {
        guard let value = Int(setting.text), value >= 0 else { return nil }
        return value
    }

    /// A size in bytes: a whole number, or one with a decimal unit (`KB`, `MB`, `GB`, `TB`; `B` alone is bytes).
    static func byteSize(_ setting: RawSetting) -> Int? {
        let text = setting.text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [(String, Int)] = [("TB", 1_000_000_000_000), ("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1000), ("B", 1)]
        let (number, scale) = units.first { text.hasSuffix($0.0) }.map {
            (text.dropLast($0.0.count).trimmingCharacters(in: .whitespaces), $0.1)
        } ?? (text, 1)
        guard let value = Double(number), value.isFinite, value > 0, value * Double(scale) < 9e18 else { return nil }
        let bytes = Int(value * Double(scale))
        return bytes >= 1 ? bytes : nil
    }

    static func count(_ setting: RawSetting) -> Int? {
        guard let value = Int(setting.text), value >= 1 else { return nil }
        return value
    }

    static func number(minimum: Double) -> (RawSetting) -> Double? {
        { setting in
            guard let value = Double(setting.text), value.isFinite, value >= minimum else { return nil }
            return value
        }
    }

    static func boolean(_ setting: RawSetting) -> Bool? {
        switch setting.text.lowercased() {
        case "true", "yes", "on", "1": true
        case "false", "no", "off", "0": false
        default: nil
        }
    }

    /// Seconds as a plain number, or a number with `ms`, `s`, `m` or `h`.
    static func duration(allowZero: Bool) -> (RawSetting) -> Duration? {
        { setting in
            let text = setting.text.lowercased().replacingOccurrences(of: " ", with: "")
            let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
            var number = Substring(text)
            var scale = 1.0
            if let (suffix, factor) = units.first(where: { text.hasSuffix($0.0) }) {
                number = number.dropLast(suffix.count)
                scale = factor
            }
            guard let value = Double(number), value.isFinite, value >= 0, allowZero || value > 0 else { return nil }
            let seconds = value * scale
            guard seconds < 1e9 else { return nil }
            return .milliseconds(Int64((seconds * 1000).rounded()))
        }
    }
}
