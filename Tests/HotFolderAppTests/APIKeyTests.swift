// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import Testing

@Suite struct APIKeyTests {
    let secret = "sk-test-0123456789abcdef"
    let directory: String

    init() throws {
        directory = (FileManager.default.temporaryDirectory.path as NSString)
            .appendingPathComponent("hotfolder-key-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func configuration(keyFile: String?) -> ServiceConfiguration {
        var configuration = ServiceConfiguration(inbox: "/in", stateDirectory: "/state")
        configuration.apiKeyFile = keyFile
        return configuration
    }

    func keyFile(_ content: String, mode: Int) throws -> String {
        let path = (directory as NSString).appendingPathComponent("key-\(mode)")
        try Data(content.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    @Test func environmentWinsOverTheFile() throws {
        let loader = ServiceConfigurationLoader(environment: ["SEEDANCE_API_KEY": " \(secret)\n"])
        let resolved = try loader.resolveAPIKey(for: configuration(keyFile: "/does/not/matter"))
        #expect(resolved.key.exposedValue == secret && resolved.source == "SEEDANCE_API_KEY" && resolved.warnings.isEmpty)
    }

    @Test func privateKeyFileIsReadWithoutWarning() throws {
        let path = try keyFile(secret + "\n", mode: 0o600)
        let resolved = try ServiceConfigurationLoader(environment: [:]).resolveAPIKey(for: configuration(keyFile: path))
        #expect(resolved.key.exposedValue == secret && resolved.source == path && resolved.warnings.isEmpty)
    }

    @Test func keyFileReadableByOthersWarns() throws {
        let path = try keyFile(secret, mode: 0o644)
        let resolved = try ServiceConfigurationLoader(environment: [:]).resolveAPIKey(for: configuration(keyFile: path))
        #expect(resolved.key.exposedValue == secret)
        #expect(resolved.warnings == [
            "The API key file \(path) is readable by group or others (mode 644); run `chmod 600 \(path)`."
        ])
        let group = try keyFile(secret, mode: 0o640)
        #expect(try ServiceConfigurationLoader(environment: [:]).resolveAPIKey(for: configuration(keyFile: group)).warnings.count == 1)
    }

    @Test func missingOrEmptyKeysAreErrors() throws {
        let loader = ServiceConfigurationLoader(environment: ["SEEDANCE_API_KEY": "  "])
        #expect(throws: ConfigurationError.apiKeyMissing) { try loader.resolveAPIKey(for: configuration(keyFile: nil)) }
        let missing = (directory as NSString).appendingPathComponent("nope")
        #expect(throws: ConfigurationError.apiKeyFileUnreadable(path: missing, reason: "no such file")) {
            try loader.resolveAPIKey(for: configuration(keyFile: missing))
        }
        let empty = try keyFile(" \n", mode: 0o600)
        #expect(throws: ConfigurationError.apiKeyFileEmpty(path: empty)) {
            try loader.resolveAPIKey(for: configuration(keyFile: empty))
        }
        #expect("\(ConfigurationError.apiKeyMissing)".contains("SEEDANCE_API_KEY"))
    }

    @Test func theKeyNeverShowsInPrintouts() throws {
        let key = ServiceAPIKey(secret)
        let resolved = try ServiceConfigurationLoader(environment: ["SEEDANCE_API_KEY": secret])
            .resolveAPIKey(for: configuration(keyFile: nil))
        var dumped = ""
        dump(key, to: &dumped)
        var dumpedResolved = ""
        dump(resolved, to: &dumpedResolved)
        let printouts = [
            "\(key)", String(describing: key), String(reflecting: key), key.description, key.debugDescription, dumped,
            dumpedResolved, "\(resolved)", String(reflecting: resolved), "\(Mirror(reflecting: key).children.map(\.value))",
        ]
        for text in printouts {
            #expect(!text.contains(secret), "leaked in: \(text)")
            #expect(!text.contains("0123456789"), "leaked in: \(text)")
        }
        #expect("\(key)" == "***" && key.debugDescription == "ServiceAPIKey(***)")
        #expect(key == ServiceAPIKey(secret) && key.exposedValue == secret)
    }
}
