// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// The typed, validated settings of one job, merged from all layers by precedence.
public struct ResolvedSettings: Sendable, Hashable {
    /// A written value with the layer it came from.
    public struct Sourced: Sendable, Hashable {
        /// The value as written.
        public var value: RawSetting
        /// The layer's source label.
        public var source: String
    }

    /// Every setting that some layer set, after precedence.
    public var effective: [SettingKey: Sourced] = [:]
    /// The model.
    public var model: SeedanceModel = .fast
    /// Seconds, 2–12.
    public var duration = 5
    /// Output aspect ratio.
    public var aspectRatio: AspectRatio = .wide
    /// Output resolution.
    public var resolution: Resolution = .p720
    /// The seed, nil when random.
    public var seed: Int64?
    /// Explicit seeds, one job each.
    public var seeds: [Int64]?
    /// How many jobs with distinct seeds to make, 1–8.
    public var variants = 1
    /// The prompt from settings (a prompt file is applied as its own layer), untrimmed.
    public var prompt: String?
    /// Text put before the prompt.
    public var promptPrefix = ""
    /// Text put after the prompt.
    public var promptSuffix = ""
    /// Output base name, when set.
    public var outputName: String?
    /// Higher runs first.
    public var priority = 0
    /// Ark's `service_tier`: `flex` runs offline at about half the price (nil: the default tier).
    public var serviceTier: String?
    /// Ark's `execution_expires_after` in seconds (how long a task may wait to run), when set.
    public var executionExpiresAfter: Int?

    /// The price factor of Ark's offline tier (`service_tier: flex`), per `spec/seedance-api.md`.
    public static let flexPriceFactor = 0.5

    /// The largest number of variants one job may ask for.
    public static let maxVariants = 8
    static let seedRange: ClosedRange<Int64> = -1...4_294_967_295

    /// The source label of a setting ("built-in" when no layer set it).
    public func source(of key: SettingKey) -> String { effective[key]?.source ?? "built-in" }

    /// Merges layers (lowest precedence first) and validates every value.
    ///
    /// Invalid values are reported and replaced by the built-in default, so later rules still run.
    public static func resolve(_ layers: [SettingsLayer]) -> (ResolvedSettings, [DropProblem]) {
        var settings = ResolvedSettings()
        for layer in layers {
            for (key, value) in layer.values { settings.effective[key] = Sourced(value: value, source: layer.source) }
        }
        var problems: [DropProblem] = []
        func scalar(_ key: SettingKey) -> (String, String)? {
            guard let sourced = settings.effective[key] else { return nil }
            switch sourced.value {
            case .scalar(let text): return (text.trimmingCharacters(in: .whitespaces), sourced.source)
            case .list, .block:
                // Text settings too: `prompt_prefix: [1, 2]` is a mistake, not two words to join.
                problems.append(.wrongType(file: sourced.source, key: key.rawValue, value: sourced.value.text,
                    expected: key.expectedForm))
                return nil
            }
        }
        func fail(_ key: SettingKey, _ value: String, _ file: String, _ expected: String) {
            problems.append(.invalidValue(file: file, key: key, value: value, expected: expected))
        }

        if let (text, file) = scalar(.model) {
            if let model = SeedanceModel(setting: text) { settings.model = model } else {
                fail(.model, text, file, "use `fast` (quick previews) or `quality` (better, the only one with last frames)")
            }
        }
        if let (text, file) = scalar(.duration) {
            if let value = Int(text.lowercased().hasSuffix("s") ? String(text.dropLast()) : text), (2...12).contains(value) {
                settings.duration = value
            } else {
                fail(.duration, text, file, "use a whole number of seconds from 2 to 12, e.g. `duration: 5`")
            }
        }
        if let (text, file) = scalar(.aspectRatio) {
            if let ratio = AspectRatio(rawValue: text) { settings.aspectRatio = ratio } else {
                fail(.aspectRatio, text, file,
                    "use one of " + AspectRatio.allCases.map { "`\($0.rawValue)`" }.joined(separator: ", ")
                        + " (in YAML, write it in quotes: `aspect_ratio: \"16:9\"`)")
            }
        }
        if let (text, file) = scalar(.resolution) {
            let lower = text.lowercased()
            if let value = Resolution(rawValue: lower.hasSuffix("p") ? lower : lower + "p") {
                settings.resolution = value
            } else {
                fail(.resolution, text, file, "use `480p`, `720p` or `1080p`")
            }
        }
        if let (text, file) = scalar(.seed) {
            if let value = Int64(text), seedRange.contains(value) {
                settings.seed = value == -1 ? nil : value
            } else {
                fail(.seed, text, file, "use a whole number from -1 (random) to 4294967295")
            }
        }
        if let (text, file) = scalar(.variants) {
            if let value = Int(text), (1...maxVariants).contains(value) { settings.variants = value } else {
                fail(.variants, text, file, "use a whole number from 1 to \(maxVariants)")
            }
        }
        if let sourced = settings.effective[.seeds] {
            let items: [String]
            switch sourced.value {
            case .scalar(let text): items = SettingsLayer.splitList(text)
            case .list(let list): items = list
            case .block: items = []
            }
            let values = items.compactMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
            if case .block = sourced.value {
                problems.append(.wrongType(file: sourced.source, key: SettingKey.seeds.rawValue,
                    value: sourced.value.text, expected: SettingKey.seeds.expectedForm))
            } else if values.count != items.count || values.isEmpty || !values.allSatisfy({ seedRange.contains($0) && $0 != -1 }) {
                fail(.seeds, sourced.value.text, sourced.source, "list whole numbers from 0 to 4294967295, e.g. `seeds: [1, 2, 3]`")
            } else if values.count > maxVariants {
                fail(.seeds, sourced.value.text, sourced.source, "list at most \(maxVariants) seeds")
            } else if Set(values).count != values.count {
                problems.append(.seedsConflict(file: sourced.source, reason: "the seeds \(sourced.value.text) repeat a value; each variant needs its own seed"))
            } else {
                settings.seeds = values
                // Only the same file saying both is a contradiction; otherwise the seed list wins.
                if let variants = settings.effective[.variants], variants.source == sourced.source,
                    settings.variants != values.count
                {
                    problems.append(.seedsConflict(file: sourced.source,
                        reason: "`variants` is \(variants.value.text) (from \(variants.source)) but \(values.count) seeds are listed; remove `variants` or list one seed per variant"))
                }
                settings.variants = values.count
            }
        }
        if let (text, _) = scalar(.prompt) { settings.prompt = text }
        if let (text, _) = scalar(.promptPrefix) { settings.promptPrefix = text }
        if let (text, _) = scalar(.promptSuffix) { settings.promptSuffix = text }
        if let (text, file) = scalar(.outputName), !text.isEmpty {
            let bad = text.contains("/") || text.contains("\\") || text.hasPrefix(".") || text.count > 200
                || text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
            if bad {
                fail(.outputName, text, file, "use a plain file name without `/`, `\\` or a leading dot, at most 200 characters")
            } else {
                settings.outputName = text
            }
        }
        if let (text, file) = scalar(.priority) {
            let named = ["low": -10, "normal": 0, "high": 10, "urgent": 20]
            if let value = Int(text) ?? named[text.lowercased()], (-1000...1000).contains(value) {
                settings.priority = value
            } else {
                fail(.priority, text, file, "use `low`, `normal`, `high`, `urgent` or a whole number from -1000 to 1000 (higher runs first)")
            }
        }
        if let (text, file) = scalar(.serviceTier) {
            switch text.lowercased() {
            case "default": settings.serviceTier = nil
            case "flex": settings.serviceTier = "flex"
            default: fail(.serviceTier, text, file, "use `default` or `flex` (Ark's offline tier: about half the price, runs when capacity is free)")
            }
        }
        if let (text, file) = scalar(.executionExpiresAfter) {
            if let value = Int(text.lowercased().hasSuffix("s") ? String(text.dropLast()) : text), (3600...259_200).contains(value) {
                settings.executionExpiresAfter = value
            } else {
                fail(.executionExpiresAfter, text, file, "use a whole number of seconds from 3600 (1 h) to 259200 (3 days), e.g. `execution_expires_after: 86400`")
            }
        }
        return (settings, problems)
    }

    /// The seed of each variant: explicit seeds, or `seed`, `seed + 1`, …, or seeds derived from the job
    /// name so that a plan is repeatable. A single job without a seed stays random (nil).
    public func variantSeeds(jobName: String) -> [Int64?] {
        if let seeds { return seeds }
        if variants == 1 { return [seed] }
        let modulus: Int64 = 4_294_967_296
        var base: Int64
        if let seed { base = seed } else {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
            for byte in jobName.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            base = Int64(hash % UInt64(modulus))
        }
        return (0..<variants).map { index in
            base = base % modulus
            defer { base += 1 }
            return base
        }
    }
}
