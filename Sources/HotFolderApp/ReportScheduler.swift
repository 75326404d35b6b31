// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Logging

/// Writes the morning report by itself at `report.at` (in `timezone`), for everything since the previous report,
/// and announces it (``ServiceEvent/reportReady(path:)``).
///
/// The time of the previous report is kept in `report-state.json` in the state folder (written atomically), so
/// "since the previous report" survives restarts, and a report whose time passed while the service was down is
/// written when it starts. The clock is injected: tests never wait for 07:00.
public struct ReportScheduler: Sendable {
    /// The time source and the way to wait.
    public struct Clock: Sendable {
        /// The current time.
        public var now: @Sendable () -> Date
        /// Returns at `date` or a little before (the scheduler then asks again); throws when cancelled.
        public var sleep: @Sendable (_ until: Date) async throws -> Void

        /// Creates a clock.
        public init(now: @escaping @Sendable () -> Date, sleep: @escaping @Sendable (Date) async throws -> Void) {
            self.now = now
            self.sleep = sleep
        }

        /// The system clock; a long wait is cut into 10-minute naps so a changed wall clock is noticed.
        public static let system = Clock(now: { Date() }) { date in
            try await Task.sleep(for: .seconds(min(600, max(0.001, date.timeIntervalSinceNow))))
        }
    }

    /// What `report-state.json` holds.
    struct State: Codable, Equatable {
        /// The end of the previous report's period.
        var lastReportAt: Date

        enum CodingKeys: String, CodingKey {
            case lastReportAt = "last_report_at"
        }

        init(lastReportAt: Date) {
            self.lastReportAt = lastReportAt
        }

        // ISO 8601 with milliseconds: whole seconds would move the period's start back into the previous one.
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let text = try container.decode(String.self, forKey: .lastReportAt)
            guard let date = (try? Date(text, strategy: Self.format)) ?? (try? Date(text, strategy: .iso8601)) else {
                throw DecodingError.dataCorruptedError(forKey: .lastReportAt, in: container, debugDescription: "not an ISO 8601 time")
            }
            lastReportAt = date
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(lastReportAt.formatted(Self.format), forKey: .lastReportAt)
        }

        static let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    }

    let writer: MorningReportWriter
    let schedule: ReportSchedule
    let stateFile: String
    let clock: Clock
    let keepDays: Int
    let logger: Logger
    let observer: @Sendable (ServiceEvent) -> Void

    /// Creates a scheduler that writes with `writer` at the configured time.
    public init(
        writer: MorningReportWriter, configuration: ServiceConfiguration, clock: Clock = .system, logger: Logger,
        observer: @escaping @Sendable (ServiceEvent) -> Void
    ) {
        self.writer = writer
        schedule = ReportSchedule(at: configuration.report.at, timeZone: configuration.timeZone)
        stateFile = Self.stateFile(stateDirectory: configuration.stateDirectory)
        self.clock = clock
        keepDays = configuration.report.keepDays
        self.logger = logger
        self.observer = observer
    }

    /// `<state_dir>/report-state.json`.
    public static func stateFile(stateDirectory: String) -> String {
        (stateDirectory as NSString).appendingPathComponent("report-state.json")
    }

    /// When the service last wrote the report (from `report-state.json`); nil when it never did.
    public static func lastReportTime(stateDirectory: String) -> Date? {
        guard let data = FileManager.default.contents(atPath: stateFile(stateDirectory: stateDirectory)) else { return nil }
        return (try? JSONDecoder().decode(State.self, from: data))?.lastReportAt
    }

    /// Writes reports when they are due until the task is cancelled.
    public func run() async {
        if readState() == nil {
            // A new installation: the latest report time counts as the previous report (none is written at once).
            try? saveState(State(lastReportAt: schedule.previousSlot(atOrBefore: clock.now())))
        }
        while !Task.isCancelled {
            let now = clock.now()
            switch schedule.decide(lastReport: readState()?.lastReportAt, now: now) {
            case .waitUntil(let date):
                do { try await clock.sleep(date) } catch { return }
            case .writeNow(let since):
                let written = await write(since: since, until: now)
                if !written {
                    // Disk full or unreadable store: try again later rather than in a loop.
                    do { try await clock.sleep(now.addingTimeInterval(300)) } catch { return }
                }
            }
        }
    }

    /// Writes the report for `since..<until`, records it and announces it; false when it could not be written.
    func write(since: Date, until: Date) async -> Bool {
        let writer = self.writer
        do {
            let written = try await writer.write(since: since, until: until)
            try saveState(State(lastReportAt: until))
            logger.info("morning report written: \(written.html) (\(written.jobs) job(s))")
            let removed = writer.removeReports(olderThan: keepDays, today: until)
            if !removed.isEmpty { logger.info("removed \(removed.count) report file(s) older than \(keepDays) days") }
            observer(.reportReady(path: written.html))
            return true
        } catch {
            logger.error("cannot write the morning report: \(error)")
            return false
        }
    }

    func readState() -> State? {
        guard let data = FileManager.default.contents(atPath: stateFile) else { return nil }
        return try? JSONDecoder().decode(State.self, from: data)
    }

    func saveState(_ state: State) throws {
        try AtomicFile.write(try JSONEncoder.pretty.encode(state), to: stateFile)
    }
}
