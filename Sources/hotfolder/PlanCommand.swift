// SPDX-License-Identifier: GPL-2.0-or-later
import ArgumentParser
import Foundation
import HotFolderCore
import HotFolderIO

/// `hotfolder plan <inbox> [--config FILE] [--json]`: a dry run of the drop protocol.
///
/// Reads the inbox once (no watching, no network, no waiting for files to settle; images without a prompt
/// are reported at once) and prints what would be submitted and what it would cost.
/// Exit status: 0 when every job is valid, 1 when any is invalid, 2 on a usage error.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show the jobs an inbox would produce, their requests and cost, without submitting anything.",
        discussion: PlanCommand.usage
    )

    static let usage = """
        Usage: hotfolder plan <inbox> [--config FILE] [--json]

          <inbox>         the folder to read
          --config FILE   a hotfolder YAML config; its `defaults:` and `prices:` are used
          --json          print one JSON document instead of the human-readable report

        Exit status: 0 all jobs valid, 1 some job invalid, 2 usage error.
        """

    // Arguments are parsed by hand so that every usage error exits with status 2, as the plan contract says
    // (ArgumentParser's own usage errors exit with 64).
    @Argument(parsing: .captureForPassthrough, help: "<inbox> [--config FILE] [--json]")
    var arguments: [String] = []

    func run() throws {
        let parsed: PlanArguments
        do {
            parsed = try PlanArguments(arguments)
        } catch {
            FileHandle.standardError.write(Data("hotfolder plan: \(error)\n\n\(Self.usage)\n".utf8))
            throw ExitCode(2)
        }
        if parsed.help {
            print(Self.usage)
            return
        }
        var options = PlannerOptions(orphanTimeout: 0)
        options.sequenceSettle = 0  // a dry run shows what the files make now
        options.inboxLabel = URL(fileURLWithPath: parsed.inbox).standardizedFileURL.lastPathComponent
        if let configPath = parsed.config {
            guard let data = FileManager.default.contents(atPath: configPath), data.count <= 1 << 20 else {
                FileHandle.standardError.write(Data("hotfolder plan: cannot read the config file \(configPath)\n".utf8))
                throw ExitCode(2)
            }
            do {
                let config = try PlannerConfigFile.parse(Array(data), file: configPath)
                options.config = config.defaults
                options.configSource = "config"
                options.prices = config.prices
                options.provider = config.provider
                options.exportNames = config.exportNames
            } catch {
                FileHandle.standardError.write(Data("hotfolder plan: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        let plan: Plan
        do {
            plan = try DropPlanner(options: options).plan(FileSystemDropSource(root: parsed.inbox), now: Date())
        } catch {
            FileHandle.standardError.write(Data("hotfolder plan: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if parsed.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(plan), as: UTF8.self))
        } else {
            print(PlanReport.text(plan, inbox: parsed.inbox), terminator: "")
        }
        if plan.totals.invalid > 0 || plan.totals.waiting > 0 { throw ExitCode(1) }
    }
}

/// The arguments of `hotfolder plan`, parsed by hand.
struct PlanArguments: Equatable {
    var inbox = ""
    var config: String?
    var json = false
    var help = false

    /// A usage mistake, as one sentence.
    enum UsageError: Error, CustomStringConvertible {
        case missingInbox
        case extraArgument(String)
        case unknownOption(String)
        case missingValue(String)

        var description: String {
            switch self {
            case .missingInbox: "name the inbox folder to plan"
            case .extraArgument(let value): "only one inbox folder can be planned at a time (unexpected `\(value)`)"
            case .unknownOption(let option): "`\(option)` is not an option of `hotfolder plan`"
            case .missingValue(let option): "`\(option)` needs a file name"
            }
        }
    }

    init(_ arguments: [String]) throws(UsageError) {
        var inbox: String?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            switch argument {
            case "--json": json = true
            case "-h", "--help": help = true
            case "--config":
                guard index < arguments.count else { throw .missingValue(argument) }
                config = arguments[index]
                index += 1
            case _ where argument.hasPrefix("--config="):
                config = String(argument.dropFirst("--config=".count))
            case _ where argument.hasPrefix("-") && argument != "-":
                throw .unknownOption(argument)
            default:
                guard inbox == nil else { throw .extraArgument(argument) }
                inbox = argument
            }
        }
        if help { return }
        guard let inbox else { throw .missingInbox }
        self.inbox = inbox
    }
}
