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
    /// The body sent to the provider, in its own shape (Ark's `content`, model id, `ratio`), image data left out.
    var request: JSONValue
    /// What the provider billed, when it says (Ark's `usage.completion_tokens`).
    var usage: JSONValue?
    var images: [[String: String]]
    var settings: [String: Setting]
    var estimate: CostEstimate?
    var inputs: [Input]
    var timeline: [Event]
    var timings: Timings
    var video: [String: String]
    /// The poster frame `<name>.jpg` beside the video; nil when none could be made (``posterError`` says why).
    var poster: String?
    /// Why there is no poster (no ffmpeg, a video ffmpeg cannot read).
    var posterError: String?

    init(
        job: StoredJob, spec: JobSpec, task: StoredTask, events: [StoredEvent], inputs: [StoredInput], videoBytes: Int64,
        videoPath: String, sent: GenerationRequest, sentBody: Data?
    ) {
        self.job = spec.name
        id = job.id.uuidString.lowercased()
        lane = spec.lane
        mode = spec.mode.rawValue
        model = spec.request.model
        seed = sent.seed
        provider = task.provider
        taskId = task.taskID
        // The body as this provider sends it, with local image placeholders instead of upload or data URLs.
        request = sentBody.flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) } ?? .null
        usage = task.resultJSON.flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) }
        images = spec.images.map { image in
            var entry = ["role": image.role.rawValue, "path": image.path]
            if let preparation = image.preparation {
                entry["prepared"] = preparation.summary
            }
            return entry
        }
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
        case job, id, lane, mode, model, seed, provider, request, usage, images, settings, estimate, inputs, timeline, timings, video
        case poster
        case taskId = "task_id"
        case posterError = "poster_error"
    }
}

/// Any JSON value, to carry a provider's own JSON into the metadata file unchanged.
indirect enum JSONValue: Codable, Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value == value.rounded(), abs(value) < 1e15 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
