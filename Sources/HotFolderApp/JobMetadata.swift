// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO

/// The `<name>.json` written next to each video: what was asked, where each setting came from, what the
/// API said and when. It never holds the API key or image bytes.
struct JobMetadata: Encodable {
    struct Setting: Encodable {
        var value: String
        var source: String
    }

    struct Input: Encodable {
        var path: String
        var sha256: String
        var size: Int64
    }

    struct Event: Encodable {
        var at: Date
        var state: String?
        var message: String?
    }

    struct Timings: Encodable {
        var queuedAt: Date
        var submittedAt: Date
        var finishedAt: Date
        var totalSeconds: Double
        var generationSeconds: Double
    }

    var job: String
    var id: String
    var lane: String
    var mode: String
    var model: String
    var seed: Int64?
    var provider: String
    var taskId: String
    var request: GenerationRequest
    var images: [[String: String]]
    var settings: [String: Setting]
    var estimate: CostEstimate?
    var inputs: [Input]
    var timeline: [Event]
    var timings: Timings
    var video: [String: String]

    init(job: StoredJob, spec: JobSpec, task: StoredTask, events: [StoredEvent], inputs: [StoredInput], videoBytes: Int64, videoPath: String) {
        self.job = spec.name
        id = job.id.uuidString.lowercased()
        lane = spec.lane
        mode = spec.mode.rawValue
        model = spec.request.model
        seed = spec.request.seed
        provider = task.provider
        taskId = task.taskID
        // The request as planned: local image placeholders instead of upload URLs or data URLs (no image bytes).
        request = spec.request
        images = spec.images.map { ["role": $0.role.rawValue, "path": $0.path] }
        settings = spec.settings.mapValues { Setting(value: $0.value, source: $0.source) }
        estimate = spec.estimate
        self.inputs = inputs.map { Input(path: $0.path, sha256: $0.sha256, size: $0.identity.size) }
        timeline = events.map { Event(at: $0.at, state: $0.toState?.rawValue, message: $0.message) }
        let finished = Date()
        timings = Timings(
            queuedAt: job.createdAt, submittedAt: task.submittedAt, finishedAt: finished,
            totalSeconds: finished.timeIntervalSince(job.createdAt), generationSeconds: finished.timeIntervalSince(task.submittedAt))
        video = ["path": videoPath, "bytes": String(videoBytes)]
    }

    enum CodingKeys: String, CodingKey {
        case job, id, lane, mode, model, seed, provider, request, images, settings, estimate, inputs, timeline, timings, video
        case taskId = "task_id"
    }
}
