// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// Everything that can be wrong with a drop, each carrying the file, the field and the value involved.
///
/// ``report`` turns a problem into the plain sentence (with the fix) that ends up in the plan and in
/// `NAME.error.txt`. File names are shown as people see them, e.g. `inbox/portrait/cat.yaml`.
public enum DropProblem: Error, Sendable, Hashable {
    /// A settings key that does not exist, with the nearest valid key if one is close.
    case unknownKey(file: String, key: String, suggestion: String?)
    /// A setting whose value is outside what the API accepts; `expected` says what would work.
    case invalidValue(file: String, key: SettingKey, value: String, expected: String)
    /// A settings file that does not parse.
    case parseFailed(file: String, line: Int, column: Int, reason: String)
    /// A settings file whose top level is not a list of `key: value` pairs, or a list that is too long.
    case wrongShape(file: String, field: String, reason: String)
    /// A list or a nested block where one value belongs (`prompt_prefix: [1, 2]`); `expected` says what fits.
    case wrongType(file: String, key: String, value: String, expected: String)
    /// A file larger than the planner is willing to read for its purpose.
    case fileTooLarge(file: String, field: String, size: Int64, limit: Int)
    /// A pipe, device, socket or folder where a file was expected; it was not opened.
    case notAFile(file: String, field: String, kind: DropEntryKind)
    /// A symbolic link that leads outside the inbox.
    case linkOutsideInbox(file: String, field: String, target: String)
    /// A symbolic link whose target does not exist.
    case brokenLink(file: String, field: String)
    /// A file that vanished or could not be read.
    case unreadable(file: String, field: String, reason: String)
    /// A prompt file that is not UTF-8 text (binary data, a different encoding).
    case promptNotText(file: String)
    /// A prompt that is empty after trimming spaces and blank lines.
    case promptEmpty(file: String)
    /// A prompt longer than the API allows.
    case promptTooLong(file: String, characters: Int)
    /// An image file that is not PNG, JPEG or WebP by its content.
    case imageFormat(file: String, role: ImageRole)
    /// An image whose header is damaged or cut short.
    case imageDamaged(file: String, role: ImageRole, format: ImageFormat)
    /// An image whose header is fine but whose end is missing (a copy or download that did not finish).
    case imageTruncated(file: String, role: ImageRole, format: ImageFormat)
    /// An image with a side below 300 or above 6000 pixels.
    case imageSize(file: String, role: ImageRole, width: Int, height: Int)
    /// An image whose width/height ratio is outside 0.4–2.5.
    case imageRatio(file: String, role: ImageRole, width: Int, height: Int)
    /// An image file bigger than 20 MB.
    case imageBytes(file: String, role: ImageRole, size: Int64)
    /// An image with an extension the API does not take (`.gif`, `.heic`, …).
    case imageExtension(file: String)
    /// Two images for the same role.
    case duplicateRole(role: ImageRole, files: [String])
    /// A last frame with the fast model.
    case lastFrameNeedsQuality(file: String, model: String, modelSource: String)
    /// A last frame without a first frame.
    case lastFrameNeedsFirst(file: String)
    /// A reference image together with first/last frames.
    case referenceWithFrames(reference: String, frames: [String])
    /// A reference image at 1080p.
    case referenceAt1080p(file: String, resolutionSource: String)
    /// A reference image for a provider that takes none (Ark's 1.0 pro models).
    case referenceNotSupported(file: String, provider: String)
    /// Nothing gives this job a prompt (after the orphan timeout).
    case noPrompt(job: String, files: [String], shotFolder: Bool)
    /// A manifest row that names a file which does not exist.
    case missingFile(file: String, field: String, path: String)
    /// A manifest row that names a path leading out of the inbox.
    case pathOutsideInbox(file: String, field: String, path: String)
    /// A manifest row that cannot be read as a job (too many cells, not an object, …).
    case badRow(file: String, reason: String)
    /// `variants` and `seeds` disagree, or seeds repeat.
    case seedsConflict(file: String, reason: String)
    /// A file whose name has extra dots the protocol does not understand (`sunset.final.png`).
    case unrecognizedName(file: String, stem: String)
    /// A file in a folder nested deeper than ``DropLimits/maxFolderDepth`` levels below the inbox.
    case nestedTooDeep(file: String, depth: Int, limit: Int)
    /// A storyboard folder that cannot make its film (too few keyframes, a prompt without a clip, variants).
    case storyboard(file: String, reason: String)

    /// The problem as the plan and error files show it.
    public var report: JobError {
        JobError(file: file, field: field, message: message)
    }

    /// The file the problem is in (display form).
    public var file: String {
        switch self {
        case .unknownKey(let f, _, _), .invalidValue(let f, _, _, _), .parseFailed(let f, _, _, _),
            .wrongShape(let f, _, _), .wrongType(let f, _, _, _), .fileTooLarge(let f, _, _, _), .notAFile(let f, _, _),
            .linkOutsideInbox(let f, _, _), .brokenLink(let f, _), .unreadable(let f, _, _), .promptNotText(let f),
            .promptEmpty(let f), .promptTooLong(let f, _), .imageFormat(let f, _), .imageDamaged(let f, _, _),
            .imageTruncated(let f, _, _),
            .imageSize(let f, _, _, _), .imageRatio(let f, _, _, _), .imageBytes(let f, _, _), .imageExtension(let f),
            .lastFrameNeedsQuality(let f, _, _), .lastFrameNeedsFirst(let f), .referenceAt1080p(let f, _), .referenceNotSupported(let f, _),
            .missingFile(let f, _, _), .pathOutsideInbox(let f, _, _), .badRow(let f, _), .seedsConflict(let f, _),
            .unrecognizedName(let f, _), .nestedTooDeep(let f, _, _), .storyboard(let f, _):
            f
        case .duplicateRole(_, let files): files.first ?? ""
        case .referenceWithFrames(let reference, _): reference
        case .noPrompt(_, let files, _): files.first ?? ""
        }
    }

    /// The field (setting, image role, `prompt`, `file`) the problem is about.
    public var field: String {
        switch self {
        case .unknownKey(_, let key, _), .wrongType(_, let key, _, _): key
        case .invalidValue(_, let key, _, _): key.rawValue
        case .parseFailed: "file"
        case .wrongShape(_, let field, _), .fileTooLarge(_, let field, _, _), .notAFile(_, let field, _),
            .linkOutsideInbox(_, let field, _), .brokenLink(_, let field), .unreadable(_, let field, _),
            .missingFile(_, let field, _), .pathOutsideInbox(_, let field, _):
            field
        case .promptNotText, .promptEmpty, .promptTooLong, .noPrompt: "prompt"
        case .imageFormat(_, let role), .imageDamaged(_, let role, _), .imageTruncated(_, let role, _),
            .imageSize(_, let role, _, _),
            .imageRatio(_, let role, _, _), .imageBytes(_, let role, _), .duplicateRole(let role, _):
            role.rawValue
        case .imageExtension: "image"
        case .lastFrameNeedsQuality: "model"
        case .lastFrameNeedsFirst: "last_frame"
        case .referenceWithFrames: "reference"
        case .referenceAt1080p: "resolution"
        case .referenceNotSupported: "reference"
        case .badRow: "row"
        case .seedsConflict: "seeds"
        case .unrecognizedName, .nestedTooDeep: "file"
        case .storyboard: "storyboard"
        }
    }

    /// One or two plain sentences: what is wrong (with the value) and what to do about it.
    public var message: String {
        switch self {
        case .unknownKey(let file, let key, let suggestion?):
            "`\(key)`: did you mean `\(suggestion)`? \(file) uses a setting name that does not exist; rename it."
        case .unknownKey(let file, let key, nil):
            "`\(key)` is not a setting (in \(file)); remove it or use one of: "
                + SettingKey.allCases.map(\.rawValue).joined(separator: ", ") + "."
        case .invalidValue(let file, let key, let value, let expected):
            "`\(key.rawValue)` is `\(value)` in \(file), which the video service does not accept: \(expected)."
        case .parseFailed(let file, let line, let column, let reason):
            "\(file) could not be read at line \(line), column \(column) (\(reason)); fix the text there and save it again."
        case .wrongShape(let file, let field, let reason):
            "\(file): `\(field)` \(reason)."
        case .wrongType(let file, let key, let value, let expected):
            "`\(key)` is `\(value)` in \(file): it must be \(expected)."
        case .fileTooLarge(let file, _, let size, let limit):
            "\(file) is \(Self.bytes(size)), more than the \(Self.bytes(Int64(limit))) allowed for this kind of file; "
                + "it was not read. Check that the right file was dropped."
        case .notAFile(let file, _, let kind):
            "\(file) is a \(kind == .fifo ? "named pipe" : kind == .directory ? "folder" : "special file"), "
                + "not a regular file, so it was not opened; replace it with a normal file."
        case .linkOutsideInbox(let file, _, let target):
            "\(file) is a link to \(target), outside the inbox; links out of the inbox are never followed. "
                + "Copy the file into the inbox instead."
        case .brokenLink(let file, _):
            "\(file) is a link whose target does not exist; copy the real file into the inbox instead."
        case .unreadable(let file, _, let reason):
            "\(file) could not be read (\(reason)); drop it again."
        case .promptNotText(let file):
            "\(file) is not plain text (it contains binary data or is not UTF-8); save the prompt as a UTF-8 text file."
        case .promptEmpty(let file):
            "The prompt in \(file) is empty; write a description of the video."
        case .promptTooLong(let file, let characters):
            "The prompt in \(file) has \(characters) characters (with prefix and suffix); "
                + "the limit is \(PromptText.maxCharacters), shorten it."
        case .imageFormat(let file, _):
            "\(file) is not a PNG, JPEG or WebP image (judged by its content, not its name); export it as PNG or JPEG."
        case .imageDamaged(let file, _, let format):
            "\(file) looks like a \(format.rawValue.uppercased()) image but its header is damaged or cut short; "
                + "export it again."
        case .imageTruncated(let file, _, let format):
            "\(file) appears truncated: it starts like a \(format.rawValue.uppercased()) image but its end is missing "
                + "(a copy, download or export that did not finish); copy it again completely or export it again."
        case .imageSize(let file, _, let width, let height):
            "\(file) is \(width)×\(height) px; each side must be between 300 and 6000 px, resize it."
        case .imageRatio(let file, _, let width, let height):
            "\(file) is \(width)×\(height) px, a width/height ratio of "
                + String(format: "%.2f", Double(width) / Double(height))
                + "; the ratio must be between 0.4 and 2.5, crop it."
        case .imageBytes(let file, _, let size):
            "\(file) is \(Self.bytes(size)); images may be at most 20 MB, export it smaller (e.g. as JPEG)."
        case .imageExtension(let file):
            "\(file) is not a supported image type: \(Self.exportAdvice(for: file))"
        case .duplicateRole(let role, let files):
            "There are \(files.count) \(role.rawValue) images (\(files.joined(separator: ", "))); "
                + "a job takes one image per role, remove the extra ones."
        case .lastFrameNeedsQuality(let file, let model, let source):
            "\(file) is a last frame, but the model is `\(model)` (from \(source)); only the quality model "
                + "can end on a last frame. Set `model: quality` or remove the last frame."
        case .lastFrameNeedsFirst(let file):
            "\(file) is a last frame without a first frame; add the first frame (NAME.first.png) as well."
        case .referenceWithFrames(let reference, let frames):
            "\(reference) is a reference image, but the job also has frames (\(frames.joined(separator: ", "))); "
                + "use either a reference image or first/last frames, not both."
        case .referenceAt1080p(let file, let source):
            "\(file) is a reference image, but the resolution is 1080p (from \(source)); reference images work "
                + "only at 480p or 720p. Set `resolution: 720p` or remove the reference image."
        case .referenceNotSupported(let file, let provider):
            "\(file) is a reference image, but the \(provider) API's Seedance 1.0 pro models take no reference image "
                + "(only a first frame, or first + last frame with the quality model). Use it as a first frame "
                + "(NAME.first.png) or remove it."
        case .noPrompt(let job, _, true):
            "no prompt: add prompt.txt to the folder `\(job)`, a `prompt:` in its settings.yaml, or a folder default prompt."
        case .noPrompt(let job, _, false):
            "no prompt: add \(job).txt, a `prompt:` in \(job).yaml, or a folder default prompt."
        case .missingFile(let file, let field, let path):
            "\(file): the \(field) `\(path)` does not exist (paths are relative to the manifest); check the name."
        case .pathOutsideInbox(let file, let field, let path):
            "\(file): the \(field) `\(path)` is outside the inbox; put the image inside the inbox."
        case .badRow(let file, let reason):
            "\(file): \(reason)."
        case .seedsConflict(let file, let reason):
            "\(file): \(reason)."
        case .unrecognizedName(let file, let stem):
            "\(file) has a name the inbox does not understand; rename it to \(stem).png (first frame), "
                + "\(stem).first.png, \(stem).last.png, \(stem).ref.png, \(stem).txt or \(stem).yaml."
        case .nestedTooDeep(let file, let depth, let limit):
            "\(file) is nested \(depth) folders deep; the inbox accepts at most \(limit) levels: move it higher up."
        case .storyboard(let file, let reason):
            "\(file): \(reason)."
        }
    }

    static func bytes(_ count: Int64) -> String {
        // Decimal units, as file managers show them.
        if count >= 1_000_000_000 { return "\(count / 1_000_000_000) GB" }
        if count >= 1_000_000 { return String(format: "%.1f MB", Double(count) / 1_000_000) }
        if count >= 1_000 { return "\(count / 1_000) KB" }
        return "\(count) bytes"
    }
}

extension DropProblem {
    /// Which export to use instead of a design document or an image type the API does not take.
    static func exportAdvice(for file: String) -> String {
        let ext = (file as NSString).pathExtension.lowercased()
        switch ext {
        case "psd", "psb":
            return "a Photoshop document is not sent; export it as PNG or JPEG (File › Export › Quick Export as PNG, or Export As…)."
        case "ai", "eps":
            return "an Illustrator file is not sent; export the artboard as PNG (File › Export › Export for Screens…)."
        case "svg":
            return "an SVG is a vector drawing; export it as PNG at the size the video needs (300–6000 px a side)."
        case "pdf":
            return "a PDF is not sent; export the page as PNG or JPEG."
        case "sketch", "fig", "xd":
            return "a design document is not sent; export the frame or artboard as PNG (in Figma and Sketch: Export › PNG)."
        default:
            return "use .png, .jpg, .jpeg or .webp (save or export it as PNG)."
        }
    }
}
