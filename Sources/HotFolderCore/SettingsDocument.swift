// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Yams

/// Reads a settings file (`_defaults.yaml`, a sidecar, a JSONL row) into written `key: value` pairs.
///
/// Only a flat mapping is accepted: scalar values, or a short list of scalars for `seeds`. Because nested
/// structures are refused before they are walked, YAML anchors/aliases cannot be expanded into a
/// "billion laughs" bomb: Yams composes an alias as a shared reference to the anchored node, and this
/// reader never descends more than one level into it.
public enum SettingsDocument {
    /// The syntax of a settings file.
    public enum Syntax: Sendable, Hashable {
        case yaml
        case json
    }

    /// The most items a list value (`seeds`) may hold.
    public static let maxListItems = 64

    /// One written pair, in file order.
    public typealias Pair = (name: String, value: RawSetting)

    /// Parses a whole file. `file` is the display name used in problems.
    public static func parse(_ bytes: [UInt8], syntax: Syntax, file: String) -> Result<[Pair], DropProblem> {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        guard let text = String(validating: body, as: UTF8.self) else {
            return .failure(.wrongShape(file: file, field: "file", reason: "is not UTF-8 text; save it as UTF-8"))
        }
        switch syntax {
        case .yaml: return parseYAML(text, file: file)
        case .json: return parseJSON(text, file: file, lineOffset: 0)
        }
    }

    /// Parses a YAML document; problems carry the line and column Yams reports.
    static func parseYAML(_ text: String, file: String) -> Result<[Pair], DropProblem> {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            return .failure(yamlProblem(error, file: file))
        } catch {
            return .failure(.parseFailed(file: file, line: 1, column: 1, reason: "\(error)"))
        }
        guard let root else { return .success([]) }
        guard case .mapping(let mapping) = root else {
            if case .scalar(let scalar) = root, isNull(scalar) { return .success([]) }
            return .failure(.wrongShape(file: file, field: "file", reason: "must be a list of `setting: value` lines"))
        }
        var pairs: [Pair] = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let key) = keyNode else {
                return .failure(.wrongShape(file: file, field: "file", reason: "has a key that is not a plain name"))
            }
            switch valueNode {
            case .scalar(let scalar):
                if !isNull(scalar) { pairs.append((key.string, .scalar(scalar.string))) }
            case .sequence(let sequence):
                guard sequence.count <= maxListItems else {
                    return .failure(.wrongShape(file: file, field: key.string, reason: "has too many items"))
                }
                var items: [String] = []
                for item in sequence {
                    guard case .scalar(let scalar) = item else {
                        return .failure(
                            .wrongShape(file: file, field: key.string, reason: "must be a list of plain values"))
                    }
                    items.append(scalar.string)
                }
                pairs.append((key.string, .list(items)))
            default:
                return .failure(
                    .wrongShape(file: file, field: key.string, reason: "must be a single value, not a nested block"))
            }
        }
        return .success(pairs)
    }

    private static func isNull(_ scalar: Node.Scalar) -> Bool {
        scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    private static func yamlProblem(_ error: YamlError, file: String) -> DropProblem {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return .parseFailed(file: file, line: mark.line, column: mark.column, reason: problem)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return .parseFailed(
                file: file, line: context.mark.line, column: context.mark.column,
                reason: "the setting `\(duplicates.joined(separator: "`, `"))` appears twice")
        default:
            return .parseFailed(file: file, line: 1, column: 1, reason: "\(error)")
        }
    }

    /// Parses a JSON object; `lineOffset` shifts reported lines (for a row of a JSONL file).
    static func parseJSON(_ text: String, file: String, lineOffset: Int) -> Result<[Pair], DropProblem> {
        let data = Data(text.utf8)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let (line, column, reason) = jsonLocation(of: error, in: text)
            return .failure(.parseFailed(file: file, line: line + lineOffset, column: column, reason: reason))
        }
        guard let dictionary = object as? [String: Any] else {
            return .failure(.wrongShape(file: file, field: "file", reason: "must be a JSON object `{\"setting\": value}`"))
        }
        var pairs: [Pair] = []
        for key in dictionary.keys.sorted() {
            let value = dictionary[key]!
            if value is NSNull { continue }
            if let scalar = jsonScalar(value) {
                pairs.append((key, .scalar(scalar)))
            } else if let array = value as? [Any], array.count <= maxListItems {
                let items = array.compactMap(jsonScalar)
                guard items.count == array.count else {
                    return .failure(.wrongShape(file: file, field: key, reason: "must be a list of plain values"))
                }
                pairs.append((key, .list(items)))
            } else {
                return .failure(.wrongShape(file: file, field: key, reason: "must be a single value, not a nested block"))
            }
        }
        return .success(pairs)
    }

    private static func jsonScalar(_ value: Any) -> String? {
        if let string = value as? String { return string }
        if let number = value as? NSNumber {
            if let int = Int64(exactly: number.doubleValue), !"\(number)".contains(".") { return String(int) }
            return number.stringValue
        }
        return nil
    }

    /// Finds line and column (1-based) from Foundation's "around character N" message.
    private static func jsonLocation(of error: Error, in text: String) -> (Int, Int, String) {
        let description = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "\(error)"
        let utf8 = Array(text.utf8)
        var offset = utf8.count
        if let range = description.range(of: #"character (\d+)"#, options: .regularExpression),
            let number = Int(description[range].dropFirst("character ".count))
        {
            offset = min(number, utf8.count)
        }
        var line = 1
        var column = 1
        for byte in utf8[..<offset] {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        let reason = description.replacingOccurrences(of: #" around (line \d+, column \d+|character \d+)"#, with: "",
            options: .regularExpression).trimmingCharacters(in: CharacterSet(charactersIn: ". "))
        return (line, column, reason.isEmpty ? "not valid JSON" : reason.prefix(1).lowercased() + reason.dropFirst())
    }
}
