// SPDX-License-Identifier: GPL-2.0-or-later
import ArgumentParser

/// The `hotfolder` command line: the service and the tools around it.
@main
struct HotFolderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hotfolder",
        abstract: "Turn files dropped into a folder into Seedance videos.",
        subcommands: [PlanCommand.self]
    )
}
