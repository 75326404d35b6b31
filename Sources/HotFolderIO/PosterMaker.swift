// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// Makes still images with `ffmpeg`: a poster frame beside each video, and the morning report's contact sheet
/// (a tile per video with its name under it).
///
/// Blocking (it waits for a child process): call it from the thread pool (``Blocking/run(_:)``). Each call
/// writes to a hidden temporary name and renames, so a poster is never seen half-written.
public struct PosterMaker: Sendable {
    /// Why an image could not be made; reads as one sentence.
    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// ffmpeg is not installed (not on PATH).
        case noFFmpeg
        /// ffmpeg ran but made no image.
        case ffmpegFailed(path: String, status: Int32, stderr: String)
        /// There was nothing to put on a contact sheet.
        case nothingToShow

        /// The failure as one sentence.
        public var description: String {
            switch self {
            case .noFFmpeg: "ffmpeg is not installed (run scripts/setup.sh or install the ffmpeg package)"
            case .ffmpegFailed(let path, let status, let stderr):
                "ffmpeg could not make \(path) (exit status \(status)): \(stderr.trimmingCharacters(in: .whitespacesAndNewlines).suffix(300))"
            case .nothingToShow: "there is no poster to put on the contact sheet"
            }
        }
    }

    /// The ffmpeg executable; nil when it is not installed.
    public var ffmpegPath: String?
    /// A TrueType font for the names on the contact sheet; nil writes the sheet without names.
    public var fontFile: String?
    /// The longest an ffmpeg run may take before it is stopped.
    public var timeout: Double = 120

    /// Creates a maker; by default ffmpeg is looked up on PATH and the font is DejaVu Sans (`fonts-dejavu-core`).
    public init(ffmpegPath: String? = PosterMaker.findExecutable("ffmpeg"), fontFile: String? = PosterMaker.defaultFontFile()) {
        self.ffmpegPath = ffmpegPath
        self.fontFile = fontFile
    }

    /// Writes a JPEG poster of `video` to `poster`: the middle frame (`durationHint` seconds long), else the first
    /// frame (a video shorter than announced), at most 640 px wide.
    public func makePoster(video: String, poster: String, durationHint: Double?) throws {
        let middle = max(0, (durationHint ?? 0) / 2)
        var lastError: Failure = .noFFmpeg
        for seek in middle > 0 ? [middle, 0] : [0] {
            do {
                try run(
                    ["-ss", String(format: "%.2f", seek), "-i", video, "-frames:v", "1", "-vf", "scale='min(640,iw)':-2",
                     "-q:v", "4", "-f", "image2", "-c:v", "mjpeg"],
                    output: poster)
                return
            } catch let error as Failure {
                lastError = error
                if error == .noFFmpeg { break }
            }
        }
        throw lastError
    }

    /// One tile of a contact sheet: a poster and the name written under it.
    public struct Tile: Sendable, Hashable {
        /// The poster image.
        public var image: String
        /// The text under it.
        public var label: String

        /// Creates a tile.
        public init(image: String, label: String) {
            self.image = image
            self.label = label
        }
    }

    /// Writes a JPEG contact sheet of `tiles` (in order, `columns` wide) to `output` with ffmpeg's `tile` filter.
    public func makeContactSheet(_ tiles: [Tile], columns: Int = 4, output: String) throws {
        guard !tiles.isEmpty else { throw Failure.nothingToShow }
        guard ffmpegPath != nil else { throw Failure.noFFmpeg }
        let (width, height, band) = (320, 180, fontFile == nil ? 0 : 28)
        let columns = min(columns, tiles.count)
        let rows = (tiles.count + columns - 1) / columns
        let scratch = NSTemporaryDirectory() + "hotfolder-sheet-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var arguments: [String] = []
        var filters: [String] = []
        for (index, tile) in tiles.enumerated() {
            arguments += ["-i", tile.image]
            var chain = "[\(index):v]scale=\(width):\(height):force_original_aspect_ratio=decrease,"
                + "pad=\(width):\(height):(ow-iw)/2:(oh-ih)/2:color=0x101418,setsar=1"
            if let fontFile, band > 0 {
                // The name goes through a file with expansion off, so no character of it is read as filter syntax.
                let textFile = scratch + "/\(index).txt"
                try Data(Self.fit(tile.label, characters: 34).utf8).write(to: URL(fileURLWithPath: textFile))
                chain += ",pad=\(width):\(height + band):0:0:color=0x101418"
                    + ",drawtext=fontfile=\(Self.filterEscape(fontFile)):textfile=\(Self.filterEscape(textFile)):expansion=none"
                    + ":fontcolor=white:fontsize=16:x=(w-text_w)/2:y=\(height)+(\(band)-text_h)/2"
            }
            filters.append(chain + ",format=yuvj420p[t\(index)]")
        }
        // Blank tiles fill the last row, so `tile` emits its frame without waiting for more.
        let blanks = columns * rows - tiles.count
        var inputs = (0..<tiles.count).map { "[t\($0)]" }
        for blank in 0..<blanks {
            filters.append("color=c=0x101418:s=\(width)x\(height + band):d=1,trim=end_frame=1,format=yuvj420p[b\(blank)]")
            inputs.append("[b\(blank)]")
        }
        filters.append(inputs.joined() + "concat=n=\(inputs.count):v=1:a=0,tile=\(columns)x\(rows):padding=4:margin=4:color=0x000000")
        arguments += ["-filter_complex", filters.joined(separator: ";"), "-frames:v", "1", "-q:v", "5", "-f", "image2", "-c:v", "mjpeg"]
        try run(arguments, output: output)
    }

    // MARK: - Running ffmpeg

    /// Runs ffmpeg with `arguments` and `output` (a temp name, renamed into place when ffmpeg succeeds).
    func run(_ arguments: [String], output: String) throws {
        guard let ffmpegPath else { throw Failure.noFFmpeg }
        let directory = (output as NSString).deletingLastPathComponent
        let ext = (output as NSString).pathExtension.isEmpty ? "jpg" : (output as NSString).pathExtension
        let temporary = directory + "/." + (output as NSString).lastPathComponent + ".tmp-\(TemporaryFiles.mark)\(UUID().uuidString.prefix(6)).\(ext)"
        defer { unlink(temporary) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ffmpegPath)
        process.arguments = ["-hide_banner", "-loglevel", "error", "-nostdin", "-y"] + arguments + [temporary]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let deadline = DispatchTime.now() + timeout
        let done = DispatchSemaphore(value: 0)
        // Read stderr while ffmpeg runs, so a chatty failure cannot fill the pipe and stall it.
        let reader = ErrorCollector()
        DispatchQueue.global().async {
            reader.data = errors.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }
        if done.wait(timeout: deadline) == .timedOut { process.terminate() }
        process.waitUntilExit()
        let stderr = String(decoding: reader.data, as: UTF8.self)
        let size = (try? FileManager.default.attributesOfItem(atPath: temporary)[.size] as? Int) ?? 0
        guard process.terminationStatus == 0, size > 0 else {
            throw Failure.ffmpegFailed(path: output, status: process.terminationStatus, stderr: stderr)
        }
        guard rename(temporary, output) == 0 else {
            throw Failure.ffmpegFailed(path: output, status: 0, stderr: "cannot rename the file into place: \(String(cString: strerror(errno)))")
        }
    }

    /// Holds what the reader thread collected (read after it signalled).
    private final class ErrorCollector: @unchecked Sendable {
        var data = Data()
    }

    /// A value for a filter option: `\`, `'`, `:` and `,` escaped (paths we make, and the configured font).
    static func filterEscape(_ text: String) -> String {
        var result = ""
        for character in text {
            if "\\':,;[]=".contains(character) { result += "\\" }
            result.append(character)
        }
        return result
    }

    /// `text` cut to `characters` with `…`.
    static func fit(_ text: String, characters: Int) -> String {
        text.count <= characters ? text : String(text.prefix(characters - 1)) + "…"
    }

    /// The first executable called `name` on PATH.
    public static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// DejaVu Sans where Debian's `fonts-dejavu-core` puts it; nil when it is not installed.
    public static func defaultFontFile() -> String? {
        ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf"]
            .first(where: FileManager.default.fileExists)
    }
}
