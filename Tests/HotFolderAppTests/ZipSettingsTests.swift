// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import Testing

/// `zip_max_entries` and `zip_max_bytes`: from the file or the environment, sizes with decimal units.
@Suite struct ZipSettingsTests {
    func load(_ yaml: String, environment: [String: String] = [:]) throws -> ServiceConfiguration {
        let loader = ServiceConfigurationLoader(environment: environment, currentDirectory: "/work", homeDirectory: "/home/op")
        return try loader.load(yaml: yaml, file: "/etc/hotfolder/hotfolder.yaml").configuration
    }

    @Test func defaultsFileAndEnvironment() throws {
        let defaults = try load("inbox: /in\n")
        #expect(defaults.zipMaxEntries == 1000 && defaults.zipMaxBytes == 2_000_000_000)
        let file = try load("inbox: /in\nzip_max_entries: 50\nzip_max_bytes: 500MB\n")
        #expect(file.zipMaxEntries == 50 && file.zipMaxBytes == 500_000_000)
        let environment = try load(
            "inbox: /in\nzip_max_bytes: 1GB\n",
            environment: ["HOTFOLDER_ZIP_MAX_BYTES": "1.5 GB", "HOTFOLDER_ZIP_MAX_ENTRIES": "20"])
        #expect(environment.zipMaxEntries == 20 && environment.zipMaxBytes == 1_500_000_000)
        #expect(try load("inbox: /in\nzip_max_bytes: 123456\n").zipMaxBytes == 123_456)
    }

    @Test(arguments: ["zip_max_bytes: 0", "zip_max_bytes: lots", "zip_max_bytes: -5MB", "zip_max_entries: 0"])
    func badValuesAreRefusedWithTheFix(_ line: String) {
        #expect {
            try load("inbox: /in\n" + line)
        } throws: { error in
            guard case .invalidValue = error as? ConfigurationError else { return false }
            return "\(error)".contains("such as")
        }
    }
}
