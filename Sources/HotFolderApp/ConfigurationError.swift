// SPDX-License-Identifier: GPL-2.0-or-later

/// Why the configuration could not be loaded; each case reads as one sentence that names the file, the key,
/// the value and the fix.
public enum ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The configuration file could not be read.
    case fileUnreadable(path: String, reason: String)
    /// The configuration file is not valid YAML.
    case invalidYAML(path: String, reason: String)
    /// The file (or the value of `key`) must be a mapping of `key: value` lines.
    case notAMapping(source: String, key: String?)
    /// A setting name that does not exist, with the nearest known one.
    case unknownKey(source: String, key: String, suggestion: String?)
    /// A value that cannot be used for its setting.
    case invalidValue(source: String, key: String, value: String, expected: String)
    /// No inbox is configured.
    case missingInbox
    /// Two settings contradict each other.
    case conflict(String)
    /// Neither `SEEDANCE_API_KEY` nor `api_key_file` gives a key.
    case apiKeyMissing
    /// `api_key_file` cannot be read.
    case apiKeyFileUnreadable(path: String, reason: String)
    /// `api_key_file` is empty.
    case apiKeyFileEmpty(path: String)

    /// The error as one sentence.
    public var description: String {
        switch self {
        case .fileUnreadable(let path, let reason):
            "Cannot read the configuration file \(path): \(reason); check the path given with --config."
        case .invalidYAML(let path, let reason):
            "The configuration file \(path) is not valid YAML: \(reason)."
        case .notAMapping(let source, nil):
            "\(source) must be a mapping of `setting: value` lines."
        case .notAMapping(let source, let key?):
            "\(source): `\(key)` must be a mapping of `name: value` lines."
        case .unknownKey(let source, let key, let suggestion?):
            "\(source): unknown setting `\(key)`; did you mean `\(suggestion)`?"
        case .unknownKey(let source, let key, nil):
            "\(source): unknown setting `\(key)`; see etc/hotfolder.example.yaml for every setting."
        case .invalidValue(let source, let key, let value, let expected):
            "\(source): `\(key)` is '\(value)', which is not valid; use \(expected)."
        case .missingInbox:
            "No inbox is set; add `inbox: /path/to/inbox` to the configuration file or set HOTFOLDER_INBOX."
        case .conflict(let text):
            text
        case .apiKeyMissing:
            "No API key: set SEEDANCE_API_KEY (for the service, in /etc/hotfolder/hotfolder.env) or point "
                + "`api_key_file` at a file that holds the key."
        case .apiKeyFileUnreadable(let path, let reason):
            "Cannot read the API key file \(path): \(reason); check `api_key_file` and the file's owner."
        case .apiKeyFileEmpty(let path):
            "The API key file \(path) is empty; write the key into it or set SEEDANCE_API_KEY."
        }
    }
}
