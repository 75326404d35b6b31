// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Synchronization

/// A scripted ``VideoAPI``: the runner's seam for tests without HTTP. Each call takes the next scripted answer
/// for its operation (the last one repeats); every call is counted.
final class FakeVideoAPI: VideoAPI, Sendable {
    /// One scripted answer of a create call.
    enum CreateAnswer: Sendable {
        case task(String)
        case error(VideoAPIError)
        /// The task is made (it runs and can be found), but the answer is this error.
        case lost(String, VideoAPIError)
    }

    /// One scripted answer of a status call.
    enum StatusAnswer: Sendable {
        case status(RemoteTaskStatus)
        case error(VideoAPIError)
    }

    struct Script: Sendable {
        var creates: [CreateAnswer] = []
        var statuses: [StatusAnswer] = [.status(.succeeded(videoURL: "http://cdn.test/video.mp4", expiresAt: nil))]
        var downloads: [VideoAPIError?] = [nil]
        var createCalls = 0
        var statusCalls = 0
        var downloadCalls = 0
        var cancelCalls: [String] = []
        var tasksMade: [String] = []
        var searches = 0
    }

    let providerName: String
    let canSearchLostTasks: Bool
    private let script: Mutex<Script>
    /// Create calls wait until this is opened (for tests that change files while a job waits in the queue).
    let gate = Mutex<Bool>(true)
    /// Uploads wait until this is opened (a node paused while it uploads).
    let uploadGate = Mutex<Bool>(true)
    /// Says "upload" or "create" when such a call begins, before its gate.
    let started: AsyncStream<String>
    private let startedContinuation: AsyncStream<String>.Continuation

    init(provider: String = "gateway", canSearch: Bool = false, _ script: Script) {
        providerName = provider
        canSearchLostTasks = canSearch
        self.script = Mutex(script)
        (started, startedContinuation) = AsyncStream.makeStream(of: String.self)
    }

    /// Waits until a call of `kind` ("upload", "create") has begun.
    func waitForStart(of kind: String) async {
        for await what in started where what == kind { return }
    }

    var calls: Script { script.withLock { $0 } }

    /// The hashes the runner passed with its uploads (nil: none planned), in order.
    let plannedHashes = Mutex<[String?]>([])

    func prepareImage(at path: String, expectedSHA256: String?) async throws -> PreparedImage {
        plannedHashes.withLock { $0.append(expectedSHA256) }
        return try await prepareImage(at: path)
    }

    func prepareImage(at path: String) async throws -> PreparedImage {
        startedContinuation.yield("upload")
        while !uploadGate.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        return PreparedImage(url: "http://uploads.test/\((path as NSString).lastPathComponent)", sha256: "0", reused: false, expiresAt: nil)
    }

    func createTask(_ request: GenerationRequest) async throws -> String {
        startedContinuation.yield("create")
        while !gate.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        let answer = script.withLock { script -> CreateAnswer in
            script.createCalls += 1
            let answer = script.creates.isEmpty ? .task("task-\(script.createCalls)") : (script.creates.count > 1 ? script.creates.removeFirst() : script.creates[0])
            switch answer {
            case .task(let id), .lost(let id, _): script.tasksMade.append(id)
            case .error: break
            }
            return answer
        }
        switch answer {
        case .task(let id): return id
        case .error(let error), .lost(_, let error): throw error
        }
    }

    func task(id: String) async throws -> RemoteTask {
        let answer = script.withLock { script -> StatusAnswer in
            script.statusCalls += 1
            return script.statuses.count > 1 ? script.statuses.removeFirst() : script.statuses[0]
        }
        switch answer {
        case .status(let status): return RemoteTask(id: id, status: status)
        case .error(let error): throw error
        }
    }

    func cancelTask(id: String) async throws {
        script.withLock { $0.cancelCalls.append(id) }
    }

    func download(from url: String, to destination: String) async throws -> Int64 {
        let failure = script.withLock { script -> VideoAPIError? in
            script.downloadCalls += 1
            return script.downloads.count > 1 ? script.downloads.removeFirst() : script.downloads[0]
        }
        if let failure { throw failure }
        let bytes = Data(repeating: 7, count: 1000)
        guard FileManager.default.createFile(atPath: destination, contents: bytes) else {
            throw VideoAPIError.fileSystem(path: destination, reason: "cannot write")
        }
        return Int64(bytes.count)
    }

    func findLostTask(
        for request: GenerationRequest, createdBetween: ClosedRange<Date>, isRecorded: @Sendable (String) async -> Bool
    ) async throws -> JobLifecycle.LostTaskSearch {
        let made = script.withLock { script -> [String] in
            script.searches += 1
            return script.tasksMade
        }
        var unrecorded: [String] = []
        for taskID in made where await !isRecorded(taskID) { unrecorded.append(taskID) }
        switch unrecorded.count {
        case 0: return .notFound
        case 1: return .found(taskID: unrecorded[0])
        default: return .ambiguous(unrecorded)
        }
    }
}
