// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import Testing

extension ServiceSuites {
    /// `hotfolder run` as its own process: a cap raised in the configuration file and read again on SIGHUP lets the
    /// held jobs go; `hotfolder budget` shows the spend and refuses a wrong amount with a clear error.
    @Suite struct BudgetCommandTests {
        typealias Crash = CrashRecoveryTests

        /// Runs `hotfolder <arguments> --config …` to the end; its exit status and output.
        func hotfolder(_ folders: ServiceFolders, _ arguments: [String]) throws -> (Int32, String) {
            let process = Process()
            process.executableURL = Crash.packageRoot.appendingPathComponent(".build/debug/hotfolder")
            process.arguments = arguments + ["--config", folders.root + "/hotfolder.yaml"]
            process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("HOTFOLDER_") }
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, output)
        }

        @Test func aCapRaisedInTheFileAndReadOnSIGHUPLetsHeldJobsGo() async throws {
            let folders = try ServiceFolders("sighup")
            let emulator = try await startEmulator()
            let cost = OvernightServiceTests.jobCost
            try Crash.writeConfig(folders, baseURL: emulator.baseURL, extra: "timezone: UTC\nbudget:\n  daily: \(cost * 2.5)\n")
            let service = try Crash.ServiceProcess(folders, run: 1)
            for index in 1...4 { try folders.drop("kite\(index).txt", "A kite over the dunes, take \(index)") }
            try await Crash.waitForState(folders, "2 done and 2 held (log: \(service.output))") { $0[.done] == 2 && $0[.held] == 2 }
            #expect(emulator.stats.tasksCreated == 2)

            let (status, shown) = try hotfolder(folders, ["budget"])
            #expect(status == 0, "\(shown)")
            #expect(shown.contains("2 job(s) held by a budget"), "\(shown)")
            #expect(shown.contains("daily: $0.023 spent, $0.00 reserved of $0.029"), "\(shown)")

            try Crash.writeConfig(folders, baseURL: emulator.baseURL, extra: "timezone: UTC\nbudget:\n  daily: \(cost * 4.5)\n")
            kill(service.process.processIdentifier, SIGHUP)
            try await Crash.waitForState(folders, "4 done after the reload (log: \(service.output))") { $0[.done] == 4 }
            #expect(emulator.stats.tasksCreated == 4)
            #expect(service.output.contains("SIGHUP: \(folders.root)/hotfolder.yaml read again; the new budget"), "\(service.output)")
            service.process.terminate()
            service.process.waitUntilExit()
            await emulator.shutdown()

            let (refused, message) = try hotfolder(folders, ["budget", "--daily", "lots"])
            #expect(refused != 0)
            #expect(message.contains("--daily takes US dollars (0 or more, such as 80) or `none`, not `lots`"), "\(message)")
        }
    }
}
