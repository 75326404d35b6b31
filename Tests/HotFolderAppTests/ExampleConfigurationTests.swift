// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import Testing

/// The shipped example files must load and must document the real defaults.
@Suite struct ExampleConfigurationTests {
    static let etc = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("etc").path

    @Test func exampleLoadsAndEqualsTheDefaults() throws {
        let path = (Self.etc as NSString).appendingPathComponent("hotfolder.example.yaml")
        let loader = ServiceConfigurationLoader(environment: [:], currentDirectory: "/", homeDirectory: "/home/op")
        let loaded = try loader.load(file: path)
        #expect(loaded.warnings.isEmpty)
        let config = loaded.configuration
        var expected = ServiceConfiguration(inbox: config.inbox, stateDirectory: config.stateDirectory, configFile: path)
        expected.apiKeyFile = config.apiKeyFile
        #expect(config == expected, "every value in the example is the default")
        #expect(config.inbox == "/srv/hotfolder/inbox" && config.stateDirectory == "/var/lib/hotfolder")
    }

    @Test func exampleDocumentsEverySetting() throws {
        let text = try String(contentsOfFile: (Self.etc as NSString).appendingPathComponent("hotfolder.example.yaml"), encoding: .utf8)
        for key in ServiceConfigurationLoader.settingKeys {
            #expect(text.contains("\n\(key):") || text.contains("\n# \(key):"), "\(key) is not documented")
            #expect(text.contains(ServiceConfigurationLoader.environmentVariable(for: key)) || key == "defaults" || key == "prices"
                    || ServiceConfigurationLoader.sectionKeys.contains(key),
                    "\(key)'s environment variable is not documented")
        }
    }

    @Test func envExampleHoldsNoRealKeyAndUnitPointsAtTheFiles() throws {
        let env = try String(contentsOfFile: (Self.etc as NSString).appendingPathComponent("hotfolder.env.example"), encoding: .utf8)
        #expect(env.contains("SEEDANCE_API_KEY=replace-with-your-key"))
        let unit = try String(contentsOfFile: (Self.etc as NSString).appendingPathComponent("systemd/hotfolder.service"), encoding: .utf8)
        for line in [
            "ExecStart=/usr/local/bin/hotfolder run --config /etc/hotfolder/hotfolder.yaml",
            "EnvironmentFile=-/etc/hotfolder/hotfolder.env", "Restart=on-failure", "StateDirectory=hotfolder",
            "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
        ] {
            #expect(unit.contains(line + "\n"), "missing \(line)")
        }
    }
}
