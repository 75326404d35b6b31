// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// A setting's value as written: one scalar, or a list (only `seeds` takes a list).
public enum RawSetting: Sendable, Hashable, Codable {
    /// A single value, exactly as written (`5`, `16:9`, `quality`).
    case scalar(String)
    /// A list of values (`seeds: [1, 2, 3]`).
    case list([String])
    /// A nested block (a YAML mapping, a JSON object, a list of lists), kept only as a short preview such
    /// as `{style: noir}` so that the error can show it: no setting takes one.
    case block(preview: String)

    /// The value as one line of text, for reports.
    public var text: String {
        switch self {
        case .scalar(let value): value
        case .list(let values): "[" + values.joined(separator: ", ") + "]"
        case .block(let preview): preview
        }
    }

    /// Whether `key` accepts a value of this kind: a single value for every setting, a list only for `seeds`.
    public func fits(_ key: SettingKey) -> Bool {
        switch self {
        case .scalar: true
        case .list: key == .seeds
        case .block: false
        }
    }
}

/// One level of settings (built-in, config, a `_defaults.yaml`, a sidecar, a manifest row) and its source.
public struct SettingsLayer: Sendable, Hashable {
    /// Where these values came from, as shown to people: `built-in`, `config`, `inbox/portrait/_defaults.yaml`,
    /// `inbox/shots.csv line 4`.
    public var source: String
    /// The values this level sets.
    public var values: [SettingKey: RawSetting]

    /// Creates a layer.
    public init(source: String, values: [SettingKey: RawSetting] = [:]) {
        self.source = source
        self.values = values
    }

    /// The built-in defaults: fast model, 5 s, 16:9, 720p, one variant, priority 0.
    ///
    /// 720p (not the gateway's 1080p) keeps a forgotten setting cheap; the seed is left unset (random).
    public static let builtIn = SettingsLayer(
        source: "built-in",
        values: [
            .model: .scalar("fast"), .duration: .scalar("5"), .aspectRatio: .scalar("16:9"),
            .resolution: .scalar("720p"), .variants: .scalar("1"), .priority: .scalar("0"),
        ])

    /// Builds a layer from written key/value pairs (e.g. the service config's `defaults:`), collecting
    /// unknown keys as problems instead of dropping them silently.
    public static func fromWritten(_ written: [String: String], source: String) -> (SettingsLayer, [DropProblem]) {
        var layer = SettingsLayer(source: source)
        var problems: [DropProblem] = []
        for (name, value) in written.sorted(by: { $0.key < $1.key }) {
            guard let key = SettingKey(written: name) else {
                problems.append(.unknownKey(file: source, key: name, suggestion: SettingKey.suggestion(for: name)))
                continue
            }
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            if key == .seeds {
                layer.values[key] = .list(SettingsLayer.splitList(trimmed))
            } else if !trimmed.isEmpty || key == .promptPrefix || key == .promptSuffix {
                layer.values[key] = .scalar(trimmed)
            }
        }
        return (layer, problems)
    }

    /// Splits `1, 2, 3`, `1 2 3`, `1;2;3` or `[1,2,3]` into items.
    static func splitList(_ text: String) -> [String] {
        var inner = text
        if inner.hasPrefix("[") && inner.hasSuffix("]") { inner = String(inner.dropFirst().dropLast()) }
        return inner.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == " " }).map(String.init)
    }
}
