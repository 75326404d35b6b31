// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

/// Storyboard clips joined into one film by the installed ffmpeg.
@Suite struct VideoJoinerTests {
    static func probe(_ path: String) -> (width: Int, height: Int, seconds: Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height:format=duration", "-of", "default=nw=1", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try? process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        return (Int(values["width"] ?? "") ?? 0, Int(values["height"] ?? "") ?? 0, Double(values["duration"] ?? "") ?? 0)
    }

    @Test func clipsOfOneSizeAreJoinedByStreamCopy() throws {
        let folder = try TemporaryDirectory("join-copy")
        try PosterMakerTests.video(folder.file("a.mp4"), seconds: 1, size: "640x360")
        try PosterMakerTests.video(folder.file("it's b.mp4"), seconds: 2, size: "640x360")
        let method = try VideoJoiner().join([folder.file("a.mp4"), folder.file("it's b.mp4")], into: folder.file("film.mp4"))
        #expect(method == .copied)
        let film = Self.probe(folder.file("film.mp4"))
        #expect(film.width == 640 && abs(film.seconds - 3) < 0.3, "\(film)")
        #expect(folder.listing() == ["a.mp4", "film.mp4", "it's b.mp4"], "no list or temporary file is left")
    }

    @Test func clipsOfDifferentSizesAreReencodedToTheFirstClipsSize() throws {
        let folder = try TemporaryDirectory("join-encode")
        try PosterMakerTests.video(folder.file("a.mp4"), seconds: 1, size: "640x360")
        try PosterMakerTests.video(folder.file("b.mp4"), seconds: 1, size: "480x480")
        let method = try VideoJoiner().join([folder.file("a.mp4"), folder.file("b.mp4")], into: folder.file("film.mp4"))
        #expect(method == .reencoded)
        let film = Self.probe(folder.file("film.mp4"))
        #expect(film.width == 640 && film.height == 360 && abs(film.seconds - 2) < 0.3, "\(film)")
    }

    @Test func aMissingClipIsAClearError() throws {
        let folder = try TemporaryDirectory("join-missing")
        try PosterMakerTests.video(folder.file("a.mp4"), seconds: 1)
        #expect(throws: PosterMaker.Failure.self) {
            try VideoJoiner().join([folder.file("a.mp4"), folder.file("gone.mp4")], into: folder.file("film.mp4"))
        }
        #expect(!FileManager.default.fileExists(atPath: folder.file("film.mp4")))
    }
}
