// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO

/// Builds the morning report from the state database and writes its files: `YYYY-MM-DD.html`, `.csv` and
/// `-contact.jpg` in `outbox/_reports/` (or another folder), each written atomically.
///
/// Reads only index ranges: the jobs finished in the period (`updatedAt`), and the held and uncertain ones
/// (`state`). Blocking (SQLite, ffmpeg): the service calls it on the thread pool.
public struct MorningReportWriter: Sendable {
    /// The files of one written report.
    public struct Written: Sendable, Hashable {
        /// The HTML page.
        public var html: String
        /// The CSV table.
        public var csv: String
        /// The contact sheet; nil when none was made (the page says why).
        public var contactSheet: String?
        /// How many jobs it lists.
        public var jobs: Int
    }

    /// Where budgets' spend comes from; the report shows "No budget set" when it returns no line.
    public typealias BudgetSource = @Sendable (_ period: DateInterval) async throws -> [MorningReport.BudgetLine]

    let configuration: ServiceConfiguration
    let store: any ServiceStore
    /// The folder the report's files go to (default `outbox/_reports`).
    public var directory: String
    /// Makes the contact sheet from the posters the runner made beside each video.
    public var posterMaker = PosterMaker()
    /// The budget lines: each cap in force (configuration and `hotfolder budget`) with its spend at the end of the
    /// period; none when no cap is set.
    public var budgets: BudgetSource

    /// Creates a writer for the configured outbox and store.
    public init(configuration: ServiceConfiguration, store: any ServiceStore, directory: String? = nil) {
        self.configuration = configuration
        self.store = store
        self.directory = directory ?? Self.defaultDirectory(outbox: configuration.outbox)
        budgets = { period in try await Self.budgetLines(store: store, configuration: configuration, at: period.end) }
    }

    /// The caps in force at `date` with what is spent and reserved against them.
    static func budgetLines(store: any ServiceStore, configuration: ServiceConfiguration, at date: Date) async throws -> [MorningReport.BudgetLine] {
        let status = try await BudgetStatus.read(
            store: store, configuration: configuration, now: date, laneCaps: await BudgetStatus.laneCaps(store: store))
        return status.lines.compactMap { line in
            guard let cap = line.limit else { return nil }
            let name = line.cap.hasPrefix("lane:") ? "lane '\(line.cap.dropFirst(5))' daily" : line.cap
            return MorningReport.BudgetLine(name: name, cap: cap, spent: line.spent, reserved: line.reserved, resetsAt: line.resetsAt)
        }
    }

    /// `outbox/_reports`.
    public static func defaultDirectory(outbox: String) -> String {
        (HotFolderService.absolute(outbox) as NSString).appendingPathComponent("_reports")
    }

    /// What a job cost (a finished video) or will cost (one still to go), in US dollars.
    ///
    /// The one place the report's cost comes from: what its create calls spent (the billed figure, or the estimate
    /// where the provider gives none) and still have reserved (an uncertain call may have been billed); for a job
    /// that never left the queue, its estimate.
    public func cost(of job: StoredJob, spec: JobSpec?) async -> Double? {
        switch job.state {
        case .ready, .held:
            return spec?.estimate?.cost
        case .invalid:
            return 0
        default:
            if let spend = try? await store.spendRecorded(ofJob: job.id) { return spend.used }
            // Finished before spend was recorded: the estimate for a video, nothing for a failure.
            return job.state == .failed || job.state == .cancelled ? 0 : spec?.estimate?.cost
        }
    }

    // MARK: - Building

    /// The report for `since..<until`: jobs finished in the period, and every job held or uncertain now.
    public func report(since: Date, until: Date) async throws -> MorningReport {
        let finished = try await store.finishedJobs(from: since, to: until, limit: 10_000)
        let waiting = try await store.listJobs(in: [.held, .uncertain], limit: nil)
        let period = DateInterval(start: min(since, until), end: until)
        var entries: [MorningReport.Entry] = []
        for job in finished + waiting { entries.append(await entry(job)) }
        return MorningReport(period: period, timeZone: configuration.timeZone, budgets: try await budgets(period), entries: entries)
    }

    /// One job as the report shows it.
    func entry(_ job: StoredJob) async -> MorningReport.Entry {
        let spec = job.spec
        let request = spec?.request
        let outcome: MorningReport.Outcome =
            switch job.state {
            case .done: .done
            case .held: .held
            case .uncertain: .uncertain
            case .cancelled: .cancelled
            default: .failed
            }
        var entry = MorningReport.Entry(
            name: job.outputPath.map { ($0 as NSString).lastPathComponent } ?? job.name, lane: job.lane, outcome: outcome,
            prompt: request?.prompt ?? "", model: request.map { SeedanceModel(setting: $0.model)?.shortName ?? $0.model } ?? "unknown",
            duration: request?.duration, ratio: request?.aspectRatio, resolution: request?.resolution,
            cost: await cost(of: job, spec: spec), queuedAt: job.createdAt, updatedAt: job.updatedAt)
        switch outcome {
        case .done:
            if let stem = job.outputPath {
                entry.videoPath = relative(stem + ".mp4")
                if FileManager.default.fileExists(atPath: stem + ".jpg") { entry.posterPath = relative(stem + ".jpg") }
            }
        case .failed, .cancelled:
            let category = job.state == .invalid ? "invalid" : job.failureCategory ?? "internal"
            entry.category = category
            entry.reason = job.failureMessage ?? spec.map { $0.errors.map(\.message).joined(separator: "; ") }
            entry.advice = outcome == .cancelled ? "Nothing more runs for it; move its files back into the inbox to make it again." : ErrorReport.advice(for: category)
        case .held:
            entry.reason = job.failureMessage
            entry.nextAttemptAt = job.nextAttemptAt
        case .uncertain:
            entry.reason = job.failureMessage
            entry.nextAttemptAt = job.nextAttemptAt
            entry.advice = "Its create call may have made a task that is billed. Check the provider's console, then run `hotfolder retry \(job.displayName)` (may pay twice) or `hotfolder cancel \(job.displayName)`."
        }
        return entry
    }

    /// `path` relative to the report's folder (`../portrait/cat.jpg`).
    func relative(_ path: String) -> String {
        Self.relativePath(from: directory, to: path)
    }

    /// The path of `file` seen from the folder `base` (both absolute).
    public static func relativePath(from base: String, to file: String) -> String {
        let from = HotFolderService.absolute(base).split(separator: "/")
        let to = HotFolderService.absolute(file).split(separator: "/")
        var common = 0
        while common < from.count, common < to.count - 1, from[common] == to[common] { common += 1 }
        let ups = Array(repeating: "..", count: from.count - common)
        return (ups + to[common...].map(String.init)).joined(separator: "/")
    }

    // MARK: - Writing

    /// Builds the report for `since..<until` and writes its page, table and contact sheet.
    public func write(since: Date, until: Date) async throws -> Written {
        let report = try await report(since: since, until: until)
        // The contact sheet (ffmpeg) and the files: on the thread pool.
        return try await Blocking.run { try self.writeFiles(report) }
    }

    /// Writes the report's page, table and contact sheet.
    private func writeFiles(_ built: MorningReport) throws -> Written {
        var report = built
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let day = report.day
        let sheetName = "\(day)-contact.jpg"
        let tiles = report.sortedEntries.filter { $0.outcome == .done }.compactMap { entry in
            entry.posterPath.map { PosterMaker.Tile(image: (directory as NSString).appendingPathComponent($0), label: entry.displayName) }
        }
        var sheetPath: String?
        if tiles.isEmpty {
            report.contactSheetNote = "No contact sheet: no video of this period has a poster."
        } else {
            let shown = Array(tiles.prefix(configuration.report.contactSheetLimit))
            let path = (directory as NSString).appendingPathComponent(sheetName)
            do {
                try posterMaker.makeContactSheet(shown, output: path)
                report.contactSheet = sheetName
                sheetPath = path
                if shown.count < tiles.count {
                    report.contactSheetNote = "The contact sheet shows the first \(shown.count) of \(tiles.count) videos."
                }
            } catch {
                report.contactSheetNote = "No contact sheet: \(error)."
            }
        }
        let html = (directory as NSString).appendingPathComponent("\(day).html")
        let csv = (directory as NSString).appendingPathComponent("\(day).csv")
        // A report written again the same day (on demand) replaces the earlier one.
        try AtomicFile.write(Data(report.csv().utf8), to: csv)
        try AtomicFile.write(Data(report.html().utf8), to: html)
        return Written(html: html, csv: csv, contactSheet: sheetPath, jobs: report.entries.count)
    }

    /// Removes the report files (`YYYY-MM-DD.html`, `.csv`, `-contact.jpg`) of days more than `keepDays` before
    /// `today` from the report folder; other files are left alone. Returns the names removed.
    @discardableResult
    public func removeReports(olderThan keepDays: Int, today: Date) -> [String] {
        guard keepDays > 0, let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = configuration.timeZone
        guard let cutoff = calendar.date(byAdding: .day, value: -keepDays, to: today) else { return [] }
        let oldest = MorningReport.day(of: cutoff, in: configuration.timeZone)
        var removed: [String] = []
        for name in names.sorted() {
            let day = String(name.prefix(10))
            let rest = name.dropFirst(10)
            guard day.count == 10, day.allSatisfy({ $0.isNumber || $0 == "-" }), day < oldest,
                [".html", ".csv", "-contact.jpg"].contains(String(rest))
            else { continue }
            if (try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))) != nil {
                removed.append(name)
            }
        }
        return removed
    }
}
