// SPDX-License-Identifier: GPL-2.0-or-later
import ArgumentParser

/// The `hotfolder` command line: the service and the tools around it.
@main
struct HotFolderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hotfolder",
        abstract: "Turn files dropped into a folder into Seedance videos.",
        discussion: """
            Quick start (no API key needed): hotfolder demo
            Then drop a prompt file into demo/inbox and watch the video appear in demo/outbox.
            """,
        subcommands: [
            RunCommand.self,
            StatusCommand.self,
            WatchCommand.self,
            PlanCommand.self,
            RetryCommand.self,
            CancelCommand.self,
            BudgetCommand.self,
            MigrateCommand.self,
            ReportCommand.self,
            InitCommand.self,
            DoctorCommand.self,
            DemoCommand.self,
            EmulatorCommand.self,
        ]
    )
}
