// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Yams

/// The structured settings (`budget:`, `schedule:`, `report:`, `notify:`, `http:`): each is read from its YAML node by
/// its own parser, with errors that name the file, line and key like the flat settings'.
extension ServiceConfigurationLoader {
    func applySections(
        _ sections: [String: Section], to configuration: inout ServiceConfiguration, warnings: inout [String]
    ) throws {
        for key in sections.keys.sorted() {
            guard let section = sections[key] else { continue }
            switch key {
            case "budget": configuration.budget = try parseBudget(section)
            case "schedule": configuration.schedule = try parseSchedule(section)
            case "report": configuration.report = try parseReport(section)
            case "notify": configuration.notify = try parseNotify(section, warnings: &warnings)
            case "http": configuration.http = try parseHTTP(section)
            default:
                throw ConfigurationError.unknownKey(source: section.source, key: key, suggestion: nil)
            }
        }
    }

    /// The mapping under `key`, or an error saying it must be one.
    static func mapping(_ section: Section, key: String) throws -> Node.Mapping {
        guard let mapping = section.node.mapping else { throw ConfigurationError.notAMapping(source: section.source, key: key) }
        return mapping
    }

    /// A section's sub-settings as `name → (node, source)`, refusing names not in `known` (with the nearest one).
    static func entries(
        _ section: Section, key: String, known: [String]
    ) throws -> [(name: String, node: Node, source: String)] {
        var result: [(String, Node, String)] = []
        let file = section.file
        for (keyNode, valueNode) in try mapping(section, key: key) {
            let name = keyNode.string ?? ""
            let source = Self.source(file, keyNode)
            guard known.contains(name) else {
                throw ConfigurationError.unknownKey(
                    source: source, key: "\(key).\(name)", suggestion: Self.nearest(name, in: known).map { "\(key).\($0)" })
            }
            if valueNode.null == nil { result.append((name, valueNode, source)) }
        }
        return result
    }
}
