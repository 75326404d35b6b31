// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Logging

/// Makes result videos: real MP4s of the exact size, 24 fps and duration, rendered by `ffmpeg` off the event
/// loop (a child `Process`), cached by (size, duration, prompt and images), at most two at a time.
/// Without ffmpeg every video is the bundled clip.
actor VideoRenderer {
    /// What to render.
    struct Spec: Sendable {
        var size: VideoSize
        var duration: Int
        var prompt: String
        var firstFrame: String?
        var lastFrame: String?

        var key: String {
            let hash = SHA256.hex(of: Array("\(prompt)\u{0}\(firstFrame ?? "")\u{0}\(lastFrame ?? "")".utf8))
            return "\(size.width)x\(size.height)-\(duration)s-\(hash.prefix(16))"
        }
    }

    private enum Entry {
        case ready(URL)
        case rendering([CheckedContinuation<URL, Never>])
    }

    /// The ffmpeg executable, or nil when videos come from the bundle.
    nonisolated let ffmpegPath: String?
    private let directory: URL
    private let logger: Logger
    private let bundled: URL
    private var entries: [String: Entry] = [:]
    private var running = 0
    private var slotWaiters: [CheckedContinuation<Void, Never>] = []
    private let maxConcurrent = 2
    private let onRendered: @Sendable () -> Void

    init(ffmpegPath: String?, directory: URL, logger: Logger, onRendered: @escaping @Sendable () -> Void) throws {
        self.ffmpegPath = ffmpegPath
        self.directory = directory
        self.logger = logger
        self.onRendered = onRendered
        bundled = directory.appendingPathComponent("bundled.mp4")
        try BundledVideo.data.write(to: bundled)
    }

    /// The file holding the video for `spec`, rendering it first if needed; never fails (falls back to the bundle).
    func video(for spec: Spec) async -> URL {
        guard ffmpegPath != nil else { return bundled }
        let key = spec.key
        switch entries[key] {
        case .ready(let url):
            return url
        case .rendering(var waiters):
            return await withCheckedContinuation { continuation in
                waiters.append(continuation)
                entries[key] = .rendering(waiters)
            }
        case nil:
            entries[key] = .rendering([])
            await acquireSlot()
            let url = await render(spec, key: key)
            releaseSlot()
            if case .rendering(let waiters) = entries[key] { waiters.forEach { $0.resume(returning: url) } }
            entries[key] = .ready(url)
            return url
        }
    }

    private func acquireSlot() async {
        if running < maxConcurrent {
            running += 1
            return
        }
        await withCheckedContinuation { slotWaiters.append($0) }
    }

    private func releaseSlot() {
        if slotWaiters.isEmpty { running -= 1 } else { slotWaiters.removeFirst().resume() }
    }

    private func render(_ spec: Spec, key: String) async -> URL {
        guard let ffmpegPath else { return bundled }
        let output = directory.appendingPathComponent("\(key).mp4")
        let partial = directory.appendingPathComponent("\(key).partial.mp4")
        let textFile = directory.appendingPathComponent("\(key).txt")
        let text = VideoRenderer.wrap(spec.prompt, width: max(20, spec.size.width / (spec.size.height / 20) - 4))
        try? text.write(to: textFile, atomically: true, encoding: .utf8)
        for withText in [true, false] {
            let arguments = VideoRenderer.arguments(spec, textFile: withText ? textFile.path : nil, output: partial.path)
            let (status, errors) = await VideoRenderer.run(ffmpegPath, arguments, log: directory.appendingPathComponent("\(key).log"))
            if status == 0, rename(partial.path, output.path) == 0 {
                onRendered()
                return output
            }
            logger.warning("ffmpeg failed", metadata: ["status": "\(status)", "withText": "\(withText)", "stderr": "\(errors.suffix(400))"])
        }
        logger.warning("serving the bundled video instead", metadata: ["video": "\(key)"])
        return bundled
    }

    /// The ffmpeg command line: prompt text on a dark canvas, or the first frame zooming, or a crossfade from
    /// the first to the last frame.
    static func arguments(_ spec: Spec, textFile: String?, output: String) -> [String] {
        let w = spec.size.width, h = spec.size.height, d = spec.duration
        let frames = d * VideoSize.framesPerSecond
        let fit = "scale=\(w):\(h):force_original_aspect_ratio=increase,crop=\(w):\(h),setsar=1"
        var arguments = ["-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
        var filter: String
        let fontSize = max(12, h / 20)
        if let first = spec.firstFrame, let last = spec.lastFrame {
            arguments += ["-loop", "1", "-framerate", "24", "-t", "\(d)", "-i", first]
            arguments += ["-loop", "1", "-framerate", "24", "-t", "\(d)", "-i", last]
            let offset = Double(d) * 0.15, fade = Double(d) * 0.7
            filter = "[0:v]\(fit),format=yuv420p[a];[1:v]\(fit),format=yuv420p[b];"
                + "[a][b]xfade=transition=fade:duration=\(fade):offset=\(offset)"
        } else if let first = spec.firstFrame {
            arguments += ["-loop", "1", "-framerate", "24", "-t", "\(d)", "-i", first]
            filter = "[0:v]\(fit),zoompan=z='1+0.3*on/\(frames)':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=1:s=\(w)x\(h):fps=24"
        } else {
            arguments += ["-f", "lavfi", "-i", "color=c=0x1d2b3a:s=\(w)x\(h):r=24:d=\(d)"]
            filter = "[0:v]null"
        }
        if let textFile {
            let y = spec.firstFrame == nil ? "(h-text_h)/2+h/12*sin(2*PI*t/\(d))" : "h-text_h-h/16"
            filter += ",drawtext=textfile=\(textFile):fontcolor=white:fontsize=\(fontSize):line_spacing=\(fontSize / 3)"
                + ":box=1:boxcolor=black@0.45:boxborderw=\(fontSize / 2):x=(w-text_w)/2:y=\(y)"
        }
        arguments += ["-filter_complex", filter + ",fps=24,format=yuv420p"]
        arguments += [
            "-t", "\(d)", "-r", "24", "-c:v", "libx264", "-preset", "ultrafast", "-threads", "2",
            "-movflags", "+faststart", "-f", "mp4", output,
        ]
        return arguments
    }

    /// Runs a program to completion without blocking a thread: the termination handler resumes the caller.
    static func run(_ path: String, _ arguments: [String], log: URL) async -> (Int32, String) {
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let status: Int32 = await withCheckedContinuation { continuation in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try? FileHandle(forWritingTo: log)
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                continuation.resume(returning: -1)
            }
        }
        return (status, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    /// The first executable called `name` on PATH.
    static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Breaks text into lines of at most `width` characters at spaces (drawtext does not wrap), at most 6 lines.
    static func wrap(_ text: String, width: Int) -> String {
        var lines: [String] = []
        var line = ""
        for word in text.split(whereSeparator: \.isWhitespace) {
            if !line.isEmpty, line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += line.isEmpty ? String(word.prefix(width)) : " \(word)"
        }
        if !line.isEmpty { lines.append(line) }
        if lines.count > 6 { lines = Array(lines.prefix(6)) + ["…"] }
        // drawtext expands % sequences; a literal percent is written %%.
        return lines.joined(separator: "\n").replacingOccurrences(of: "%", with: "%%")
    }
}
