// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

/// A create request that passed the spec's rules, whichever protocol it came in.
struct ValidatedRequest: Sendable {
    var model: String
    var prompt: String
    var duration: Int
    var resolution: Resolution
    var ratio: AspectRatio
    var seed: Int64
    var images: [ImageRole: String]
    /// Ark's `service_tier` (`default` or `flex`) and `execution_expires_after`.
    var serviceTier = "default"
    var executionExpiresAfter = 172_800
}

/// A rule the request broke: the HTTP status, a machine code, the field and a sentence.
struct RuleViolation: Error, Sendable {
    var status: Int = 400
    var code: String
    var param: String?
    var message: String
}

/// The spec's rules for a create request (`spec/seedance-api.md` §2, §5, §7).
enum RequestValidator {
    /// The gateway's `POST /v1/videos/generations` body.
    static func gateway(_ body: [String: Any]) throws(RuleViolation) -> ValidatedRequest {
        guard let modelName = body["model"] as? String, let model = SeedanceModel(rawValue: modelName) else {
            throw RuleViolation(
                code: "invalid_model", param: "model",
                message: "model must be one of \(SeedanceModel.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        var images: [ImageRole: String] = [:]
        if body["image_urls"] != nil, body["image_with_roles"] != nil {
            throw RuleViolation(
                code: "invalid_parameter", param: "image_urls",
                message: "image_urls and image_with_roles cannot be used together.")
        }
        if let list = body["image_with_roles"] {
            guard let items = list as? [[String: Any]] else {
                throw RuleViolation(code: "invalid_parameter", param: "image_with_roles", message: "image_with_roles must be an array of {url, role} objects.")
            }
            for item in items {
                guard let url = item["url"] as? String, !url.isEmpty else {
                    throw RuleViolation(code: "invalid_parameter", param: "image_with_roles.url", message: "every image needs a non-empty url.")
                }
                guard let roleName = item["role"] as? String, let role = ImageRole(rawValue: roleName) else {
                    throw RuleViolation(
                        code: "invalid_parameter", param: "image_with_roles.role",
                        message: "role must be first_frame, last_frame or reference.")
                }
                guard images[role] == nil else {
                    throw RuleViolation(code: "invalid_parameter", param: "image_with_roles", message: "only one image per role is allowed (\(roleName) given twice).")
                }
                images[role] = url
            }
        } else if let list = body["image_urls"] {
            guard let urls = list as? [String], urls.count <= 2 else {
                throw RuleViolation(code: "invalid_parameter", param: "image_urls", message: "image_urls must be an array of at most two URLs.")
            }
            for (url, role) in zip(urls, [ImageRole.firstFrame, .lastFrame]) { images[role] = url }
        }
        if images[.lastFrame] != nil, model != .quality {
            throw RuleViolation(
                code: "model_not_support_first_last_frame", param: "image_with_roles",
                message: "a last_frame image needs the \(SeedanceModel.quality.rawValue) model.")
        }
        return try common(
            model: model.rawValue, prompt: body["prompt"], duration: body["duration"], ratio: body["aspect_ratio"],
            ratioField: "aspect_ratio", resolution: body["resolution"], seed: body["seed"], images: images)
    }

    /// Ark's `POST /api/v3/contents/generations/tasks` body.
    static func ark(_ body: [String: Any]) throws(RuleViolation) -> ValidatedRequest {
        guard let model = body["model"] as? String, model.contains("seedance") else {
            throw RuleViolation(code: "InvalidParameter", param: "model", message: "The parameter `model` specified in the request is not valid.")
        }
        guard let content = body["content"] as? [[String: Any]] else {
            throw RuleViolation(code: "MissingParameter", param: "content", message: "The request failed because it is missing the `content` parameter.")
        }
        var prompt: Any?
        var images: [ImageRole: String] = [:]
        for item in content {
            switch item["type"] as? String {
            case "text":
                guard prompt == nil else {
                    throw RuleViolation(code: "InvalidParameter", param: "content", message: "Only one text item is allowed in `content`.")
                }
                prompt = item["text"]
            case "image_url":
                guard let url = (item["image_url"] as? [String: Any])?["url"] as? String, !url.isEmpty else {
                    throw RuleViolation(code: "InvalidParameter", param: "content.image_url", message: "Every image_url item needs image_url.url.")
                }
                let roleName = item["role"] as? String ?? "first_frame"
                let role: ImageRole? =
                    switch roleName {
                    case "first_frame": .firstFrame
                    case "last_frame": .lastFrame
                    case "reference_image": .reference
                    default: nil
                    }
                guard let role, images[role] == nil else {
                    throw RuleViolation(code: "InvalidParameter", param: "content.role", message: "The image role `\(roleName)` is unknown or repeated.")
                }
                images[role] = url
            default:
                throw RuleViolation(code: "InvalidParameter", param: "content.type", message: "Content items must have type text or image_url.")
            }
        }
        if images[.lastFrame] != nil, model.contains("fast") {
            throw RuleViolation(code: "InvalidParameter", param: "content.role", message: "The fast model does not support a last frame.")
        }
        var valid = try common(
            model: model, prompt: prompt, duration: body["duration"], ratio: body["ratio"], ratioField: "ratio",
            resolution: body["resolution"], seed: body["seed"], images: images)
        if let tier = body["service_tier"] {
            guard let text = tier as? String, ["default", "flex"].contains(text) else {
                throw RuleViolation(code: "InvalidParameter", param: "service_tier", message: "service_tier must be default or flex, got \(tier).")
            }
            valid.serviceTier = text
        }
        if let expires = body["execution_expires_after"] {
            guard let value = integer(expires), (3600...259_200).contains(value) else {
                throw RuleViolation(
                    code: "InvalidParameter", param: "execution_expires_after",
                    message: "execution_expires_after must be an integer from 3600 to 259200 seconds, got \(expires).")
            }
            valid.executionExpiresAfter = Int(value)
        }
        return valid
    }

    private static func common(
        model: String, prompt: Any?, duration: Any?, ratio: Any?, ratioField: String, resolution: Any?, seed: Any?,
        images: [ImageRole: String]
    ) throws(RuleViolation) -> ValidatedRequest {
        guard let prompt = prompt as? String, !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw RuleViolation(code: "invalid_parameter", param: "prompt", message: "prompt must be a non-empty string.")
        }
        var seconds = 5
        if let duration {
            guard let value = integer(duration), (2...12).contains(value) else {
                throw RuleViolation(code: "invalid_parameter", param: "duration", message: "duration must be an integer from 2 to 12 seconds, got \(duration).")
            }
            seconds = Int(value)
        }
        var aspect = AspectRatio.wide
        if let ratio {
            // Ark also accepts `adaptive` (the image's own ratio); the emulator renders it as 16:9.
            let text = (ratio as? String).map { $0 == "adaptive" && ratioField == "ratio" ? "16:9" : $0 }
            guard let text, let value = AspectRatio(rawValue: text) else {
                throw RuleViolation(
                    code: "invalid_parameter", param: ratioField,
                    message: "\(ratioField) must be one of \(AspectRatio.allCases.map(\.rawValue).joined(separator: ", ")), got \(ratio).")
            }
            aspect = value
        }
        var size = Resolution.p1080
        if let resolution {
            guard let text = resolution as? String, let value = Resolution(rawValue: text) else {
                throw RuleViolation(code: "invalid_parameter", param: "resolution", message: "resolution must be 480p, 720p or 1080p, got \(resolution).")
            }
            size = value
        }
        var seedValue: Int64 = -1
        if let seed {
            guard let value = integer(seed), (-1...4_294_967_295).contains(value) else {
                throw RuleViolation(code: "invalid_parameter", param: "seed", message: "seed must be an integer from -1 to 4294967295, got \(seed).")
            }
            seedValue = value
        }
        if images[.lastFrame] != nil, images[.firstFrame] == nil {
            throw RuleViolation(code: "invalid_parameter", param: "image_with_roles", message: "a last_frame image needs a first_frame image.")
        }
        if images[.reference] != nil {
            if size == .p1080 {
                throw RuleViolation(code: "invalid_parameter", param: "resolution", message: "reference images are not supported at 1080p; use 480p or 720p.")
            }
            if images[.firstFrame] != nil || images[.lastFrame] != nil {
                throw RuleViolation(code: "invalid_parameter", param: "image_with_roles", message: "a reference image cannot be mixed with first/last frames.")
            }
        }
        return ValidatedRequest(
            model: model, prompt: prompt, duration: seconds, resolution: size, ratio: aspect, seed: seedValue, images: images)
    }

    /// An integral JSON number (JSONSerialization gives NSNumber; booleans and fractions are refused).
    private static func integer(_ value: Any) -> Int64? {
        if let int = value as? Int64 { return int }
        if let int = value as? Int { return Int64(int) }
        if let double = value as? Double, double == double.rounded(), abs(double) < 1e15 { return Int64(double) }
        return nil
    }
}
