// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import SeedanceEmulator
import Testing

extension ServiceSuites {
    /// `hotfolder retry` puts a failed job's files back where they were dropped.
    @Suite struct RetryServiceTests {
        @Test func aFailedShotFolderGoesBackIntoItsFolderNotBesideIt() async throws {
            let folders = try ServiceFolders("retry-shot")
            let emulator = try await startEmulator()
            var configuration = folders.configuration(baseURL: emulator.baseURL)
            try await withService(folders, emulator: emulator) { events, _ in
                try folders.drop("lane/door/prompt.txt", "   ")  // empty: invalid at once
                try folders.drop("lane/door/settings.yaml", "duration: 5\n")
                await events.wait(for: "the invalid shot") { $0.contains(where: \.isInvalid) }
            }
            configuration.outbox = folders.outbox
            let store = try SQLiteStateStore(directory: folders.state)
            let control = JobControl(store: store, configuration: configuration)
            let (jobs, unknown) = try await control.find(["door"])
            #expect(unknown.isEmpty && jobs.count == 1)
            // The same names dropped again meanwhile: nothing is overwritten, and the operator is told why.
            try folders.drop("lane/door/prompt.txt", "A new take")
            try folders.drop("lane/door/settings.yaml", "duration: 3\n")
            let blocked = await control.retry(jobs)
            #expect(blocked.hadErrors && blocked.lines.first?.contains("still in the inbox") == true, "\(blocked.lines)")
            try FileManager.default.removeItem(atPath: folders.inbox + "/lane/door")
            let outcome = await control.retry(jobs)
            #expect(!outcome.hadErrors, "\(outcome.lines)")
            #expect(folders.files(in: "inbox") == ["lane/door/prompt.txt", "lane/door/settings.yaml"], "\(folders.files(in: "inbox"))")
            await emulator.shutdown()
        }
    }
}
