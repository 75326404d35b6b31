// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// Size limits that keep a hostile or broken file from exhausting memory.
public struct DropLimits: Sendable, Hashable {
    /// Largest prompt file read (bigger ones are rejected unread).
    public var promptBytes = 64 * 1024
    /// Largest sidecar, settings or `_defaults` file.
    public var settingsBytes = 1024 * 1024
    /// Largest CSV/JSONL manifest.
    public var manifestBytes = 16 * 1024 * 1024
    /// Largest image the API accepts (20 MB).
    public var imageBytes: Int64 = 20_000_000
    /// Bytes read from the start of an image to find its size (JPEGs with huge metadata read more).
    public var imageHeaderBytes = 64 * 1024
    /// Bytes read from the end of an image to check that it is complete (its end marker is there).
    public var imageTailBytes = 4 * 1024
    /// How many folders deep a job's files may be (a file in the inbox root is at level 0); files further
    /// down make an invalid job that says to move them up, so a runaway tree is never planned.
    public var maxFolderDepth = 32

    /// The default limits.
    public init() {}
}

/// The video APIs hotfolder talks to; their contracts differ in what they accept.
public enum VideoProvider: String, Sendable, Hashable, Codable, CaseIterable {
    /// The Seedance gateway: text, first frame, first + last frame, a reference image (not at 1080p).
    case gateway
    /// Volcengine/BytePlus Ark: its 1.0 pro models take text, a first frame, first + last frame (pro only), and
    /// no reference image.
    case ark
}

/// How file names written by design tools are read when files are grouped into jobs.
public enum ExportNames: String, Sendable, Hashable, CaseIterable, Codable {
    /// A scale suffix (`@2x`, `@3x`, `@0.5x`, as Figma and Sketch add) is not part of the name.
    case auto
    /// Names are taken as written.
    case literal

    /// `hero@2x.png` → (`hero`, 2, `png`); `hero@0.5x.first.png` → (`hero`, 0.5, `first.png`); nil without a suffix.
    public static func scaleSuffix(_ name: String) -> (stem: String, scale: Double, rest: String)? {
        guard let at = name.lastIndex(of: "@"), at != name.startIndex else { return nil }
        let stem = name[..<at]
        guard !stem.contains(".") else { return nil }
        let tail = name[name.index(after: at)...]
        guard let x = tail.firstIndex(where: { $0 == "x" || $0 == "X" }) else { return nil }
        let number = tail[..<x]
        let after = tail[tail.index(after: x)...]
        guard let scale = Double(number), scale > 0, number.allSatisfy({ $0.isNumber || $0 == "." }),
            after.hasPrefix("."), after.count > 1
        else { return nil }
        return (String(stem), scale, String(after.dropFirst()).lowercased())
    }

    /// `@2x`, as written in messages.
    static func suffix(_ scale: Double) -> String {
        scale == scale.rounded() ? "@\(Int(scale))x" : "@\(scale)x"
    }
}

/// Everything a planning run depends on besides the inbox itself.
public struct PlannerOptions: Sendable {
    /// The service config's settings layer, values as written (`"5"`, `"16:9"`, `"quality"`).
    public var config: [String: String]
    /// How the config layer is named in provenance (`config`, or the config file's path).
    public var configSource: String
    /// Prices per model.
    public var prices: PriceTable
    /// Seconds an image may wait for its prompt before the job becomes invalid (default 600).
    public var orphanTimeout: TimeInterval
    /// The name shown for the inbox root in file names and sources (`inbox/portrait/_defaults.yaml`).
    public var inboxLabel: String
    /// Read limits.
    public var limits: DropLimits
    /// The API the jobs go to: what it accepts is checked before anything is sent.
    public var provider: VideoProvider = .gateway
    /// How names written by design tools are read (`export_names`): `auto` groups `hero@2x.png` with `hero.txt`.
    public var exportNames: ExportNames = .auto
    /// Seconds an image sequence must go without a new frame before it becomes a job (a renderer is still writing).
    public var sequenceSettle: TimeInterval = 30
    /// What to do with an image larger than the API takes (`image_fit`).
    public var imageFit: ImageFit = .downscale

    /// Creates options; every argument has a sensible default.
    public init(
        config: [String: String] = [:], configSource: String = "config", prices: PriceTable = .default,
        orphanTimeout: TimeInterval = 600, inboxLabel: String = "inbox", limits: DropLimits = DropLimits()
    ) {
        self.config = config
        self.configSource = configSource
        self.prices = prices
        self.orphanTimeout = orphanTimeout
        self.inboxLabel = inboxLabel
        self.limits = limits
    }
}
