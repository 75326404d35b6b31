// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

/// One example drop of each kind, written by `hotfolder init` (into `examples/`) and `hotfolder demo`.
public enum ExampleDrops {
    /// Writes the examples into `folder`; returns the relative paths written.
    @discardableResult
    public static func write(into folder: String) throws -> [String] {
        let image = { (from: (UInt8, UInt8, UInt8), to: (UInt8, UInt8, UInt8)) in
            Data(PNGWriter.gradient(width: 640, height: 480, from: from, to: to))
        }
        let files: [(String, Data)] = [
            ("sunset.txt", text("A calm beach at sunset, golden light on gentle waves, slow camera pan\n")),
            ("cat.png", image((250, 200, 150), (120, 80, 60))),
            ("cat.txt", text("The cat slowly turns its head toward the camera and blinks\n")),
            ("door.first.png", image((40, 40, 60), (90, 90, 120))),
            ("door.last.png", image((240, 230, 200), (255, 255, 255))),
            ("door.txt", text("The door swings open and bright daylight floods the room\n")),
            ("door.yaml", text("# first and last frame need the quality model\nmodel: quality\nduration: 5\n")),
            ("shoe.ref.png", image((200, 30, 30), (60, 10, 10))),
            ("shoe.txt", text("A red sneaker rotating on a white turntable, studio lighting\n")),
            ("shoe.yaml", text("resolution: 720p\naspect_ratio: \"1:1\"\n")),
            ("shot-01/prompt.txt", text("Morning fog lifting over a pine forest, drone shot moving forward\n")),
            ("shot-01/first_frame.png", image((30, 70, 40), (200, 220, 210))),
            ("shot-01/settings.yaml", text("duration: 4\nresolution: 480p\n")),
            ("batch.csv", text("name,prompt,duration,aspect_ratio\nwave,Ocean waves crashing in slow motion,3,16:9\nrain,Rain drops on a window at night,3,9:16\nfire,A campfire crackling under the stars,3,1:1\n")),
            ("portrait/_defaults.yaml", text("# everything dropped into portrait/ is vertical\naspect_ratio: \"9:16\"\nresolution: 480p\n")),
            ("portrait/city.txt", text("A busy city street at night, neon reflections on wet asphalt\n")),
        ]
        for (path, data) in files {
            let full = folder + "/" + path
            try FileManager.default.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard !FileManager.default.fileExists(atPath: full) else { continue }
            try data.write(to: URL(fileURLWithPath: full))
        }
        return files.map(\.0)
    }

    private static func text(_ string: String) -> Data { Data(string.utf8) }
}
