// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Yams

/// The two parts of a service config file that planning needs: `defaults:` (the config settings layer) and
/// `prices:` (US$ per million tokens per model). Other top-level keys are left to the service's loader.
///
/// ```yaml
/// defaults:
///   model: quality
///   resolution: 720p
/// prices:
///   fast: 0.6
///   quality: 2.5
/// ```
public struct PlannerConfigFile: Sendable, Hashable {
    /// The `defaults:` mapping, values as written.
    public var defaults: [String: String]
    /// The price table (defaults for models the file does not price).
    public var prices: PriceTable
    /// `provider:`, when the file names one (the rules differ: Ark's 1.0 pro models take no reference image).
    public var provider: VideoProvider = .gateway
    /// `export_names:` (`auto` unless the file says `literal`).
    public var exportNames: ExportNames = .auto

    /// Why a config file could not be used.
    public enum ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The text is not valid YAML or not UTF-8.
        case syntax(file: String, line: Int, column: Int, reason: String)
        /// A part has the wrong shape or value.
        case invalid(file: String, field: String, reason: String)

        /// One sentence.
        public var description: String {
            switch self {
            case .syntax(let file, let line, let column, let reason):
                "\(file) could not be read at line \(line), column \(column): \(reason)"
            case .invalid(let file, let field, let reason): "\(file): `\(field)` \(reason)"
            }
        }
    }

    /// Parses the config file's bytes; `file` names it in errors.
    public static func parse(_ bytes: [UInt8], file: String) throws(ParseError) -> PlannerConfigFile {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .syntax(file: file, line: 1, column: 1, reason: "the file is not UTF-8 text")
        }
        // The config is YAML, but its flat parts read exactly like a settings file.
        var result = PlannerConfigFile(defaults: [:], prices: .default)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            if case .parseFailed(_, let line, let column, let reason) = SettingsDocument.parseYAML(text, file: file)
                .failureValue
            {
                throw .syntax(file: file, line: line, column: column, reason: reason)
            }
            throw .syntax(file: file, line: 1, column: 1, reason: "\(error)")
        }
        guard case .mapping(let mapping)? = root else { return result }
        for (key, value) in mapping {
            switch key.string {
            case "defaults":
                guard case .mapping(let defaults) = value else {
                    throw .invalid(file: file, field: "defaults", reason: "must be a mapping of settings")
                }
                for (name, setting) in defaults {
                    guard let name = name.string else { continue }
                    switch setting {
                    case .scalar(let scalar): result.defaults[name] = scalar.string
                    // Only `seeds` takes a list; `prompt_prefix: [1, 2]` must not become the text "1,2".
                    case .sequence(let items)
                    where SettingKey(written: name) == .seeds && items.count <= SettingsDocument.maxListItems:
                        result.defaults[name] = items.compactMap(\.string).joined(separator: ",")
                    default:
                        let expected = SettingKey(written: name)?.expectedForm ?? "one value"
                        throw .invalid(file: file, field: "defaults.\(name)",
                            reason: "is `\(SettingsDocument.preview(setting))`: it must be \(expected)")
                    }
                }
            case "export_names":
                guard let names = value.string.flatMap(ExportNames.init(rawValue:)) else {
                    throw .invalid(file: file, field: "export_names", reason: "must be `auto` or `literal`")
                }
                result.exportNames = names
            case "provider":
                guard let provider = value.string.flatMap(VideoProvider.init(rawValue:)) else {
                    throw .invalid(file: file, field: "provider", reason: "must be `gateway` or `ark`")
                }
                result.provider = provider
            case "prices":
                guard case .mapping(let prices) = value else {
                    throw .invalid(file: file, field: "prices", reason: "must map `fast` and `quality` to a price")
                }
                for (name, price) in prices {
                    guard let model = name.string.flatMap(SeedanceModel.init(setting:)) else {
                        throw .invalid(file: file, field: "prices.\(name.string ?? "?")", reason: "is not `fast` or `quality`")
                    }
                    guard let amount = price.string.flatMap(Double.init), amount >= 0 else {
                        throw .invalid(file: file, field: "prices.\(model.shortName)",
                            reason: "must be a number of US dollars per million tokens, e.g. 0.6")
                    }
                    result.prices.perMillionTokens[model] = amount
                }
            default:
                continue
            }
        }
        return result
    }
}

extension Result {
    /// The error of a failed result, nil on success.
    var failureValue: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
