// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// Joins a storyboard's clips into one film with ffmpeg: stream copy when the clips share their size and codec
/// (Seedance's clips of one storyboard do), otherwise re-encoded to the first clip's size (H.264).
///
/// Blocking (it waits for child processes): call it from the thread pool. The film is written under a hidden
/// temporary name and renamed into place, so it is never seen half-written.
public struct VideoJoiner: Sendable {
    /// ffmpeg (and the way it is run, with its timeout).
    public var ffmpeg: PosterMaker
    /// ffprobe, which reads each clip's size and codec; nil when it is not installed (then the clips are re-encoded).
    public var ffprobePath: String?

    /// How the clips were joined.
    public enum Method: String, Sendable, Hashable {
        case copied = "stream copy"
        case reencoded = "re-encoded to H.264"
    }

    public init(ffmpeg: PosterMaker = PosterMaker(), ffprobePath: String? = PosterMaker.findExecutable("ffprobe")) {
        self.ffmpeg = ffmpeg
        self.ffmpeg.timeout = max(ffmpeg.timeout, 900)
        self.ffprobePath = ffprobePath
    }

    /// Writes `videos`, in order, as one MP4 at `output`.
    @discardableResult
    public func join(_ videos: [String], into output: String) throws -> Method {
        guard !videos.isEmpty else { throw PosterMaker.Failure.nothingToShow }
        let streams = videos.map(probe)
        if let first = streams.first, first != nil, streams.allSatisfy({ $0 == first }) {
            let list = (output as NSString).deletingLastPathComponent + "/." + (output as NSString).lastPathComponent + ".clips.txt"
            defer { unlink(list) }
            let lines = videos.map { "file '" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: list))
            do {
                try ffmpeg.run(["-f", "concat", "-safe", "0", "-i", list, "-c", "copy", "-movflags", "+faststart", "-f", "mp4"], output: output)
                return .copied
            } catch {
                // A container quirk stream copy cannot join: encode instead.
            }
        }
        let size = streams.first.flatMap { $0 } ?? Stream(codec: "", width: 1280, height: 720)
        let (width, height) = (size.width / 2 * 2, size.height / 2 * 2)
        var arguments: [String] = []
        for video in videos { arguments += ["-i", video] }
        var filters: [String] = []
        for index in videos.indices {
            filters.append("[\(index):v]scale=\(width):\(height):force_original_aspect_ratio=decrease,pad=\(width):\(height):(ow-iw)/2:(oh-ih)/2,setsar=1,fps=24,format=yuv420p[v\(index)]")
        }
        filters.append(videos.indices.map { "[v\($0)]" }.joined() + "concat=n=\(videos.count):v=1:a=0[film]")
        arguments += ["-filter_complex", filters.joined(separator: ";"), "-map", "[film]", "-c:v", "libx264", "-preset", "veryfast",
            "-crf", "18", "-movflags", "+faststart", "-f", "mp4"]
        try ffmpeg.run(arguments, output: output)
        return .reencoded
    }

    /// A clip's first video stream, as far as joining is concerned.
    struct Stream: Hashable {
        var codec: String
        var width: Int
        var height: Int
    }

    /// Reads the first video stream's codec and size; nil when ffprobe is missing or cannot read the file.
    func probe(_ video: String) -> Stream? {
        Self.probe(video, ffprobe: ffprobePath)
    }

    /// The first video stream (or image) of `path` as ffprobe reads it; nil when ffprobe is missing or cannot read it.
    static func probe(_ path: String, ffprobe: String?) -> Stream? {
        guard let ffprobe else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ffprobe)
        process.arguments = ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let fields = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",")
        guard process.terminationStatus == 0, fields.count >= 3, let width = Int(fields[1]), let height = Int(fields[2]) else { return nil }
        return Stream(codec: String(fields[0]), width: width, height: height)
    }
}
