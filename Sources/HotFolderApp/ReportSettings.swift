// SPDX-License-Identifier: GPL-2.0-or-later
import HotFolderCore

/// The `report:` section: when the morning report is written by itself.
public struct ReportSettings: Sendable, Hashable {
    /// Whether the service writes the report by itself (`hotfolder report` works either way).
    public var enabled = true
    /// The wall-clock time it is written at, in the configured `timezone`.
    public var at = ReportSchedule.TimeOfDay(hour: 7, minute: 0)!
    /// The most video tiles on the contact sheet (the page lists every job regardless).
    public var contactSheetLimit = 100
    /// Days the service keeps reports in `outbox/_reports` (0: forever); older ones are removed after each report.
    public var keepDays = 90

    /// Creates the defaults: enabled, at 07:00, kept 90 days.
    public init() {}
}
