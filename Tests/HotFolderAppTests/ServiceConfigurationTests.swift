// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import Testing

@Suite struct ServiceConfigurationTests {
    let loader = ServiceConfigurationLoader(environment: [:], currentDirectory: "/work", homeDirectory: "/home/op")
    let file = "/etc/hotfolder/hotfolder.yaml"

    func load(_ yaml: String, environment: [String: String] = [:]) throws -> LoadedConfiguration {
        var loader = loader
        loader.environment = environment
        return try loader.load(yaml: yaml, file: file)
    }

    @Test func defaultsPutTheFoldersBesideTheInbox() throws {
        let loaded = try load("inbox: drop/inbox\n")
        let config = loaded.configuration
        #expect(loaded.warnings.isEmpty)
        #expect(config.inbox == "/etc/hotfolder/drop/inbox", "relative to the file's folder")
        #expect(config.outbox == "/etc/hotfolder/drop/outbox")
        #expect(config.failed == "/etc/hotfolder/drop/failed")
        #expect(config.archive == "/etc/hotfolder/drop/archive")
        #expect(config.stateDirectory == "/home/op/.local/state/hotfolder")
        #expect(config.configFile == file)
        #expect(config.archivePolicy == .move && config.provider == .gateway && config.watchMode == .auto)
        #expect(config.baseURL == ServiceConfiguration.Provider.gateway.defaultBaseURL)
        #expect(config.apiKeyFile == nil && config.defaults.isEmpty)
        #expect(config.prices == ServiceConfiguration.Prices(fast: 0.6, quality: 2.2))
        #expect(config.settle == .seconds(2) && config.pollInterval == .seconds(5))
        #expect(config.rescanInterval == .seconds(60) && config.orphanTimeout == .seconds(600))
        #expect(config.maxInFlight == 4 && config.maxUploads == 2 && config.maxDownloads == 2)
        #expect(config.pollFirstDelay == .seconds(5) && config.pollMinInterval == .seconds(3))
        #expect(config.pollMaxInterval == .seconds(30) && config.maxStatusCallsPerSecond == 5)
        #expect(config.maxAttempts == 5 && config.backoffBase == .seconds(2) && config.backoffMax == .seconds(300))
        #expect(config.requestTimeout == .seconds(60) && config.resubmitUncertain == false)
        #expect(config.shutdownGrace == .seconds(10) && config.logLevel == .info)
        #expect(config.retryPolicy == RetryPolicy(maxAttempts: 5, base: .seconds(2), maxDelay: .seconds(300)))
    }

    @Test func stateDirectoryFollowsSystemdThenXDG() throws {
        #expect(try load("inbox: /in", environment: ["XDG_STATE_HOME": "/xdg"]).configuration.stateDirectory == "/xdg/hotfolder")
        let systemd = ["STATE_DIRECTORY": "/var/lib/hotfolder", "XDG_STATE_HOME": "/xdg"]
        #expect(try load("inbox: /in", environment: systemd).configuration.stateDirectory == "/var/lib/hotfolder")
        #expect(try load("inbox: /in\nstate_dir: ~/st", environment: systemd).configuration.stateDirectory == "/home/op/st")
    }

    @Test func everySettingIsReadFromTheFile() throws {
        let config = try load(
            """
            inbox: /srv/in
            outbox: /srv/in/_out
            failed: ../failed
            archive: ~/archive
            archive_policy: Keep
            provider: ark
            api_key_file: key.txt
            state_dir: /var/lib/hf
            defaults:
              model: quality
              duration: 8
              aspect_ratio: "9:16"
            prices: {fast: 1.5, quality: 3}
            settle: 500ms
            watch_mode: poll
            poll_interval: 2s
            poll_settled_every: 1
            rescan_interval: 5m
            orphan_timeout: 1h
            max_in_flight: 8
            max_uploads: 3
            max_downloads: 1
            max_submits: 16
            poll_first_delay: 0
            poll_min_interval: 1.5
            poll_max_interval: 45s
            max_status_calls_per_second: 2.5
            max_attempts: 3
            backoff_base: 1
            backoff_max: 10m
            request_timeout: 90
            resubmit_uncertain: yes
            shutdown_grace: 0
            log_level: DEBUG
            """
        ).configuration
        #expect(config.outbox == "/srv/in/_out" && config.failed == "/etc/failed" && config.archive == "/home/op/archive")
        #expect(config.archivePolicy == .keep && config.provider == .ark)
        #expect(config.baseURL == ServiceConfiguration.Provider.ark.defaultBaseURL, "the provider's URL by default")
        #expect(config.apiKeyFile == "/etc/hotfolder/key.txt" && config.stateDirectory == "/var/lib/hf")
        #expect(config.defaults == ["model": "quality", "duration": "8", "aspect_ratio": "9:16"])
        #expect(config.prices == ServiceConfiguration.Prices(fast: 1.5, quality: 3))
        #expect(config.settle == .milliseconds(500) && config.watchMode == .poll && config.pollInterval == .seconds(2))
        #expect(config.pollSettledEvery == 1)
        #expect(config.rescanInterval == .seconds(300) && config.orphanTimeout == .seconds(3600))
        #expect(config.maxInFlight == 8 && config.maxUploads == 3 && config.maxDownloads == 1 && config.maxSubmits == 16)
        #expect(config.pollFirstDelay == .zero && config.pollMinInterval == .milliseconds(1500))
        #expect(config.pollMaxInterval == .seconds(45) && config.maxStatusCallsPerSecond == 2.5)
        #expect(config.maxAttempts == 3 && config.backoffBase == .seconds(1) && config.backoffMax == .seconds(600))
        #expect(config.requestTimeout == .seconds(90) && config.resubmitUncertain && config.shutdownGrace == .zero)
        #expect(config.logLevel == .debug)
    }

    /// Several nodes on one database: each works under its name, with leases of `lease` renewed every third of it.
    @Test func theNodeNameAndLeaseAreReadWithSensibleDefaults() throws {
        let defaults = try load("inbox: /srv/in\n").configuration
        #expect(defaults.nodeName == nil && defaults.node == ProcessInfo.processInfo.hostName && defaults.lease == .seconds(60))
        let set = try load("inbox: /srv/in\nnode_name: render-02\nlease: 2m\n").configuration
        #expect(set.node == "render-02" && set.lease == .seconds(120))
        #expect(try load("inbox: /srv/in\n", environment: ["HOTFOLDER_NODE_NAME": "render-03"]).configuration.node == "render-03")
        #expect {
            try load("inbox: /srv/in\nlease: 1s\n")
        } throws: { error in
            "\(error)".contains("a lease of 1s is too short") && "\(error)".contains("3s or more")
        }
        #expect(throws: ConfigurationError.self) { try load("inbox: /srv/in\nlease: 0\n") }
    }

    /// `store:` names the shared PostgreSQL database; its password comes from a file or PGPASSWORD, never the URL,
    /// and no error repeats a URL that holds one.
    @Test func theStoreIsAPostgresURLWithItsPasswordKeptApart() throws {
        #expect(try load("inbox: /srv/in\n").configuration.store == nil)
        #expect(try load("inbox: /srv/in\n").configuration.storeEndpoint() == nil, "no store: the embedded SQLite database")
        let set = try load("inbox: /srv/in\nstore: postgres://hotfolder@db.example:5433/studio?sslmode=require\n").configuration
        let (endpoint, _) = try #require(try set.storeEndpoint(environment: ["PGPASSWORD": "from-env-7c1d"]))
        #expect(endpoint.host == "db.example" && endpoint.port == 5433 && endpoint.database == "studio" && endpoint.sslMode == .require)
        #expect(endpoint.password == "from-env-7c1d" && !"\(endpoint)".contains("from-env-7c1d"))
        let environment = ["HOTFOLDER_STORE": "postgres://hotfolder@/hotfolder?host=/run/postgresql"]
        #expect(try load("inbox: /srv/in\n", environment: environment).configuration.storeEndpoint()?.0.isUnixSocket == true)

        // A password in the URL is refused, and the sentence does not repeat it.
        #expect {
            try load("inbox: /srv/in\nstore: postgres://hotfolder:Hunter2-secret@db.example/hotfolder\n")
        } throws: { error in
            "\(error)".contains("holds a password") && !"\(error)".contains("Hunter2-secret")
        }
        #expect(throws: ConfigurationError.self) { try load("inbox: /srv/in\nstore: mysql://db.example/hotfolder\n") }

        // The password file wins over PGPASSWORD; a missing or empty one is said.
        let file = NSTemporaryDirectory() + "hotfolder-pg-password-\(UUID().uuidString)"
        defer { unlink(file) }
        try Data("from-file-9e2b\n".utf8).write(to: URL(fileURLWithPath: file))
        chmod(file, 0o600)
        let withFile = try load("inbox: /srv/in\nstore: postgres://hotfolder@db.example/hotfolder\nstore_password_file: \(file)\n").configuration
        #expect(try withFile.storeEndpoint(environment: ["PGPASSWORD": "from-env-7c1d"])?.0.password == "from-file-9e2b")
        try Data("\n".utf8).write(to: URL(fileURLWithPath: file))
        #expect { try withFile.storeEndpoint() } throws: { "\($0)".contains("is empty") }
        var missing = withFile
        missing.storePasswordFile = file + "-nowhere"
        #expect { try missing.storeEndpoint() } throws: { "\($0)".contains("does not exist") }
    }

    @Test func environmentOverridesTheFile() throws {
        let loaded = try load(
            "inbox: /srv/in\nmax_in_flight: 2\nprices:\n  fast: 1\ndefaults:\n  model: fast\n",
            environment: [
                "HOTFOLDER_INBOX": "drops", "HOTFOLDER_MAX_IN_FLIGHT": "6", "HOTFOLDER_PRICES_FAST": "0.9",
                "HOTFOLDER_DEFAULTS_MODEL": "quality", "HOTFOLDER_DEFAULTS_RESOLUTION": "1080p",
                "HOTFOLDER_BASE_URL": "http://127.0.0.1:8080/", "HOTFOLDER_RESUBMIT_UNCERTAIN": "true",
                "HOTFOLDER_OUTBOX": "", "HOTFOLDER_CONFIG": "/etc/x.yaml", "HOTFOLDER_MAX_INFLIGHT": "9",
            ])
        let config = loaded.configuration
        #expect(config.inbox == "/work/drops", "relative to the current directory")
        #expect(config.outbox == "/work/outbox", "an empty variable is unset")
        #expect(config.maxInFlight == 6 && config.prices.fast == 0.9 && config.prices.quality == 2.2)
        #expect(config.defaults == ["model": "quality", "resolution": "1080p"])
        #expect(config.baseURL == "http://127.0.0.1:8080" && config.resubmitUncertain)
        #expect(loaded.warnings == [
            "The environment variable HOTFOLDER_MAX_INFLIGHT is not a hotfolder setting and is ignored; did you mean HOTFOLDER_MAX_IN_FLIGHT?"
        ])
        #expect(ServiceConfigurationLoader.environmentVariable(for: "archive_policy") == "HOTFOLDER_ARCHIVE_POLICY")
    }

    @Test func noFileMeansEnvironmentAndDefaults() throws {
        var loader = loader
        loader.environment = ["HOTFOLDER_INBOX": "/in"]
        #expect(try loader.load(file: nil).configuration.outbox == "/outbox")
        loader.environment = [:]
        #expect(throws: ConfigurationError.missingInbox) { try loader.load(file: nil) }
        #expect(throws: ConfigurationError.fileUnreadable(path: "/nonexistent/h.yaml", reason: "no such file")) {
            try loader.load(file: "/nonexistent/h.yaml")
        }
    }

    @Test(arguments: [
        ("inbx: /in", "inbox", 1),
        ("inbox: /in\nmax_inflight: 3", "max_in_flight", 2),
        ("inbox: /in\nResubmit_Uncertain: true", "resubmit_uncertain", 2),
        ("inbox: /in\narchive-policy: keep", "archive_policy", 2),
    ])
    func unknownKeysSuggestTheNearestOne(yaml: String, suggestion: String, line: Int) throws {
        #expect {
            try load(yaml)
        } throws: { error in
            guard case .unknownKey(let source, _, let suggested) = error as? ConfigurationError else { return false }
            return suggested == suggestion && source == "\(file) line \(line)"
                && "\(error)".contains("did you mean `\(suggestion)`?")
        }
    }

    @Test func unknownNestedAndUnrelatedKeys() throws {
        #expect(throws: ConfigurationError.unknownKey(source: "\(file) line 3", key: "prices.fats", suggestion: "prices.fast")) {
            try load("inbox: /in\nprices:\n  fats: 1\n")
        }
        #expect(throws: ConfigurationError.unknownKey(source: "\(file) line 1", key: "colour_scheme", suggestion: nil)) {
            try load("colour_scheme: dark\n")
        }
    }

    @Test(arguments: [
        ("settle: soon", "settle", "soon", "a duration of 0 or more"),
        ("poll_interval: 0", "poll_interval", "0", "a duration above 0"),
        ("max_in_flight: 0", "max_in_flight", "0", "a whole number of 1 or more"),
        ("poll_settled_every: 0", "poll_settled_every", "0", "a whole number of 1 or more"),
        ("max_uploads: two", "max_uploads", "two", "a whole number"),
        ("provider: openai", "provider", "openai", "gateway or ark"),
        ("archive_policy: shred", "archive_policy", "shred", "move, keep or delete"),
        ("base_url: ftp://x.example", "base_url", "ftp://x.example", "an http(s) URL"),
        ("log_level: loud", "log_level", "loud", "trace, debug, info"),
        ("resubmit_uncertain: maybe", "resubmit_uncertain", "maybe", "true or false"),
        ("prices: {quality: -1}", "prices.quality", "-1", "0 or more"),
        ("watch_mode: fanotify", "watch_mode", "fanotify", "auto, inotify or poll"),
        ("outbox: \"\"", "outbox", "", "a folder path"),
    ])
    func badValuesNameFileKeyValueAndFix(line: String, key: String, value: String, fix: String) throws {
        #expect {
            try load("inbox: /in\n" + line)
        } throws: { error in
            guard case .invalidValue(let source, let badKey, let badValue, _) = error as? ConfigurationError else {
                return false
            }
            let text = "\(error)"
            return source == "\(file) line 2" && badKey == key && badValue == value && text.contains(fix)
                && text.hasPrefix("\(file) line 2: `\(key)` is '\(value)'")
        }
    }

    @Test func badEnvironmentValuesNameTheVariable() throws {
        #expect(throws: ConfigurationError.invalidValue(
            source: "environment variable HOTFOLDER_SETTLE", key: "settle", value: "-3",
            expected: "a duration of 0 or more, such as 2, 2s, 500ms, 5m or 1h")
        ) {
            try load("inbox: /in", environment: ["HOTFOLDER_SETTLE": "-3"])
        }
    }

    @Test func structuralAndCrossSettingErrors() throws {
        #expect(throws: ConfigurationError.notAMapping(source: file, key: nil)) { try load("- inbox\n") }
        #expect(throws: ConfigurationError.notAMapping(source: "\(file) line 2", key: "defaults")) {
            try load("inbox: /in\ndefaults: fast\n")
        }
        #expect(throws: ConfigurationError.self) { try load("inbox: [/a, /b]\n") }
        #expect(throws: ConfigurationError.self) { try load("inbox: /in\n  bad: indentation: here\n") }
        #expect { try load("inbox: /in\npoll_min_interval: 60\npoll_max_interval: 30") } throws: { error in
            "\(error)".contains("poll_min_interval") && "\(error)".contains("shorter")
        }
        #expect { try load("inbox: /in\noutbox: /in") } throws: { error in
            "\(error)".contains("`outbox` is the inbox itself")
        }
        #expect(try load("inbox: /in\nbase_url: http://api.example.com").warnings.first?.contains("plain http") == true)
        #expect(throws: ConfigurationError.missingInbox) { try load("# only a comment\n") }
    }
}
