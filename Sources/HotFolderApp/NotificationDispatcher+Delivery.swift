// SPDX-License-Identifier: GPL-2.0-or-later
import AsyncHTTPClient
import Foundation
import Glibc
import HotFolderCore
import HotFolderIO
import NIOCore
import Synchronization

/// One attempt: a signed JSON POST, or a command with the JSON on stdin, each within the target's time limit.
extension NotificationDispatcher {
    func deliver(_ row: StoredNotification, to target: Target, client: HTTPClient?) async -> DeliveryOutcome {
        switch target.target.destination {
        case .url(let url):
            guard let client else { return .failed("no HTTP client") }
            return await post(row, url: url, target: target, httpClient: client)
        case .command(let argv):
            return await runCommand(row, argv: argv, target: target)
        }
    }

    // MARK: - Webhooks

    private func post(_ row: StoredNotification, url: String, target: Target, httpClient: HTTPClient) async -> DeliveryOutcome {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "hotfolder")
        request.headers.add(name: "X-Hotfolder-Event", value: row.type.rawValue)
        request.headers.add(name: "X-Hotfolder-Delivery", value: row.eventID)
        if let secret = target.secret {
            request.headers.add(name: WebhookSignature.header, value: WebhookSignature.value(body: row.body, secret: secret))
        }
        request.body = .bytes(ByteBuffer(bytes: row.body))
        let limit = target.target.timeout.seconds
        let prepared = request
        do {
            let status = try await Self.withTimeLimit(limit) {
                let response = try await httpClient.execute(prepared, timeout: .milliseconds(Int64(limit * 1000)))
                // Read (and drop) a little of the answer so the connection can be used again.
                _ = try? await response.body.collect(upTo: 64 * 1024)
                return response.status.code
            }
            guard let status else { return .failed("no answer within \(Self.seconds(limit))") }
            return (200..<300).contains(status) ? .delivered : .failed("HTTP \(status)")
        } catch {
            return .failed(Self.redact("\(error)", url: url, label: target.label))
        }
    }

    /// An error's text without the URL's path and query, where webhook tokens live.
    static func redact(_ text: String, url: String, label: String) -> String {
        var text = text.replacingOccurrences(of: url, with: label)
        if let parsed = URL(string: url), parsed.path.count > 1 {
            text = text.replacingOccurrences(of: parsed.path, with: "/…")
        }
        if let query = URL(string: url)?.query, !query.isEmpty {
            text = text.replacingOccurrences(of: query, with: "…")
        }
        return String(text.prefix(300))
    }

    // MARK: - Commands

    private func runCommand(_ row: StoredNotification, argv: [String], target: Target) async -> DeliveryOutcome {
        // The JSON goes through a file, not a pipe: a command that never reads stdin can neither block the
        // service nor kill it with SIGPIPE.
        let file = NSTemporaryDirectory() + "hotfolder-notification-\(UUID().uuidString).json"
        defer { unlink(file) }
        guard FileManager.default.createFile(atPath: file, contents: row.body, attributes: [.posixPermissions: 0o600]),
            let input = FileHandle(forReadingAtPath: file)
        else { return .failed("cannot write the event to a temporary file") }
        defer { try? input.close() }
        let process = Process()
        // `env` finds a bare program name on PATH, as a shell would.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        var environment = ProcessInfo.processInfo.environment
        environment["HOTFOLDER_EVENT"] = row.type.rawValue
        environment["HOTFOLDER_EVENT_ID"] = row.eventID
        // The API key is the service's, not the command's.
        environment["SEEDANCE_API_KEY"] = nil
        process.environment = environment
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let exit = ProcessExit()
        process.terminationHandler = { process in
            exit.finished(process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus)
        }
        do {
            try process.run()
        } catch {
            return .failed("cannot start \(target.label): \(error)")
        }
        let pid = process.processIdentifier
        let limit = target.target.timeout.seconds
        let status = await withTaskCancellationHandler {
            await Self.wait(for: exit, upTo: limit)
        } onCancel: {
            kill(pid, SIGKILL)
        }
        guard let status else {
            // Over its time limit: asked to stop, then killed.
            kill(pid, SIGTERM)
            if await Self.wait(for: exit, upTo: 2) == nil {
                kill(pid, SIGKILL)
                _ = await Self.wait(for: exit, upTo: 5)
            }
            return .failed("killed after \(Self.seconds(limit)) (its time limit)")
        }
        if Task.isCancelled { return .failed("the service is stopping") }
        return status == 0 ? .delivered : .failed("exit status \(status)")
    }

    // MARK: - Helpers

    /// `operation`'s result, or nil when it takes longer than `seconds` (it is then cancelled).
    static func withTimeLimit<T: Sendable>(_ seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async throws -> T? {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }

    /// The process's exit status, or nil when it is still running after `seconds` (or the task is cancelled).
    static func wait(for exit: ProcessExit, upTo seconds: Double) async -> Int32? {
        await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await exit.wait() }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    static func seconds(_ value: Double) -> String {
        value >= 1 && value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}

/// A child process's exit status, awaited once it is known; a waiting task that is cancelled gets nil at once.
final class ProcessExit: Sendable {
    private struct State {
        var status: Int32?
        var waiters: [UUID: CheckedContinuation<Int32?, Never>] = [:]
        var cancelled: Set<UUID> = []
    }

    private let state = Mutex(State())

    /// Records the status and wakes every waiter.
    func finished(_ status: Int32) {
        let waiters = state.withLock { state -> [CheckedContinuation<Int32?, Never>] in
            state.status = status
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: status) }
    }

    /// The status once the process exited, or nil when the waiting task is cancelled first.
    func wait() async -> Int32? {
        let id = UUID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int32?, Never>) in
                let now = state.withLock { state -> Int32?? in
                    if let status = state.status { return .some(status) }
                    if state.cancelled.remove(id) != nil { return .some(nil) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Int32?, Never>? in
                if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
                state.cancelled.insert(id)
                return nil
            }
            waiter?.resume(returning: nil)
        }
    }
}
