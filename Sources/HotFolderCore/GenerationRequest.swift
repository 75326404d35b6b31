// SPDX-License-Identifier: GPL-2.0-or-later

/// The two Seedance 1.0 pro models the gateway offers.
public enum SeedanceModel: String, Sendable, CaseIterable, Codable {
    /// Fast preview model: text-to-video and first-frame only.
    case fast = "doubao-seedance-1-0-pro-fast"
    /// Slower, better model: the only one that accepts a last frame.
    case quality = "doubao-seedance-1-0-pro-quality"

    /// The short name people write in settings (`fast`, `quality`).
    public var shortName: String {
        switch self {
        case .fast: "fast"
        case .quality: "quality"
        }
    }

    /// Parses a short name or a full model name, case-insensitively.
    public init?(setting: String) {
        let lower = setting.lowercased()
        if let model = SeedanceModel.allCases.first(where: { $0.rawValue == lower || $0.shortName == lower }) {
            self = model
        } else {
            return nil
        }
    }
}

/// The role an input image plays in an image-to-video request.
public enum ImageRole: String, Sendable, CaseIterable, Codable {
    /// The video starts on this image.
    case firstFrame = "first_frame"
    /// The video ends on this image (quality model only, with a first frame).
    case lastFrame = "last_frame"
    /// A style or subject reference (not at 1080p, not with frames).
    case reference = "reference"
}

/// One element of the gateway's `image_with_roles` array.
public struct ImageWithRole: Sendable, Hashable, Codable {
    /// A URL the API can fetch (an upload URL from `POST /v1/uploads/images`).
    public var url: String
    /// What the image is for.
    public var role: ImageRole

    /// Creates an element.
    public init(url: String, role: ImageRole) {
        self.url = url
        self.role = role
    }
}

/// The exact body of the gateway's `POST /v1/videos/generations` (`spec/seedance-api.md` §2).
///
/// Optional fields are omitted from the JSON when nil, as the API documents them as optional.
public struct GenerationRequest: Sendable, Hashable, Codable {
    /// Full model name, e.g. `doubao-seedance-1-0-pro-fast`.
    public var model: String
    /// The prompt text.
    public var prompt: String
    /// Seconds, 2–12.
    public var duration: Int?
    /// One of the six ratios, e.g. `16:9`.
    public var aspectRatio: String?
    /// `480p`, `720p` or `1080p`.
    public var resolution: String?
    /// −1 … 2³²−1; −1 or absent means random.
    public var seed: Int64?
    /// Images with roles; absent for text-to-video.
    public var imageWithRoles: [ImageWithRole]?
    /// Ark only: `flex` for the offline tier (absent: the default tier). Never sent to the gateway.
    public var serviceTier: String?
    /// Ark only: seconds a task may wait before it expires.
    public var executionExpiresAfter: Int?

    /// Creates a request.
    public init(
        model: String, prompt: String, duration: Int? = nil, aspectRatio: String? = nil,
        resolution: String? = nil, seed: Int64? = nil, imageWithRoles: [ImageWithRole]? = nil
    ) {
        self.model = model
        self.prompt = prompt
        self.duration = duration
        self.aspectRatio = aspectRatio
        self.resolution = resolution
        self.seed = seed
        self.imageWithRoles = imageWithRoles
    }

    enum CodingKeys: String, CodingKey {
        case model, prompt, duration, resolution, seed
        case aspectRatio = "aspect_ratio"
        case imageWithRoles = "image_with_roles"
        case serviceTier = "service_tier"
        case executionExpiresAfter = "execution_expires_after"
    }
}
