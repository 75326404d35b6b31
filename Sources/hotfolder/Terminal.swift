// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import UnixSignals

/// Output helpers for the CLI: unbuffered lines on stdout/stderr and signal-driven shutdown.
enum Terminal {
    /// Writes one line to stdout at once (so piped consumers see it immediately).
    static func output(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Writes one line to stderr.
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Formats seconds since the epoch as ISO 8601 UTC with milliseconds.
    static func iso8601(_ seconds: Double) -> String {
        Date(timeIntervalSince1970: seconds).formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    /// Runs `body` until it returns or SIGINT/SIGTERM arrives, then cancels it and returns normally.
    static func runUntilSignalled(_ body: @escaping @Sendable () async throws -> Void) async throws {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await body() }
            group.addTask {
                for await _ in signals { return }
            }
            try await group.next()
            group.cancelAll()
        }
    }
}
