// SPDX-License-Identifier: GPL-2.0-or-later

/// Output resolutions Seedance 1.0 accepts.
public enum Resolution: String, Sendable, CaseIterable, Codable {
    case p480 = "480p"
    case p720 = "720p"
    case p1080 = "1080p"
}

/// Output aspect ratios Seedance 1.0 accepts.
public enum AspectRatio: String, Sendable, CaseIterable, Codable {
    case wide = "16:9"
    case tall = "9:16"
    case square = "1:1"
    case classic = "4:3"
    case classicTall = "3:4"
    case ultraWide = "21:9"
}

/// The pixel size of a Seedance 1.0 output video (`spec/seedance-api.md` §6).
public struct VideoSize: Sendable, Hashable, Codable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int

    /// Creates a size.
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Frames per second of every Seedance 1.0 output.
    public static let framesPerSecond = 24

    /// The output size for a resolution and aspect ratio.
    public static func of(_ resolution: Resolution, _ ratio: AspectRatio) -> VideoSize {
        let table: [Resolution: [AspectRatio: (Int, Int)]] = [
            .p480: [
                .wide: (864, 480), .classic: (736, 544), .square: (640, 640),
                .classicTall: (544, 736), .tall: (480, 864), .ultraWide: (960, 416),
            ],
            .p720: [
                .wide: (1248, 704), .classic: (1120, 832), .square: (960, 960),
                .classicTall: (832, 1120), .tall: (704, 1248), .ultraWide: (1504, 640),
            ],
            .p1080: [
                .wide: (1920, 1088), .classic: (1664, 1248), .square: (1440, 1440),
                .classicTall: (1248, 1664), .tall: (1088, 1920), .ultraWide: (2176, 928),
            ],
        ]
        let (w, h) = table[resolution]![ratio]!
        return VideoSize(width: w, height: h)
    }

    /// Output tokens billed for a clip of this size: width × height × 24 fps × seconds / 1024.
    public func tokens(durationSeconds: Int) -> Int {
        width * height * VideoSize.framesPerSecond * durationSeconds / 1024
    }
}
