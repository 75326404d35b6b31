// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// Numbered frames as render and design tools write them (`shot_00001.png … shot_00120.png`, `shot.0001.png`,
/// `shot-001.png`): with a prompt for `shot` they make one first-and-last-frame job, from the lowest number to the
/// highest (no gaps needed). A pure value: which files of a folder form sequences.
public struct ImageSequence: Sendable, Hashable {
    /// The job name the frames share (`shot`).
    public var base: String
    /// The frames' paths, lowest number first.
    public var frames: [String]

    /// The fewest frames that make a sequence.
    public static let minimumFrames = 3

    /// One frame's name read: its base, number and the number's width as written.
    public struct Frame: Sendable, Hashable {
        public var base: String
        public var number: Int
        public var digits: Int
        /// Whether the number is zero-padded (`00001`), as renders write it.
        public var padded: Bool
    }

    /// `shot_00001.png` → (`shot`, 1, 5 digits); `shot.0001.png`, `shot-12.jpg`, `comp00042.png` (4+ digits with no
    /// separator); nil for anything else (`hero.png`, `poster_0003_Layer 2.png`, `1.png`).
    public static func frame(_ name: String, imageExtensions: Set<String>) -> Frame? {
        guard let dot = name.lastIndex(of: "."), imageExtensions.contains(name[name.index(after: dot)...].lowercased()) else { return nil }
        let stem = name[..<dot]
        let digits = stem.reversed().prefix { $0.isASCII && $0.isNumber }.count
        guard digits > 0, digits < 10, digits < stem.count else { return nil }
        let numberStart = stem.index(stem.endIndex, offsetBy: -digits)
        var base = stem[..<numberStart]
        if let last = base.last, "_.- ".contains(last) {
            base = base.dropLast()
        } else if digits < 4 {
            return nil  // `hero2.png` is a name, not a frame
        }
        guard !base.isEmpty, !base.contains("."), let number = Int(stem[numberStart...]) else { return nil }
        return Frame(base: String(base), number: number, digits: digits, padded: stem[numberStart] == "0" && digits > 1)
    }

    /// The sequences among `names` (file names of one folder): at least ``minimumFrames`` frames sharing a base,
    /// where no frame has companion files of its own (`hero_1.txt` makes `hero_1` a job: numbered artboards stay
    /// separate), and either the base has a prompt or settings file (`hasCompanion(base)`) or the numbers are
    /// zero-padded as renders write them.
    public static func find(
        in names: [String], imageExtensions: Set<String>, hasCompanion: (String) -> Bool
    ) -> [ImageSequence] {
        var byBase: [String: [(Frame, String)]] = [:]
        for name in names {
            guard let frame = frame(name, imageExtensions: imageExtensions) else { continue }
            byBase[frame.base, default: []].append((frame, name))
        }
        var result: [ImageSequence] = []
        for (base, frames) in byBase where frames.count >= minimumFrames {
            let stems = frames.map { String($0.1[..<($0.1.lastIndex(of: ".") ?? $0.1.endIndex)]) }
            guard !stems.contains(where: hasCompanion) else { continue }
            guard hasCompanion(base) || frames.allSatisfy({ $0.0.padded }) else { continue }
            let sorted = frames.sorted { ($0.0.number, $0.1) < ($1.0.number, $1.1) }
            result.append(ImageSequence(base: base, frames: sorted.map(\.1)))
        }
        return result.sorted { $0.base < $1.base }
    }
}
