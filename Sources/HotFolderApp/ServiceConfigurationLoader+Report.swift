// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Yams

/// The `report:` section (`enabled`, `at`, `contact_sheet_limit`, `keep_days`).
extension ServiceConfigurationLoader {
    /// The sub-settings of `report:`.
    static let reportKeys = ["enabled", "at", "contact_sheet_limit", "keep_days"]

    /// Reads `report:`; a bad value is an error that names the file, line and key.
    func parseReport(_ section: Section) throws -> ReportSettings {
        var settings = ReportSettings()
        for (name, node, source) in try Self.entries(section, key: "report", known: Self.reportKeys) {
            let key = "report.\(name)"
            guard let text = try Self.scalar(node, key: key, source: source) else { continue }
            let raw = RawSetting(text: text, source: source, baseDirectory: section.baseDirectory)
            switch name {
            case "enabled":
                guard let value = Self.boolean(raw) else {
                    throw ConfigurationError.invalidValue(source: source, key: key, value: text, expected: "true or false")
                }
                settings.enabled = value
            case "at":
                guard let value = ReportSchedule.TimeOfDay(text) else {
                    throw ConfigurationError.invalidValue(
                        source: source, key: key, value: text, expected: "a time of day as HH:MM, such as 07:00 or 6:30")
                }
                settings.at = value
            case "keep_days":
                guard let value = Self.countOrZero(raw) else {
                    throw ConfigurationError.invalidValue(
                        source: source, key: key, value: text, expected: "a whole number of days, 0 (keep forever) or more, such as 90")
                }
                settings.keepDays = value
            default:
                guard let value = Self.count(raw) else {
                    throw ConfigurationError.invalidValue(source: source, key: key, value: text, expected: "a whole number of 1 or more")
                }
                settings.contactSheetLimit = value
            }
        }
        return settings
    }
}
