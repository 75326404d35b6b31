// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

extension ServiceConfigurationLoader {
    /// The environment variable that holds the API key; it wins over `api_key_file`.
    public static let apiKeyVariable = "SEEDANCE_API_KEY"

    /// Finds the API key: `SEEDANCE_API_KEY`, else the contents of `api_key_file` (trimmed).
    ///
    /// Warns when the key file can be read by group or others. Throws ``ConfigurationError/apiKeyMissing`` when
    /// neither gives a key, and a file error when the file is missing, unreadable or empty.
    public func resolveAPIKey(for configuration: ServiceConfiguration) throws -> ResolvedAPIKey {
        if let value = environment[Self.apiKeyVariable]?.trimmingCharacters(in: .whitespacesAndNewlines),
            !value.isEmpty
        {
            return ResolvedAPIKey(key: ServiceAPIKey(value), source: Self.apiKeyVariable, warnings: [])
        }
        guard let file = configuration.apiKeyFile else { throw ConfigurationError.apiKeyMissing }
        var warnings: [String] = []
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: file)
        } catch {
            throw ConfigurationError.apiKeyFileUnreadable(path: file, reason: "no such file")
        }
        if let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o044 != 0 {
            let octal = String(mode & 0o777, radix: 8)
            warnings.append(
                "The API key file \(file) is readable by group or others (mode \(octal)); run `chmod 600 \(file)`.")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw ConfigurationError.apiKeyFileUnreadable(path: file, reason: "permission denied or not a file")
        }
        let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { throw ConfigurationError.apiKeyFileEmpty(path: file) }
        return ResolvedAPIKey(key: ServiceAPIKey(value), source: file, warnings: warnings)
    }
}

/// The API key and where it came from.
public struct ResolvedAPIKey: Sendable, Equatable {
    /// The key, redacted in every printout.
    public var key: ServiceAPIKey
    /// `SEEDANCE_API_KEY` or the key file's path (never the key).
    public var source: String
    /// Warnings about how the key is kept.
    public var warnings: [String]
}
