// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// What kind of video request a job makes.
public enum JobMode: String, Sendable, Hashable, Codable {
    case textToVideo = "text-to-video"
    case firstFrame = "first-frame"
    case firstLastFrame = "first-last-frame"
    case reference = "reference"
}

/// Whether a planned job can be submitted.
public enum JobStatus: String, Sendable, Hashable, Codable {
    /// Every rule passed; the job may be submitted.
    case valid
    /// At least one rule failed; see ``JobSpec/errors``.
    case invalid
    /// Images without a prompt, still inside the orphan timeout: more files may be on their way.
    case waiting
}

/// One problem with a job, as shown in the plan and written to `NAME.error.txt`.
public struct JobError: Sendable, Hashable, Codable {
    /// The file at fault, as people see it (`inbox/portrait/cat.yaml`).
    public var file: String
    /// The setting, image role or part (`duration`, `first_frame`, `prompt`, `file`, `row`).
    public var field: String
    /// What is wrong and how to fix it, in plain words.
    public var message: String

    /// Creates an error.
    public init(file: String, field: String, message: String) {
        self.file = file
        self.field = field
        self.message = message
    }
}

/// A local input image and the role it plays.
public struct JobImage: Sendable, Hashable, Codable {
    /// The image's role in the request.
    public var role: ImageRole
    /// Path relative to the inbox root.
    public var path: String
    /// Format, width and height from the file header; nil when the header could not be read.
    public var header: ImageHeader?
    /// File size in bytes.
    public var bytes: Int64
    /// What is done to the file locally before it is sent (converted to PNG, scaled down); nil: sent as it is.
    public var preparation: ImagePreparation?

    /// Creates an image entry.
    public init(role: ImageRole, path: String, header: ImageHeader?, bytes: Int64, preparation: ImagePreparation? = nil) {
        self.role = role
        self.path = path
        self.header = header
        self.bytes = bytes
        self.preparation = preparation
    }
}

/// How a design tool's export is made fit for the API before it is sent (`spec/seedance-api.md`: PNG, JPEG or
/// WebP, 300–6000 px a side, ≤ 20 MB): converted to PNG (TIFF, BMP, GIF's first frame, HEIC/HEIF, AVIF) and/or
/// scaled down keeping its shape (never up), by ffmpeg on this machine.
public struct ImagePreparation: Sendable, Hashable, Codable {
    /// The format converted from (`tiff`, `gif`, …), when the API does not take it.
    public var convertFrom: String?
    /// Scale down to fit 6000 px a side and the size limit (`image_fit: downscale`, `pad`, `crop`).
    public var downscale: Bool
    /// What to do when its shape is outside 0.4–2.5 (`image_fit: pad` or `crop`); nil: refused with the usual error.
    public var reshape: ImageReshape?

    public init(convertFrom: String? = nil, downscale: Bool = false, reshape: ImageReshape? = nil) {
        self.convertFrom = convertFrom
        self.downscale = downscale
        self.reshape = reshape
    }

    /// What is done, in words (plan, metadata).
    public var summary: String {
        var steps: [String] = []
        if let convertFrom { steps.append("converted from \(convertFrom.uppercased()) to PNG") }
        if downscale { steps.append("scaled down to at most 6000 px a side if larger (never up)") }
        switch reshape {
        case .pad?: steps.append("padded with black bars to the nearest shape the API takes (0.4–2.5) if outside it")
        case .crop?: steps.append("cropped around its centre to the nearest shape the API takes (0.4–2.5) if outside it")
        case nil: break
        }
        return steps.joined(separator: "; ") + " by ffmpeg on this machine before it is sent"
    }
}

/// How an image whose shape the API refuses (wider than 2.5:1 or taller than 1:2.5) is made to fit.
public enum ImageReshape: String, Sendable, Hashable, Codable {
    /// Black bars added on the short side.
    case pad
    /// The long side cut, keeping the centre.
    case crop
}

/// What to do with an image the API would refuse for its size or shape (`image_fit`).
public enum ImageFit: String, Sendable, Hashable, CaseIterable, Codable {
    /// Scale it down to fit, keeping its shape (never up); a shape outside 0.4–2.5 is refused with the usual error.
    case downscale
    /// As `downscale`, and an image of a shape outside 0.4–2.5 gets black bars to the nearest shape allowed.
    case pad
    /// As `downscale`, and an image of a shape outside 0.4–2.5 is cropped around its centre to the nearest shape allowed.
    case crop
    /// Refuse it with the usual error.
    case fail

    /// Whether big images are scaled down.
    public var scalesDown: Bool { self != .fail }

    /// What is done to an image whose shape is outside the range.
    public var reshape: ImageReshape? {
        switch self {
        case .pad: .pad
        case .crop: .crop
        case .downscale, .fail: nil
        }
    }
}

/// The effective value of one setting and the place it came from.
public struct EffectiveSetting: Sendable, Hashable, Codable {
    /// The value as written (lists as `[1, 2]`).
    public var value: String
    /// `built-in`, `config`, `inbox/portrait/_defaults.yaml`, `inbox/cat.yaml`, `inbox/shots.csv line 4`, …
    public var source: String

    /// Creates a setting.
    public init(value: String, source: String) {
        self.value = value
        self.source = source
    }
}

/// The estimated output tokens and price of one job.
public struct CostEstimate: Sendable, Hashable, Codable {
    /// Output tokens (width × height × 24 × seconds / 1024).
    public var tokens: Int
    /// Estimated price in US dollars.
    public var cost: Double

    /// Creates an estimate.
    public init(tokens: Int, cost: Double) {
        self.tokens = tokens
        self.cost = cost
    }
}

/// What a job's folders say about when and for how much it may run: `lane_budget_daily` and `schedule` in a
/// folder's `_defaults.yaml` (they apply to the folder and everything below it).
public struct LanePolicy: Sendable, Hashable, Codable {
    /// Every daily cap over the job (its folder's and its parents').
    public var budgets: [LaneCap]
    /// The nearest folder's submission schedule (it replaces the service's `schedule:`).
    public var schedule: SubmissionSchedule?
    /// The `_defaults.yaml` that schedule came from, for messages.
    public var scheduleSource: String?

    public init(budgets: [LaneCap] = [], schedule: SubmissionSchedule? = nil, scheduleSource: String? = nil) {
        self.budgets = budgets
        self.schedule = schedule
        self.scheduleSource = scheduleSource
    }

    /// The keys a `_defaults.yaml` may hold besides settings.
    public static let keys: Set<String> = ["lane_budget_daily", "schedule"]
}

/// A job derived from the inbox: the request to send, the local images to upload first, and its provenance.
///
/// ``request`` is the exact gateway body except for image URLs: each `image_with_roles` element carries the
/// placeholder URL `local:<path relative to the inbox>` (see ``placeholderURL(for:)``); the service uploads
/// ``images`` and swaps the placeholders with ``request(uploadedURLs:)``.
public struct JobSpec: Sendable, Hashable, Codable {
    /// Job name: the stem, the shot folder's name, or the manifest row's `name` (`NAME-vK` for variants).
    public var name: String
    /// The folder the job belongs to, relative to the inbox ("" for the root); also its outbox lane.
    public var lane: String
    /// Text-to-video, first frame, first + last frame, or reference image.
    public var mode: JobMode
    /// Whether the job can be submitted.
    public var status: JobStatus
    /// The request body (image URLs are placeholders until upload).
    public var request: GenerationRequest
    /// Local images with their roles, to upload before submitting.
    public var images: [JobImage]
    /// Every effective setting with its source, keyed by setting name.
    public var settings: [String: EffectiveSetting]
    /// All inbox files that make up the job (relative paths), to archive or move once it is done.
    public var inputFiles: [String]
    /// Higher runs first.
    public var priority: Int
    /// Base name of the outputs (`outbox/<lane>/<outputName>.mp4`).
    public var outputName: String
    /// 1-based variant number and the count, when `variants`/`seeds` made several jobs.
    public var variant: Int?
    /// How many variants the group produced (1 when none).
    public var variantCount: Int
    /// Tokens and price; nil when the settings are too broken to estimate.
    public var estimate: CostEstimate?
    /// What is wrong; empty for valid and waiting jobs.
    public var errors: [JobError]
    /// Why the job waits (only for ``JobStatus/waiting``).
    public var waitingFor: String?
    /// The newest modification time among the job's files (for readiness checks).
    public var newestModification: Date
    /// What the job's folders' `_defaults.yaml` say about its spending and hours; nil when they say nothing.
    public var lanePolicy: LanePolicy?
    /// How each input's name was read (inbox-relative path → words: `prompt of hero`, `first frame of hero (scale
    /// suffix @2x ignored when grouping)`), shown by `plan`; nil when not recorded.
    public var readAs: [String: String]?
    /// For a waiting job: when the planner should look again (the prompt's wait ends, a sequence has settled).
    public var lookAgainAt: Date?
    /// For a clip of a storyboard: which film it belongs to and where in it.
    public var storyboard: StoryboardClip?

    enum CodingKeys: String, CodingKey {
        case name, lane, mode, status, request, images, settings, inputFiles, priority, outputName, variant, variantCount
        case estimate, errors, waitingFor, newestModification, lanePolicy, lookAgainAt, storyboard
        case readAs = "read_as"
    }

    /// Creates a job.
    public init(
        name: String, lane: String, mode: JobMode, status: JobStatus, request: GenerationRequest,
        images: [JobImage], settings: [String: EffectiveSetting], inputFiles: [String], priority: Int,
        outputName: String, variant: Int? = nil, variantCount: Int = 1, estimate: CostEstimate?,
        errors: [JobError], waitingFor: String? = nil, newestModification: Date, lanePolicy: LanePolicy? = nil,
        readAs: [String: String]? = nil, lookAgainAt: Date? = nil
    ) {
        self.lookAgainAt = lookAgainAt
        self.lanePolicy = lanePolicy
        self.readAs = readAs
        self.name = name
        self.lane = lane
        self.mode = mode
        self.status = status
        self.request = request
        self.images = images
        self.settings = settings
        self.inputFiles = inputFiles
        self.priority = priority
        self.outputName = outputName
        self.variant = variant
        self.variantCount = variantCount
        self.estimate = estimate
        self.errors = errors
        self.waitingFor = waitingFor
        self.newestModification = newestModification
    }

    /// The placeholder URL the plan puts into `image_with_roles` for a local image.
    public static func placeholderURL(for path: String) -> String { "local:" + path }

    /// The request with every placeholder replaced by its uploaded URL (keyed by relative path).
    ///
    /// Returns nil when an image has no uploaded URL yet.
    public func request(uploadedURLs: [String: String]) -> GenerationRequest? {
        var result = request
        guard let roles = request.imageWithRoles else { return result }
        var replaced: [ImageWithRole] = []
        for element in roles {
            let path = String(element.url.dropFirst("local:".count))
            guard element.url.hasPrefix("local:"), let url = uploadedURLs[path] else { return nil }
            replaced.append(ImageWithRole(url: url, role: element.role))
        }
        result.imageWithRoles = replaced
        return result
    }
}
