// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import Testing

/// The `report:` section of the configuration.
@Suite struct ReportConfigurationTests {
    static let loader = ServiceConfigurationLoader(environment: [:], currentDirectory: "/", homeDirectory: "/home/op")

    @Test func defaultsAndValues() throws {
        let defaults = try Self.loader.load(yaml: "inbox: /in\n", file: "/etc/h.yaml").configuration.report
        #expect(defaults.enabled && defaults.at.description == "07:00" && defaults.contactSheetLimit == 100 && defaults.keepDays == 90)
        let yaml = "inbox: /in\nreport:\n  enabled: false\n  at: \"6:30\"\n  contact_sheet_limit: 12\n  keep_days: 0\n"
        let report = try Self.loader.load(yaml: yaml, file: "/etc/h.yaml").configuration.report
        #expect(!report.enabled && report.at.description == "06:30" && report.contactSheetLimit == 12 && report.keepDays == 0)
    }

    @Test func badValuesNameTheLineAndTheFix() {
        for (yaml, expected) in [
            ("report:\n  at: 25:00\n", "`report.at` is '25:00', which is not valid; use a time of day as HH:MM"),
            ("report:\n  at: 25:00\n", "/etc/h.yaml line "),
            ("report:\n  enabled: maybe\n", "`report.enabled` is 'maybe'"),
            ("report:\n  keep_days: -1\n", "`report.keep_days` is '-1', which is not valid; use a whole number of days"),
            ("report:\n  time: 07:00\n", "unknown setting `report.time`"),
            ("report: 07:00\n", "`report` must be a mapping"),
        ] {
            #expect {
                try Self.loader.load(yaml: "inbox: /in\n" + yaml, file: "/etc/h.yaml")
            } throws: { error in
                "\(error)".contains(expected)
            }
        }
    }
}
