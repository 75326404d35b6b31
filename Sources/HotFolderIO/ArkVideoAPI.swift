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
    /// Bytes of inlined images that create calls may hold in memory at once.
    private let inlineBudget: ByteBudget

    /// The prefix of the placeholder URL ``prepareImage(at:)`` returns: `hotfolder-inline:<sha256>:<path>`.
    static let inlineScheme = "hotfolder-inline:"

    /// Creates a client; `configuration.baseURL` is the host (`https://ark.…`), `pathPrefix` the API root.
    public init(
        httpClient: HTTPClient, configuration: VideoAPIConfiguration, pathPrefix: String = "/api/v3",
        modelIDs: [String: String] = ArkVideoAPI.defaultModelIDs, logger: Logger = Logger(label: "hotfolder.ark"),
        inlineBytes: Int = 256 << 20
    ) {
        transport = HTTPTransport(client: httpClient, configuration: configuration, logger: logger, provider: "ark")
        self.modelIDs = modelIDs
        self.pathPrefix = pathPrefix
        inlineBudget = ByteBudget(limit: inlineBytes)
    }

    private var tasksPath: String { pathPrefix + "/contents/generations/tasks" }

    /// Ark takes images inline: checks and hashes the image and returns a placeholder; the create call reads it
    /// into a `data:` URL only while it is sent, within a memory budget (8 create calls with 20 MB images would
    /// otherwise hold over a gigabyte).
    public func prepareImage(at path: String) async throws -> PreparedImage {
        let image = try await LocalImage.inspect(path: path, maxBytes: transport.configuration.maxImageBytes)
        return PreparedImage(url: Self.inlineScheme + image.sha256 + ":" + path, sha256: image.sha256, reused: false, expiresAt: nil)
    }

    /// `POST …/contents/generations/tasks`; returns the `cgt-…` id.
    public func createTask(_ request: GenerationRequest) async throws -> String {
        var body = ArkCreateBody(request: request, model: modelIDs[request.model] ?? request.model)
        let inline = body.content.indices.filter { body.content[$0].imageURL?.url.hasPrefix(Self.inlineScheme) == true }
        var cost = 0
        for index in inline {
            let size = FileSystemProbe.lstat(Self.inlinePath(body.content[index].imageURL!.url))?.size ?? 0
            cost += Int(size) * 3  // the base64 text (4/3), and its copy in the encoded body
        }
        let permit = await inlineBudget.acquire(cost)
        defer { Task { await inlineBudget.release(permit) } }
        for index in inline {
            let placeholder = body.content[index].imageURL!.url
            let url = try await Self.dataURL(placeholder, maxBytes: transport.configuration.maxImageBytes)
            body.content[index].imageURL?.url = url
        }
        let json = try JSONEncoder().encode(body)
        body = ArkCreateBody(request: request, model: body.model)  // let the image text go before the call
        let answer = try await transport.send(.create, method: .POST, path: tasksPath, json: json)
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
        return RemoteTask(id: info.id ?? id, status: status, completionTokens: info.completionTokens)
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

    /// The Ark body as sent (Ark model id, `content`, `ratio`, …), each image's data left out.
    public func recordedBody(for request: GenerationRequest) -> Data? {
        var body = ArkCreateBody(request: request, model: modelIDs[request.model] ?? request.model)
        for index in body.content.indices where body.content[index].imageURL != nil {
            body.content[index].imageURL?.url = "data:… (image data not recorded)"
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try? encoder.encode(body)
    }

    /// The file path inside an inline placeholder URL.
    static func inlinePath(_ url: String) -> String {
        let rest = url.dropFirst(inlineScheme.count)
        return rest.firstIndex(of: ":").map { String(rest[rest.index(after: $0)...]) } ?? String(rest)
    }

    /// Reads the placeholder's file into a `data:` URL, refusing it if its content is not what was checked.
    static func dataURL(_ placeholder: String, maxBytes: Int64) async throws -> String {
        let rest = placeholder.dropFirst(inlineScheme.count)
        let expected = rest.prefix { $0 != ":" }
        let path = inlinePath(placeholder)
        return try await LocalImage.withChecked(path: path, maxBytes: maxBytes) { image, handle in
            guard image.sha256 == expected else {
                throw VideoAPIError.unusableImage(path: path, reason: "it changed after it was checked.")
            }
            return try await image.dataURL(from: handle)
        }
    }

    /// Ark lists the tasks of the last 7 days.
    public var canSearchLostTasks: Bool { true }

    /// `GET …/tasks?filter.model=…`, newest first, page by page until the tasks are older than the window:
    /// the tasks with the request's model and parameters created within `createdBetween` (3 s of clock skew
    /// and rounding allowed) that no job has recorded. Ark does not return the prompt, so parameters and time
    /// must do; when two tasks could be the job's, the answer is ``JobLifecycle/LostTaskSearch/ambiguous(_:)``
    /// and a person decides (a wrong guess would deliver one prompt's video under another's name).
    public func findLostTask(
        for request: GenerationRequest, createdBetween: ClosedRange<Date>, isRecorded: @Sendable (String) async -> Bool
    ) async throws -> JobLifecycle.LostTaskSearch {
        let model = modelIDs[request.model] ?? request.model
        let earliest = createdBetween.lowerBound.addingTimeInterval(-3)
        let latest = createdBetween.upperBound.addingTimeInterval(3)
        var matches: [String] = []
        for page in 1...10 {
            let query = "?page_num=\(page)&page_size=100&filter.model=\(pathComponent(model))"
            let answer = try await transport.send(.status, method: .GET, path: tasksPath + query)
            guard let list = try? JSONDecoder().decode(ArkTaskList.self, from: answer.body) else {
                throw VideoAPIError.malformedResponse(operation: .status, reason: "the task list is not the expected JSON.")
            }
            for item in list.items {
                guard let id = item.id, let created = item.createdAt, created >= earliest, created <= latest else { continue }
                guard item.matches(request, model: model), await !isRecorded(id) else { continue }
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
/// Holds create calls until the bytes they inline fit in the budget (one call larger than it runs alone).
actor ByteBudget {
    private let limit: Int
    private var used = 0
    private var waiters: [(Int, CheckedContinuation<Void, Never>)] = []

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Waits until `bytes` (at most the limit) fit; returns the amount to give back with ``release(_:)``.
    func acquire(_ bytes: Int) async -> Int {
        let amount = min(max(0, bytes), limit)
        if amount == 0 { return 0 }
        if used + amount <= limit, waiters.isEmpty {
            used += amount
            return amount
        }
        await withCheckedContinuation { waiters.append((amount, $0)) }
        return amount
    }

    /// Bytes granted and not given back yet.
    var inUse: Int { used }

    /// Gives bytes back and lets waiting calls in, in order.
    func release(_ amount: Int) {
        used -= amount
        while let (next, continuation) = waiters.first, used + next <= limit {
            waiters.removeFirst()
            used += next
            continuation.resume()
        }
    }
}

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
    /// `flex`: the offline tier (recorded in the metadata with the rest of the body).
    var serviceTier: String?
    var executionExpiresAfter: Int?

    enum CodingKeys: String, CodingKey {
        case model, content, resolution, ratio, duration, seed
        case serviceTier = "service_tier"
        case executionExpiresAfter = "execution_expires_after"
    }

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
        serviceTier = request.serviceTier
        executionExpiresAfter = request.executionExpiresAfter
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
    /// `usage.completion_tokens`: the output tokens billed.
    var completionTokens: Int?

    enum Keys: String, CodingKey {
        case id, status, content, error, code, message, usage
        case videoURL = "video_url", updatedAt = "updated_at", expiresAt = "expires_at"
        case completionTokens = "completion_tokens"
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
        if let usage = try? container.nestedContainer(keyedBy: Keys.self, forKey: .usage) {
            completionTokens = FlexibleString.decodeNumber(usage, .completionTokens).map { Int($0) }
        }
        if let nested = try? container.nestedContainer(keyedBy: Keys.self, forKey: .error) {
            error = ErrorDetail(
                code: FlexibleString.decode(nested, .code), message: FlexibleString.decode(nested, .message))
        }
    }
}
