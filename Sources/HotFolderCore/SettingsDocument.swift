// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Yams

/// Reads a settings file (`_defaults.yaml`, a sidecar, a JSONL row) into written `key: value` pairs.
///
/// Only a flat mapping is accepted: scalar values, or a short list of scalars for `seeds`. A nested value
/// (a mapping, a list of lists) is kept only as a short ``RawSetting/block(preview:)`` so the planner can
/// report it against its key. Because nested structures are never walked, YAML anchors/aliases cannot be
/// expanded into a "billion laughs" bomb: Yams composes an alias as a shared reference to the anchored
/// node, and this reader never descends more than one level into it.
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
                let items = sequence.compactMap { item -> String? in
                    if case .scalar(let scalar) = item { return scalar.string }
                    return nil
                }
                pairs.append((key.string, items.count == sequence.count ? .list(items) : .block(preview: preview(valueNode))))
            case .mapping(let nested) where SettingKey.normalize(key.string) == "schedule":
                // The one nested setting (a folder's time window): two levels, flattened to its compact form.
                pairs.append((key.string, compactSchedule(nested).map(RawSetting.scalar) ?? .block(preview: preview(valueNode))))
            default:
                pairs.append((key.string, .block(preview: preview(valueNode))))
            }
        }
        return .success(pairs)
    }

    /// `{windows: ["22:00-06:00"], days: [mon, fri]}` as `windows=22:00-06:00;days=mon,fri`
    /// (``SubmissionSchedule/parse(compact:)``); nil when it is not a mapping of scalars or short lists of them.
    static func compactSchedule(_ mapping: Node.Mapping) -> String? {
        guard mapping.count <= 4 else { return nil }
        var parts: [String] = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let key) = keyNode else { return nil }
            var items: [String] = []
            switch valueNode {
            case .scalar(let scalar):
                items = scalar.string.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            case .sequence(let sequence):
                guard sequence.count <= 32 else { return nil }
                for item in sequence {
                    guard case .scalar(let scalar) = item else { return nil }
                    items.append(scalar.string)
                }
            default:
                return nil
            }
            guard !items.contains(where: { $0.contains(";") || $0.contains("=") || $0.contains(",") }) else { return nil }
            parts.append(key.string.lowercased() + "=" + items.joined(separator: ","))
        }
        return parts.joined(separator: ";")
    }

    /// A one-line preview of a nested YAML value (`{style: noir, grain: {…}}`), looking one level deep only.
    static func preview(_ node: Node) -> String {
        func shallow(_ node: Node) -> String {
            switch node {
            case .scalar(let scalar): scalar.string
            case .mapping: "{…}"
            case .sequence: "[…]"
            default: "…"
            }
        }
        switch node {
        case .mapping(let mapping):
            return previewList(mapping.lazy.map { "\(shallow($0.key)): \(shallow($0.value))" }, open: "{", close: "}")
        case .sequence(let sequence):
            return previewList(sequence.lazy.map(shallow), open: "[", close: "]")
        default:
            return shallow(node)
        }
    }

    /// Joins preview items, cut to a length that fits in one line of an error message.
    static func previewList(_ items: some Swift.Sequence<String>, open: String, close: String) -> String {
        var text = ""
        for item in items {
            if !text.isEmpty { text += ", " }
            text += item
            if text.count > 60 { return open + text.prefix(60) + "…" + close }
        }
        return open + text + close
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
            } else if let array = value as? [Any] {
                guard array.count <= maxListItems else {
                    return .failure(.wrongShape(file: file, field: key, reason: "has too many items"))
                }
                let items = array.compactMap(jsonScalar)
                pairs.append((key, items.count == array.count ? .list(items) : .block(preview: jsonPreview(value))))
            } else {
                pairs.append((key, .block(preview: jsonPreview(value))))
            }
        }
        return .success(pairs)
    }

    /// A one-line preview of a nested JSON value (`{"style": "noir"}` shows as `{style: noir}`), one level deep.
    private static func jsonPreview(_ value: Any) -> String {
        func shallow(_ value: Any) -> String {
            if let scalar = jsonScalar(value) { return scalar }
            if value is [Any] { return "[…]" }
            if value is [String: Any] { return "{…}" }
            return value is NSNull ? "null" : "…"
        }
        if let array = value as? [Any] { return previewList(array.lazy.map(shallow), open: "[", close: "]") }
        if let object = value as? [String: Any] {
            return previewList(object.keys.sorted().lazy.map { "\($0): \(shallow(object[$0]!))" }, open: "{", close: "}")
        }
        return shallow(value)
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
