// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import Glibc
import HotFolderCore
import HotFolderIO
import Testing

/// Records what a watcher reports and lets a test await conditions on it.
actor WatchLog {
    /// Everything reported so far.
    struct Snapshot: Sendable {
        var ready: [ReadyFile] = []
        var unsupported: [ReadyFile] = []
        var problems: [WatchProblem] = []
        var scans: [Scan] = []
        var readyPaths: [String] { ready.map(\.relativePath) }
    }

    struct Scan: Sendable {
        var files: Int
        var pending: Int
    }

    typealias Condition = @Sendable (Snapshot) -> Bool

    private var snapshot = Snapshot()
    private var waiters: [(id: UUID, check: Condition, continuation: CheckedContinuation<Void, Never>)] = []

    var ready: [ReadyFile] { snapshot.ready }
    var unsupported: [ReadyFile] { snapshot.unsupported }
    var problems: [WatchProblem] { snapshot.problems }
    var scans: [Scan] { snapshot.scans }
    var readyPaths: [String] { snapshot.readyPaths }

    func record(_ event: WatcherEvent) {
        switch event {
        case .started: break
        case .ready(let file): snapshot.ready.append(file)
        case .unsupported(let file): snapshot.unsupported.append(file)
        case .problem(let problem): snapshot.problems.append(problem)
        case .scanCompleted(let files, let pending): snapshot.scans.append(Scan(files: files, pending: pending))
        }
        let satisfied = waiters.filter { $0.check(snapshot) }
        waiters.removeAll { waiter in satisfied.contains { $0.id == waiter.id } }
        for waiter in satisfied { waiter.continuation.resume() }
    }

    /// Waits until `condition` holds, or fails the test after `timeout` seconds.
    func wait(
        for what: String, timeout: Double = 20, sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: @escaping Condition
    ) async {
        if condition(snapshot) { return }
        let id = UUID()
        let timedOut = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    Task { await self.addWaiter(id: id, check: condition, continuation: continuation) }
                }
                return false
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(timeout))
                return true
            }
            let first = await group.next()!
            if first { self.cancelWaiter(id) }
            group.cancelAll()
            await group.waitForAll()
            return first
        }
        if timedOut {
            Issue.record("timed out after \(timeout) s waiting for \(what); ready so far: \(snapshot.ready.count)", sourceLocation: sourceLocation)
        }
    }

    private var cancelled: Set<UUID> = []

    private func addWaiter(id: UUID, check: @escaping Condition, continuation: CheckedContinuation<Void, Never>) {
        if cancelled.remove(id) != nil || check(snapshot) {
            continuation.resume()
        } else {
            waiters.append((id, check, continuation))
        }
    }

    private func cancelWaiter(_ id: UUID) {
        if let index = waiters.firstIndex(where: { $0.id == id }) {
            waiters.remove(at: index).continuation.resume()
        } else {
            cancelled.insert(id)
        }
    }
}

/// Runs a watcher on a fresh inbox for the duration of `body`.
func withWatcher(
    mode: WatchMode, settle: Double = 0.3, prepare: (String) throws -> Void = { _ in },
    configure: (inout WatcherConfiguration) -> Void = { _ in },
    _ body: (_ inbox: String, _ outside: String, _ log: WatchLog, _ watcher: InboxWatcher) async throws -> Void
) async throws {
    let temp = try TemporaryDirectory("watch")
    let inbox = temp.file("inbox")
    let outside = temp.file("outside")
    try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
    try prepare(inbox)
    var configuration = WatcherConfiguration(root: inbox)
    configuration.mode = mode
    configuration.settle = settle
    configuration.pollInterval = 0.2
    configuration.rescanInterval = 3600
    configure(&configuration)
    let watcher = InboxWatcher(configuration: configuration)
    let log = WatchLog()
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await watcher.run { await log.record($0) } }
        // The first scan has placed every watch: from here on nothing can slip through. libinotifytools is
        // process-wide, so the watcher first waits its turn behind the watchers of tests running in parallel:
        // under load that alone can take longer than an ordinary wait.
        await log.wait(for: "the startup scan", timeout: 600) { !$0.scans.isEmpty }
        try await body(inbox, outside, log, watcher)
        group.cancelAll()
        try await group.waitForAll()
    }
}

/// Asks for one more scan and waits until it ran and nothing is left waiting to settle, so a test can
/// then check that nothing was reported twice.
func settleCompletely(_ log: WatchLog, _ watcher: InboxWatcher) async {
    for _ in 0..<50 {
        let before = await log.scans.count
        watcher.requestRescan()
        await log.wait(for: "a rescan") { $0.scans.count > before }
        if await log.scans.last?.pending == 0 { return }
    }
    Issue.record("files never settled")
}

func write(_ path: String, _ text: String) throws {
    try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    // A plain open/write/close like most programs (Foundation's writes go through a temp + rename).
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    guard Glibc.write(fd, bytes, bytes.count) == bytes.count else { throw POSIXError(.EIO) }
}

@discardableResult
func shell(_ command: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let output = String(decoding: data, as: UTF8.self)
    if process.terminationStatus != 0 {
        Issue.record("`\(command)` failed (\(process.terminationStatus)): \(output)")
    }
    return output
}
