// SPDX-License-Identifier: GPL-2.0-or-later
import AsyncHTTPClient
import Foundation
import HotFolderCore
import Logging
import NIOCore
import NIOFoundationCompat

/// The official Volcengine/BytePlus Ark API (`spec/seedance-api.md` §5): `content` arrays with data URLs for
/// local images, `…/contents/generations/tasks` create/get/delete.
public struct ArkVideoAPI: VideoAPI {
    /// Always `ark`.
    public var providerName: String { "ark" }

    /// Ark model ids for the gateway model names a ``GenerationRequest`` carries; other names pass unchanged.
    public static let defaultModelIDs: [String: String] = [
        SeedanceModel.fast.rawValue: "doubao-seedance-1-0-pro-fast-251015",
        SeedanceModel.quality.rawValue: "doubao-seedance-1-0-pro-250528",
    ]

    /// How long Ark keeps a result URL after the task finished (24 h on Volcengine).
    public static let resultLifetime: Double = 24 * 3600

    private let transport: HTTPTransport
    private let modelIDs: [String: String]
    private let pathPrefix: String

    /// Creates a client; `configuration.baseURL` is the host (`https://ark.…`), `pathPrefix` the API root.
    public init(
        httpClient: HTTPClient, configuration: VideoAPIConfiguration, pathPrefix: String = "/api/v3",
        modelIDs: [String: String] = ArkVideoAPI.defaultModelIDs, logger: Logger = Logger(label: "hotfolder.ark")
    ) {
        transport = HTTPTransport(client: httpClient, configuration: configuration, logger: logger, provider: "ark")
        self.modelIDs = modelIDs
        self.pathPrefix = pathPrefix
    }

    private var tasksPath: String { pathPrefix + "/contents/generations/tasks" }

    /// Ark takes images inline: returns a `data:image/…;base64,` URL (nothing is uploaded or cached).
    public func prepareImage(at path: String) async throws -> PreparedImage {
        let image = try await LocalImage.inspect(path: path, maxBytes: transport.configuration.maxImageBytes)
        let url = "data:\(image.format.mimeType);base64,\(try await image.base64())"
        return PreparedImage(url: url, sha256: image.sha256, reused: false, expiresAt: nil)
    }

    /// `POST …/contents/generations/tasks`; returns the `cgt-…` id.
    public func createTask(_ request: GenerationRequest) async throws -> String {
        let body = ArkCreateBody(request: request, model: modelIDs[request.model] ?? request.model)
        let answer = try await transport.send(.create, method: .POST, path: tasksPath, json: try JSONEncoder().encode(body))
        guard let created = try? JSONDecoder().decode(ArkTaskInfo.self, from: answer.body), let id = created.id, !id.isEmpty else {
            throw VideoAPIError.malformedResponse(operation: .create, reason: "the answer has no task id.")
        }
        return id
    }

    /// `GET …/contents/generations/tasks/{id}`.
    public func task(id: String) async throws -> RemoteTask {
        let answer = try await transport.send(.status, method: .GET, path: "\(tasksPath)/\(pathComponent(id))")
        guard let info = try? JSONDecoder().decode(ArkTaskInfo.self, from: answer.body) else {
            throw VideoAPIError.malformedResponse(operation: .status, reason: "the body is not the expected JSON.")
        }
        let expiresAt = info.expiresAt ?? info.updatedAt.map { $0.addingTimeInterval(ArkVideoAPI.resultLifetime) }
        let status = try TaskStatusWord.status(
            word: info.status, progress: nil, videoURL: info.videoURL, expiresAt: expiresAt, error: info.error)
        return RemoteTask(id: info.id ?? id, status: status)
    }

    /// `DELETE …/contents/generations/tasks/{id}`: cancels a queued task (Ark refuses running ones).
    public func cancelTask(id: String) async throws {
        _ = try await transport.send(.cancel, method: .DELETE, path: "\(tasksPath)/\(pathComponent(id))")
    }

    /// Streams the video to a temporary file beside `destination` and renames it into place when complete.
    @discardableResult
    public func download(from url: String, to destination: String) async throws -> Int64 {
        try await VideoDownloader(transport: transport).download(from: url, to: destination)
    }

    /// Ark lists the tasks of the last 7 days.
    public var canSearchLostTasks: Bool { true }

    /// `GET …/tasks?filter.model=…`, newest first, page by page until the tasks are older than the window:
    /// the tasks with the request's model and parameters created within `createdBetween` (a few seconds of
    /// clock skew allowed) that no job has recorded. Ark does not return the prompt, so parameters must do.
    public func findLostTask(
        for request: GenerationRequest, createdBetween: ClosedRange<Date>, isRecorded: @Sendable (String) -> Bool
    ) async throws -> JobLifecycle.LostTaskSearch {
        let model = modelIDs[request.model] ?? request.model
        let earliest = createdBetween.lowerBound.addingTimeInterval(-10)
        let latest = createdBetween.upperBound.addingTimeInterval(10)
        var matches: [String] = []
        for page in 1...10 {
            let query = "?page_num=\(page)&page_size=100&filter.model=\(pathComponent(model))"
            let answer = try await transport.send(.status, method: .GET, path: tasksPath + query)
            guard let list = try? JSONDecoder().decode(ArkTaskList.self, from: answer.body) else {
                throw VideoAPIError.malformedResponse(operation: .status, reason: "the task list is not the expected JSON.")
            }
            for item in list.items {
                guard let id = item.id, let created = item.createdAt, created >= earliest, created <= latest else { continue }
                guard item.matches(request, model: model), !isRecorded(id) else { continue }
                matches.append(id)
            }
            let oldest = list.items.compactMap(\.createdAt).min()
            if list.items.count < 100 || (oldest.map { $0 < earliest } ?? true) { break }
        }
        switch matches.count {
        case 0: return .notFound
        case 1: return .found(taskID: matches[0])
        default: return .ambiguous(matches)
        }
    }
}

/// One page of Ark's task list: `{"total": N, "items": [task, …]}`.
struct ArkTaskList: Decodable, Sendable {
    var items: [ArkListedTask]

    enum Keys: String, CodingKey { case items }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        items = (try? container.decode([ArkListedTask].self, forKey: .items)) ?? []
    }
}

/// The fields of a listed Ark task that identify the request that made it.
struct ArkListedTask: Decodable, Sendable {
    var id: String?
    var model: String?
    var createdAt: Date?
    var resolution: String?
    var ratio: String?
    var duration: Int?
    var seed: Int64?

    enum Keys: String, CodingKey { case id, model, resolution, ratio, duration, seed, createdAt = "created_at" }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        id = FlexibleString.decode(container, .id)
        model = FlexibleString.decode(container, .model)
        createdAt = FlexibleDate.decode(container, .createdAt)
        resolution = FlexibleString.decode(container, .resolution)
        ratio = FlexibleString.decode(container, .ratio)
        duration = FlexibleString.decodeNumber(container, .duration).map { Int($0) }
        seed = FlexibleString.decodeNumber(container, .seed).map { Int64($0) }
    }

    /// Whether the task was made with this request's model and parameters (unset ones match anything).
    func matches(_ request: GenerationRequest, model expected: String) -> Bool {
        if let model, model != expected { return false }
        if let wanted = request.resolution, let resolution, wanted != resolution { return false }
        if let wanted = request.aspectRatio, let ratio, wanted != ratio, ratio != "adaptive" { return false }
        if let wanted = request.duration, let duration, wanted != duration { return false }
        if let wanted = request.seed, wanted >= 0, let seed, wanted != seed { return false }
        return true
    }
}

/// The Ark create body: `model`, `content[]`, generation parameters as top-level fields.
struct ArkCreateBody: Encodable, Sendable {
    struct ImageURL: Encodable, Sendable { var url: String }
    struct Item: Encodable, Sendable {
        var type: String
        var text: String?
        var imageURL: ImageURL?
        var role: String?
        enum CodingKeys: String, CodingKey { case type, text, role, imageURL = "image_url" }
    }
    var model: String
    var content: [Item]
    var resolution: String?
    var ratio: String?
    var duration: Int?
    var seed: Int64?

    init(request: GenerationRequest, model: String) {
        self.model = model
        content = [Item(type: "text", text: request.prompt)]
        for image in request.imageWithRoles ?? [] {
            let role = image.role == .reference ? "reference_image" : image.role.rawValue
            content.append(Item(type: "image_url", imageURL: ImageURL(url: image.url), role: role))
        }
        resolution = request.resolution
        ratio = request.aspectRatio
        duration = request.duration
        seed = request.seed
    }
}

/// Ark's task object, decoded tolerantly (`content.video_url` as a string or array, unknown fields ignored).
struct ArkTaskInfo: Decodable, Sendable {
    var id: String?
    var status: String?
    var videoURL: String?
    var expiresAt: Date?
    var updatedAt: Date?
    var error: ErrorDetail?

    enum Keys: String, CodingKey {
        case id, status, content, error, code, message
        case videoURL = "video_url", updatedAt = "updated_at", expiresAt = "expires_at"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        id = FlexibleString.decode(container, .id)
        status = FlexibleString.decode(container, .status)
        if let content = try? container.nestedContainer(keyedBy: Keys.self, forKey: .content) {
            videoURL = (try? content.decode(URLList.self, forKey: .videoURL))?.urls.first
            expiresAt = FlexibleDate.decode(content, .expiresAt)
        }
        updatedAt = FlexibleDate.decode(container, .updatedAt)
        if let nested = try? container.nestedContainer(keyedBy: Keys.self, forKey: .error) {
            error = ErrorDetail(
                code: FlexibleString.decode(nested, .code), message: FlexibleString.decode(nested, .message))
        }
    }
}
