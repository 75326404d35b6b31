// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// One clip of a storyboard film: a first-and-last-frame job from one keyframe to the next (DESIGN §2, README
/// "Storyboards"). The clips of a folder holding `storyboard.yaml` are joined into `<folder>.mp4` once all are made.
public struct StoryboardClip: Sendable, Hashable, Codable {
    /// The film's name: the storyboard folder's name (`outbox/<lane>/<film>.mp4`).
    public var film: String
    /// The storyboard folder, relative to the inbox.
    public var folder: String
    /// 1-based position of the clip in the film.
    public var index: Int
    /// How many clips the film has.
    public var count: Int
    /// The keyframes the clip starts and ends on (inbox-relative paths).
    public var from: String
    public var to: String
    /// The earlier job whose clip (same request, same keyframes' content) is reused instead of paying again.
    public var reusedFrom: UUID?

    public init(film: String, folder: String, index: Int, count: Int, from: String, to: String) {
        self.film = film
        self.folder = folder
        self.index = index
        self.count = count
        self.from = from
        self.to = to
    }
}

/// How the names of a storyboard folder are read. A pure value.
///
/// Keyframes are images named by a number only (`01.png`, `2.jpg`, `010.tiff`), in numeric order; `NN.txt` is the
/// prompt of the clip from keyframe `NN` to the next one, `prompt.txt` the prompt of every clip without its own,
/// `NN.yaml` settings for that clip only, `storyboard.yaml` settings for all of them.
public struct StoryboardLayout: Sendable, Hashable {
    /// A keyframe: its number, the stem as written and the file name.
    public struct Keyframe: Sendable, Hashable {
        public var number: Int
        public var stem: String
        public var name: String
    }

    /// The keyframes, lowest number first.
    public var keyframes: [Keyframe] = []
    /// Keyframe numbers written twice (`1.png` and `01.jpg`), with their file names.
    public var duplicates: [[String]] = []

    /// The names of a storyboard's marker file.
    public static func isMarker(_ name: String) -> Bool {
        guard let (stem, rest) = FileNameRules.split(name) else { return false }
        return stem.lowercased() == "storyboard" && ["yaml", "yml", "json"].contains(rest)
    }

    /// The number a keyframe, clip prompt or clip settings stem stands for (`01` → 1); nil for other stems.
    public static func number(_ stem: String) -> Int? {
        guard (1...9).contains(stem.count), stem.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(stem)
    }

    /// Reads the keyframes among `names` (file names of one folder) whose extension is in `imageExtensions`.
    public init(names: [String], imageExtensions: Set<String>) {
        var byNumber: [Int: [Keyframe]] = [:]
        for name in names {
            guard let (stem, rest) = FileNameRules.split(name), imageExtensions.contains(rest), let number = Self.number(stem)
            else { continue }
            byNumber[number, default: []].append(Keyframe(number: number, stem: stem, name: name))
        }
        for number in byNumber.keys.sorted() {
            let frames = byNumber[number]!.sorted { $0.name < $1.name }
            keyframes.append(frames[0])
            if frames.count > 1 { duplicates.append(frames.map(\.name)) }
        }
    }
}
