// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import SeedanceEmulator
import Testing

/// Emulator videos are real MP4s with the size, frame rate and duration asked for (checked with ffprobe).
@Suite(.serialized) struct VideoRenderingTests {
    static let ffprobe = findTool("ffprobe")
    static let ffmpeg = findTool("ffmpeg")

    static func findTool(_ name: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
            .map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// width, height, frame rate, duration of the first video stream.
    static func probe(_ data: Data) throws -> (Int, Int, String, Double) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(UUID().uuidString).mp4")
        try data.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let output = try run(ffprobe!, ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height,r_frame_rate:format=duration", "-of", "default=noprint_wrappers=1", file.path])
        var values: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let pair = line.split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 { values[pair[0]] = pair[1] }
        }
        return (Int(values["width"] ?? "") ?? 0, Int(values["height"] ?? "") ?? 0, values["r_frame_rate"] ?? "", Double(values["duration"] ?? "") ?? 0)
    }

    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    private func video(_ client: RawClient, _ body: [String: Any]) async throws -> Data {
        let created = try await client.send(.POST, "/v1/videos/generations", json: body)
        let id = try #require(((created.json["data"] as? [[String: Any]])?.first)?["task_id"] as? String)
        let status = try await client.send(.GET, "/v1/tasks/\(id)")
        let video = try #require(((status.data["result"] as? [String: Any])?["videos"] as? [[String: Any]])?.first)
        let answer = try await client.send(.GET, try #require((video["url"] as? [String])?.first))
        #expect(answer.status == 200)
        return answer.body
    }

    @Test func textToVideoHasTheAskedSize() async throws {
        guard Self.ffprobe != nil, Self.ffmpeg != nil else {
            print("VideoRenderingTests: skipped, ffmpeg/ffprobe not on PATH (scripts/setup.sh installs them)")
            return
        }
        try await RawClient.with({ $0.videoSource = .automatic }) { emulator, client in
            #expect(emulator.videoSource == "ffmpeg")
            let body: [String: Any] = [
                "model": "doubao-seedance-1-0-pro-fast", "prompt": "A red fox runs through 100% fresh snow, \"quoted\": yes",
                "duration": 2, "resolution": "480p", "aspect_ratio": "9:16",
            ]
            let data = try await video(client, body)
            let (width, height, rate, duration) = try Self.probe(data)
            #expect(width == 480 && height == 864)
            #expect(rate == "24/1")
            #expect(abs(duration - 2) < 0.1)
            // Same prompt and size: served from the render cache.
            _ = try await video(client, body)
            #expect(emulator.stats.videosRendered == 1 && emulator.stats.videosServed == 2)
        }
    }

    @Test func firstToLastFrame() async throws {
        guard let ffmpeg = Self.ffmpeg, Self.ffprobe != nil else {
            print("VideoRenderingTests: skipped, ffmpeg/ffprobe not on PATH (scripts/setup.sh installs them)")
            return
        }
        try await RawClient.with({ $0.videoSource = .automatic }) { _, client in
            var urls: [String] = []
            for color in ["red", "blue"] {
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(color)-\(UUID().uuidString).png")
                _ = try Self.run(ffmpeg, ["-v", "error", "-y", "-f", "lavfi", "-i", "color=\(color):s=400x300", "-frames:v", "1", file.path])
                defer { try? FileManager.default.removeItem(at: file) }
                let (body, type) = RawClient.multipart(bytes: try Data(contentsOf: file))
                urls.append(try #require(try await client.send(.POST, "/v1/uploads/images", body: body, contentType: type).json["url"] as? String))
            }
            let data = try await video(
                client,
                [
                    "model": "doubao-seedance-1-0-pro-quality", "prompt": "Red to blue", "duration": 2, "resolution": "480p",
                    "aspect_ratio": "4:3",
                    "image_with_roles": [["url": urls[0], "role": "first_frame"], ["url": urls[1], "role": "last_frame"]],
                ])
            let (width, height, rate, duration) = try Self.probe(data)
            #expect(width == 736 && height == 544 && rate == "24/1" && abs(duration - 2) < 0.1)
        }
    }

    @Test func bundledVideoWithoutFFmpeg() async throws {
        try await RawClient.with({ $0.videoSource = .bundled }) { emulator, client in
            #expect(emulator.videoSource == "bundled")
            let data = try await video(client, ["model": "doubao-seedance-1-0-pro-fast", "prompt": "x"])
            #expect(data.count > 1000 && data.count < 10_000)
            #expect(data[4..<8] == Data("ftyp".utf8))
        }
    }
}
