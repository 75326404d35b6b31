// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the built `hotfolder watch` as an unprivileged user, so that permission problems are real even when the
/// tests run as root (as CI does): a folder the service's user cannot read is skipped and reported, and the
/// rest of the inbox is still watched.
@Suite struct WatchCommandEndToEndTests {
    static let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// True when running as root with `setpriv` and a `nobody` user that can run the built binary.
    static var canDropToNobody: Bool {
        guard getuid() == 0, let setpriv, getpwnam("nobody") != nil,
            let binary = try? PlanCommandEndToEndTests.hotfolder()
        else { return false }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: setpriv)
        probe.arguments = ["--reuid=nobody", "--regid=nogroup", "--clear-groups", binary.path, "--help"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }

    @Test(.enabled(if: canDropToNobody, "needs root, setpriv and a `nobody` user able to run .build/debug/hotfolder"))
    func unreadableSubfolderIsSkippedAndReportedWhileTheRestIsWatched() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("hotfolder-perm-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let inbox = base + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox + "/open", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: inbox + "/locked", withIntermediateDirectories: true)
        try Data("a lighthouse".utf8).write(to: URL(fileURLWithPath: inbox + "/open/a.txt"))
        try Data("secret".utf8).write(to: URL(fileURLWithPath: inbox + "/locked/secret.txt"))
        chmod(base, 0o755)
        chmod(inbox, 0o755)
        chmod(inbox + "/open", 0o755)
        chmod(inbox + "/locked", 0o700)  // owned by root: `nobody` cannot list it

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.setpriv))
        process.arguments = [
            "--reuid=nobody", "--regid=nogroup", "--clear-groups",
            try PlanCommandEndToEndTests.hotfolder().path, "watch", inbox, "--settle", "0", "--json",
        ]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // A watchdog: if the line never comes, the process is stopped and the reads below end.
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 30, execute: watchdog)

        var stdout = ""
        while !stdout.contains("\n") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            stdout += String(decoding: chunk, as: UTF8.self)
        }
        kill(process.processIdentifier, SIGINT)
        stdout += String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        watchdog.cancel()

        let first = try #require(stdout.split(separator: "\n").first, "no ready file reported; stderr: \(stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        #expect(object["path"] as? String == "open/a.txt")
        #expect(!stdout.contains("secret"))
        #expect(stderr.contains("cannot read folder \(inbox)/locked: permission denied"), "stderr: \(stderr)")
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "SIGINT ends it cleanly")
    }
}
