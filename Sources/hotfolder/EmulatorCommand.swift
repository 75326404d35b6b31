// SPDX-License-Identifier: GPL-2.0-or-later
import ArgumentParser
import Foundation
import Logging
import SeedanceEmulator

/// `hotfolder emulator`: runs the local Seedance emulator in the foreground until SIGINT/SIGTERM.
struct EmulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulator",
        abstract: "Run a local server that speaks the Seedance gateway and Ark APIs and makes real MP4s.")

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 = any free port).")
    var port = 8089

    @Option(name: .customLong("api-key"), help: "The key clients must send as 'Authorization: Bearer KEY'.")
    var apiKey = "emulator-key"

    @Option(name: .customLong("queue-seconds"), help: "Seconds a task stays pending.")
    var queueSeconds: Double = 2

    @Option(name: .customLong("run-seconds"), help: "Seconds a task spends processing.")
    var runSeconds: Double = 3

    @Option(
        name: .customLong("fault"),
        help: ArgumentHelp(
            "Inject a fault: NAME=PROBABILITY (repeatable).",
            discussion: (EmulatorFault.allCases.map { "\($0.rawValue): \($0.summary)" }
                + ["The created_then_*, no_task_id faults lose only the answer: the task runs and is billed."])
                .joined(separator: "\n"),
            valueName: "name=probability"))
    var faults: [String] = []

    @Option(help: "Seed for the fault dice, for reproducible runs.")
    var seed: UInt64 = 1

    @Option(name: .customLong("stall-seconds"), help: "How long a 'stall' fault holds a response.")
    var stallSeconds: Double = 30

    @Option(name: .customLong("slow-task-seconds"), help: "Seconds a task hit by 'slow_task' spends processing.")
    var slowTaskSeconds: Double = 40

    @Option(name: .customLong("cdn-flaky-failures"), help: "Downloads of a video hit by 'cdn_flaky' that fail before one succeeds.")
    var cdnFlakyFailures = 3

    @Option(name: .customLong("record-limit"), help: "How many received requests GET /_emulator/requests keeps (oldest dropped first).")
    var recordLimit = 1000

    @Flag(name: .customLong("bundled-video"), help: "Serve the small bundled MP4 instead of rendering with ffmpeg.")
    var bundledVideo = false

    func run() async throws {
        guard slowTaskSeconds >= 0 else { throw ValidationError("--slow-task-seconds must be 0 or more.") }
        guard cdnFlakyFailures >= 0 else { throw ValidationError("--cdn-flaky-failures must be 0 or more.") }
        var configuration = EmulatorConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.apiKey = apiKey
        configuration.queueSeconds = queueSeconds
        configuration.runSeconds = runSeconds
        configuration.seed = seed
        configuration.stallSeconds = stallSeconds
        configuration.slowTaskSeconds = slowTaskSeconds
        configuration.cdnFlakyFailures = cdnFlakyFailures
        configuration.recordLimit = recordLimit
        configuration.videoSource = bundledVideo ? .bundled : .automatic
        for text in faults {
            do {
                let (fault, probability) = try EmulatorFault.parse(text)
                configuration.faults[fault] = probability
            } catch {
                throw ValidationError(error.description)
            }
        }
        let faultList = configuration.faults.map { "\($0.key.rawValue)=\($0.value)" }.sorted().joined(separator: " ")
        let seed = configuration.seed
        try await SeedanceEmulator.runUntilSignalled(configuration) { baseURL, source in
            var lines = ["Seedance emulator listening on \(baseURL)"]
            lines.append("  gateway: POST \(baseURL)/v1/uploads/images, POST \(baseURL)/v1/videos/generations, GET \(baseURL)/v1/tasks/{id}")
            lines.append("  ark:     \(baseURL)/api/v3/contents/generations/tasks[/{id}] (GET lists)   stats: GET \(baseURL)/_emulator/stats")
            lines.append("  videos:  \(source == "ffmpeg" ? "rendered by ffmpeg" : "bundled 160x90 clip (ffmpeg not found or --bundled-video)")")
            if !faultList.isEmpty { lines.append("  faults:  \(faultList) (seed \(seed))") }
            lines.append("Press Ctrl-C to stop.")
            // Unbuffered: under systemd or a script stdout is a pipe, and the URL must show at once.
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
    }
}
