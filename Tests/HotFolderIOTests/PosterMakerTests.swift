// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

/// Posters beside real MP4s, and the report's contact sheet, made by the installed ffmpeg.
@Suite struct PosterMakerTests {
    /// Makes a real MP4 (ffmpeg's test pattern) of `seconds` at `size`.
    static func video(_ path: String, seconds: Int = 2, size: String = "640x360") throws {
        let ffmpeg = try #require(PosterMaker.findExecutable("ffmpeg"), "ffmpeg is not installed: run scripts/setup.sh")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ffmpeg)
        process.arguments = [
            "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc=size=\(size):rate=24:duration=\(seconds)",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path,
        ]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "ffmpeg could not make the test video")
    }

    static func header(_ path: String) throws -> ImageHeader {
        let bytes = try #require(FileManager.default.contents(atPath: path), "\(path) is missing")
        return try ImageHeader.parse(Array(bytes))
    }

    @Test func posterBesideARealVideo() throws {
        let folder = try TemporaryDirectory("poster")
        try Self.video(folder.file("sunset.mp4"), seconds: 2, size: "1280x720")
        try PosterMaker().makePoster(video: folder.file("sunset.mp4"), poster: folder.file("sunset.jpg"), durationHint: 2)
        let header = try Self.header(folder.file("sunset.jpg"))
        #expect(header.format == .jpeg)
        #expect(header.width == 640 && header.height == 360, "scaled down to 640 px wide")
        #expect(folder.listing() == ["sunset.jpg", "sunset.mp4"], "no temporary file is left")
    }

    @Test func aVideoShorterThanAnnouncedGetsItsFirstFrame() throws {
        let folder = try TemporaryDirectory("poster-short")
        try Self.video(folder.file("short.mp4"), seconds: 1, size: "320x240")
        try PosterMaker().makePoster(video: folder.file("short.mp4"), poster: folder.file("short.jpg"), durationHint: 12)
        #expect(try Self.header(folder.file("short.jpg")).width == 320)
    }

    @Test func aBrokenVideoOrNoFFmpegIsAnErrorNotACrash() throws {
        let folder = try TemporaryDirectory("poster-broken")
        try folder.write("broken.mp4", "not a video at all")
        #expect(throws: PosterMaker.Failure.self) {
            try PosterMaker().makePoster(video: folder.file("broken.mp4"), poster: folder.file("broken.jpg"), durationHint: 5)
        }
        #expect(throws: PosterMaker.Failure.noFFmpeg) {
            try PosterMaker(ffmpegPath: nil).makePoster(video: folder.file("broken.mp4"), poster: folder.file("b.jpg"), durationHint: 5)
        }
        #expect(folder.listing() == ["broken.mp4"])
    }

    @Test func contactSheetTilesEveryPosterWithItsName() throws {
        let folder = try TemporaryDirectory("sheet")
        try Self.video(folder.file("a.mp4"), seconds: 1, size: "640x360")
        let maker = PosterMaker()
        try #require(maker.fontFile != nil, "DejaVu Sans is not installed: run scripts/setup.sh (fonts-dejavu-core)")
        try maker.makePoster(video: folder.file("a.mp4"), poster: folder.file("a.jpg"), durationHint: 1)
        // Five tiles, four columns: the second row is padded with blank tiles. Names with filter syntax in them.
        let names = ["sunset", "portrait/cat", "it's: 50%, [odd]", "café ☕", "e"]
        let tiles = names.map { PosterMaker.Tile(image: folder.file("a.jpg"), label: $0) }
        try maker.makeContactSheet(tiles, columns: 4, output: folder.file("sheet.jpg"))
        let header = try Self.header(folder.file("sheet.jpg"))
        // Tiles of 320×(180+28), 4 px padding between and margin around.
        #expect(header.width == 4 * 320 + 3 * 4 + 2 * 4)
        #expect(header.height == 2 * 208 + 4 + 2 * 4)
        #expect(throws: PosterMaker.Failure.nothingToShow) { try maker.makeContactSheet([], output: folder.file("none.jpg")) }
    }
}
