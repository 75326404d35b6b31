// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import SeedanceEmulator
import Testing

/// The dashboard in headless Chromium (scripts/browser/check_dashboard.py): a job appears and finishes without a
/// reload, a failed job is retried with its button, and with a token the login form lets the person in.
extension ServiceSuites {
@Suite struct DashboardBrowserTests {
    @Test(arguments: [false, true])
    func aPersonWatchesJobsLiveAndRetriesAFailedOne(withToken: Bool) async throws {
        let folders = try ServiceFolders("dash-browser")
        let emulator = try await startEmulator(run: 1)
        let token = withToken ? "browser-token-0123456789abcdef" : nil
        try await withDashboard(folders, emulator: emulator, token: token) { http, events, store in
            try folders.drop("bad.txt", "A slow zoom on a mountain")
            try folders.drop("bad.yaml", "duration: 99\n")
            await events.wait(for: "the invalid job") { $0.contains(where: \.isInvalid) }
            let bad = try #require(try store.findJobs("bad").first)
            // HOTFOLDER_SCREENSHOTS=1 refreshes the README's screenshots in docs/dashboard; otherwise they stay in the temp folder.
            let refresh = ProcessInfo.processInfo.environment["HOTFOLDER_SCREENSHOTS"] != nil && !withToken
            let screenshots = refresh ? ReportTools.packageRoot + "/docs/dashboard" : folders.root + "/screenshots"
            var arguments = [
                ReportTools.packageRoot + "/scripts/browser/check_dashboard.py", http.base, folders.inbox,
                "--failed-job", bad.id.lowercasedString, "--screenshots", screenshots,
            ]
            if let token { arguments += ["--token", token] }
            let (status, output) = try await ReportTools.runOffThread(try ReportTools.browserPython(), arguments)
            #expect(status == 0, "\(output)")
            #expect(FileManager.default.fileExists(atPath: screenshots + "/jobs.png"))
            #expect(try store.findJobs("live").first?.state == .done)
        }
        await emulator.shutdown()
    }
}
}
