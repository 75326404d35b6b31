// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import SeedanceEmulator
import Testing

extension ServiceSuites {
    /// Budgets and time windows tried as a user would: prompts dropped into a real inbox, the service against the
    /// emulator, the clock moved by the test.
    @Suite struct OvernightServiceTests {
        /// What one 480p, 2-second fast job is estimated to cost with the default prices.
        static let jobCost = Double(VideoSize.of(.p480, .wide).tokens(durationSeconds: 2)) * 0.6 / 1_000_000

        func held(_ events: [ServiceEvent]) -> [String] {
            events.compactMap { if case .held(let name, _, _) = $0 { name } else { nil } }
        }

        @Test func aBudgetThatFitsTenOfTwentyMakesExactlyTenCreateCallsAndHoldsTheRest() async throws {
            let folders = try ServiceFolders("budget")
            let emulator = try await startEmulator()
            defer { Task { await emulator.shutdown() } }
            let configure: (inout ServiceConfiguration) -> Void = { configuration in
                configuration.budget = BudgetCaps(daily: Self.jobCost * 10.5)
                configuration.timeZone = TimeZone(identifier: "UTC")!
            }
            try await withService(folders, emulator: emulator, configure: configure) { events, store in
                for index in 1...20 { try folders.drop(String(format: "clip%02d.txt", index), "A paper boat number \(index) on a pond") }
                await events.wait(for: "10 done and 10 held") { events in
                    events.filter(\.isDone).count == 10 && events.filter { if case .held = $0 { true } else { false } }.count == 10
                }
                #expect(emulator.stats.tasksCreated == 10)
                #expect(folders.files(in: "outbox").filter { $0.hasSuffix(".log") }.count == 10, "a held job leaves no log behind")
                let heldJobs = try store.heldJobs()
                #expect(heldJobs.count == 10)
                #expect(heldJobs.allSatisfy { $0.failureCategory == "budget" && ($0.failureMessage ?? "").hasPrefix("daily budget \(Money.text(Self.jobCost * 10.5)) reached") })
                let status = try await StatusReport.read(store: store, stateDirectory: folders.state, configuration: {
                    var configuration = folders.configuration(baseURL: emulator.baseURL)
                    configure(&configuration)
                    return configuration
                }())
                #expect(status.budget?.heldByBudget == 10)
                #expect(status.text.contains("10 job(s) held by a budget"))
                // The morning report shows the cap with the settled spend, and every held job with its reason.
                var configuration = folders.configuration(baseURL: emulator.baseURL)
                configure(&configuration)
                let report = try await MorningReportWriter(configuration: configuration, store: store)
                    .report(since: Date().addingTimeInterval(-3600), until: Date())
                let daily = try #require(report.budgets.first { $0.name == "daily" })
                #expect(abs(daily.cap - Self.jobCost * 10.5) < 1e-9 && abs(daily.spent - Self.jobCost * 10) < 1e-9 && daily.reserved == 0)
                #expect(report.totals[.held] == 10 && report.totals[.done] == 10)
                #expect(report.entries.filter { $0.outcome == .held }.allSatisfy { ($0.reason ?? "").contains("daily budget") })
            }
            // A restart changes nothing: held jobs stay held, no create call is made.
            try await withService(folders, emulator: emulator, configure: configure) { events, store in
                await events.wait(for: "the watcher's first scan") { $0.contains(.watching) }
                // Nothing may move: an absence cannot be awaited, so give the dispatcher and two poller sweeps time.
                try await Task.sleep(for: .milliseconds(1500))
                #expect(emulator.stats.tasksCreated == 10)
                #expect(try store.heldJobs().count == 10)
                // `hotfolder budget --daily …`: raising the cap lets the held jobs go, in priority order.
                try store.setBudgetOverride(.daily, value: Self.jobCost * 20.5)
                var configuration = folders.configuration(baseURL: emulator.baseURL)
                configure(&configuration)
                #expect(try await JobControl(store: store, configuration: configuration).releaseHeld(kind: "budget") == 10)
                await events.wait(for: "the other 10 done") { $0.filter(\.isDone).count == 10 }
                #expect(emulator.stats.tasksCreated == 20)
            }
        }

        @Test func aClosedWindowHoldsJobsUntilItOpensAndUrgentJobsGoAtOnce() async throws {
            let folders = try ServiceFolders("window")
            let emulator = try await startEmulator()
            defer { Task { await emulator.shutdown() } }
            let clock = ShiftedClock()
            var utc = Calendar(identifier: .gregorian)
            utc.timeZone = TimeZone(identifier: "UTC")!
            // A window that opens two hours from now and lasts an hour.
            let start = utc.dateComponents([.hour, .minute], from: clock.now.addingTimeInterval(2 * 3600))
            let window = String(format: "%02d:%02d-%02d:%02d", start.hour!, start.minute!, (start.hour! + 1) % 24, start.minute!)
            let configure: (inout ServiceConfiguration) -> Void = { configuration in
                configuration.timeZone = TimeZone(identifier: "UTC")!
                configuration.schedule = try? SubmissionSchedule.parse(windows: [window], days: []).get()
            }
            try await withService(folders, emulator: emulator, configure: configure, clock: clock) { events, store in
                for index in 1...5 { try folders.drop("night\(index).txt", "A lighthouse at night, take \(index)") }
                try folders.drop("rush.yaml", "priority: urgent\n")
                try folders.drop("rush.txt", "A courier runs through the rain")
                await events.wait(for: "5 held and the urgent one done") { events in
                    self.held(events).count == 5 && events.contains { if case .done(let name, _, _) = $0 { name == "rush" } else { false } }
                }
                #expect(emulator.stats.tasksCreated == 1, "only the urgent job was sent")
                let reason = try store.heldJobs().first?.failureMessage ?? ""
                #expect(reason.hasPrefix("waits for \(window.replacingOccurrences(of: "-", with: "–")), opens in "), "\(reason)")
                #expect(reason.hasSuffix("opens in 2 h") || reason.hasSuffix("opens in 1 h 59 min"), "\(reason)")
            }
            // Restarted while they wait: they still wait, and go when the window opens.
            try await withService(folders, emulator: emulator, configure: configure, clock: clock) { events, store in
                await events.wait(for: "the watcher's first scan") { $0.contains(.watching) }
                let waiting = try store.heldJobs(kind: "window").count
                #expect(waiting == 5)
                clock.advance(2 * 3600 + 90)
                await events.wait(for: "the 5 held jobs done once the window opened") { $0.filter(\.isDone).count == 5 }
                #expect(emulator.stats.tasksCreated == 6)
            }
        }
    }
}
