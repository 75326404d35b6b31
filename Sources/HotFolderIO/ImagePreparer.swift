// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

/// Makes an image fit for the API on this machine (``ImagePreparation``): ffmpeg converts it to PNG (first frame
/// of a GIF) and scales it down to 6000 px a side keeping its shape, never up; a result over 20 MB is written as
/// JPEG instead. The result is checked like any image (300–6000 px a side, shape 0.4–2.5, ≤ 20 MB).
public enum ImagePreparer {
    /// The prepared file, what it is, and what was done, in words for the job's log.
    public struct Prepared: Sendable, Hashable {
        public var path: String
        public var header: ImageHeader
        public var description: String
    }

    /// Prepares `source` into `directory` as `<name>.png` (or `.jpg`).
    public static func prepare(
        source: String, preparation: ImagePreparation, into directory: String, name: String,
        maxBytes: Int64 = 20 * 1024 * 1024
    ) throws -> Prepared {
        let display = (source as NSString).lastPathComponent
        guard let ffmpeg = PosterMaker.findExecutable("ffmpeg") else {
            throw VideoAPIError.unusableImage(path: display, reason: "it must be converted or scaled down first and ffmpeg is not installed; install ffmpeg, or export it as PNG or JPEG of at most 6000 px a side.")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var filters = ["scale='min(6000,iw)':'min(6000,ih)':force_original_aspect_ratio=decrease"]
        switch preparation.reshape {
        case .pad?:
            // The short side grows to 0.4 × the long side (black bars, centred); a shape inside 0.4–2.5 is unchanged.
            filters.append("pad=w='max(iw,ceil(ih*0.4))':h='max(ih,ceil(iw/2.5))':x='(ow-iw)/2':y='(oh-ih)/2':color=black")
        case .crop?:
            // The long side is cut to 2.5 × the short side around the centre; a shape inside 0.4–2.5 is unchanged.
            filters.append("crop=w='min(iw,floor(ih*2.5))':h='min(ih,floor(iw/0.4))'")
        case nil:
            break
        }
        var output = (directory as NSString).appendingPathComponent(name + ".png")
        try run(ffmpeg, ["-nostdin", "-loglevel", "error", "-y", "-i", source, "-frames:v", "1", "-vf", filters.joined(separator: ","), output], display: display)
        if (FileSystemProbe.lstat(output)?.size ?? 0) > maxBytes {
            let jpeg = (directory as NSString).appendingPathComponent(name + ".jpg")
            try run(ffmpeg, ["-nostdin", "-loglevel", "error", "-y", "-i", output, "-q:v", "2", jpeg], display: display)
            unlink(output)
            output = jpeg
        }
        let size = FileSystemProbe.lstat(output)?.size ?? 0
        let head = Array((FileManager.default.contents(atPath: output) ?? Data()).prefix(64 * 1024))
        guard let header = try? ImageHeader.parse(head) else {
            throw VideoAPIError.unusableImage(path: display, reason: "ffmpeg made no readable image of it; export it as PNG or JPEG.")
        }
        guard size <= maxBytes else {
            throw VideoAPIError.unusableImage(path: display, reason: "even scaled down it is \(size / 1_048_576) MB, over the 20 MB limit; export a smaller JPEG.")
        }
        guard header.width >= 300, header.height >= 300 else {
            throw VideoAPIError.unusableImage(path: display, reason: "it is \(header.width)×\(header.height) px; the API needs 300–6000 px a side (images are never scaled up).")
        }
        let ratio = Double(header.width) / Double(header.height)
        guard (0.4...2.5).contains(ratio) else {
            throw VideoAPIError.unusableImage(path: display, reason: "its shape \(header.width)×\(header.height) is outside the 0.4–2.5 the API takes; crop it, or set `image_fit: pad` or `crop`.")
        }
        var done: [String] = []
        if let from = preparation.convertFrom { done.append("converted from \(from.uppercased()) to \(header.format.rawValue.uppercased())") }
        if let reshape = preparation.reshape, let original = Self.size(of: source, ffmpeg: ffmpeg),
            Double(original.width) / Double(original.height) < 0.4 || Double(original.width) / Double(original.height) > 2.5
        {
            done.append("\(reshape == .pad ? "padded" : "cropped") from \(original.width)×\(original.height) (a shape outside 0.4–2.5)")
        }
        done.append("sent as \(header.width)×\(header.height)")
        return Prepared(path: output, header: header, description: done.joined(separator: ", ") + " (by ffmpeg on this machine)")
    }

    /// The width and height of an image, read by ffprobe beside ffmpeg; nil when it cannot tell.
    static func size(of path: String, ffmpeg: String) -> (width: Int, height: Int)? {
        let probe = (ffmpeg as NSString).deletingLastPathComponent + "/ffprobe"
        return VideoJoiner.probe(path, ffprobe: FileManager.default.isExecutableFile(atPath: probe) ? probe : nil).map { ($0.width, $0.height) }
    }

    static func run(_ executable: String, _ arguments: [String], display: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let reason = message.split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
            throw VideoAPIError.unusableImage(path: display, reason: "ffmpeg could not read it (\(reason)); export it as PNG or JPEG.")
        }
    }
}
