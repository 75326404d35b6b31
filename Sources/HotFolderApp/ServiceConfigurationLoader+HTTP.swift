// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Yams

/// The `http:` section (`enabled`, `listen`, `token_file`, `base_path`).
extension ServiceConfigurationLoader {
    /// The sub-settings of `http:`.
    static let httpKeys = ["enabled", "listen", "token_file", "base_path"]

    /// Reads `http:`; a bad value is an error that names the file, line and key.
    func parseHTTP(_ section: Section) throws -> HTTPSettings {
        var settings = HTTPSettings()
        for (name, node, source) in try Self.entries(section, key: "http", known: Self.httpKeys) {
            let key = "http.\(name)"
            guard let text = try Self.scalar(node, key: key, source: source) else { continue }
            let raw = RawSetting(text: text, source: source, baseDirectory: section.baseDirectory)
            switch name {
            case "enabled":
                guard let value = Self.boolean(raw) else {
                    throw ConfigurationError.invalidValue(source: source, key: key, value: text, expected: "true or false")
                }
                settings.enabled = value
            case "listen":
                guard let (host, port) = Self.hostAndPort(text) else {
                    throw ConfigurationError.invalidValue(
                        source: source, key: key, value: text, expected: "an address and port such as 127.0.0.1:8470 or [::1]:8470")
                }
                (settings.host, settings.port) = (host, port)
            case "token_file":
                settings.tokenFile = path(raw)
            default:
                guard text.hasPrefix("/"), !text.contains(".."), !text.contains("?"), !text.contains("#"), !text.contains(" ") else {
                    throw ConfigurationError.invalidValue(
                        source: source, key: key, value: text, expected: "a URL path that starts with /, such as / or /hotfolder")
                }
                settings.basePath = text
            }
        }
        return settings
    }

    /// `127.0.0.1:8470`, `[::1]:8470` or `localhost:8470` split into host and port.
    static func hostAndPort(_ text: String) -> (String, Int)? {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(" "), !host.contains("/") else { return nil }
        return (host, port)
    }
}
