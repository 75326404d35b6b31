// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// A setting a person may write in a config file, `_defaults.yaml`, a sidecar or a manifest column.
public enum SettingKey: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    case model
    case duration
    case aspectRatio = "aspect_ratio"
    case resolution
    case seed
    case seeds
    case variants
    case prompt
    case promptPrefix = "prompt_prefix"
    case promptSuffix = "prompt_suffix"
    case outputName = "output_name"
    case priority
    case serviceTier = "service_tier"
    case executionExpiresAfter = "execution_expires_after"

    /// What a value of this setting looks like, with an example: the fix when a file gives it a list or a
    /// nested block instead.
    public var expectedForm: String {
        switch self {
        case .model: "one word, `fast` or `quality`, e.g. `model: quality`"
        case .duration: "one whole number of seconds, e.g. `duration: 5`"
        case .aspectRatio: "one ratio in quotes, e.g. `aspect_ratio: \"16:9\"`"
        case .resolution: "one value, e.g. `resolution: 720p`"
        case .seed: "one whole number, e.g. `seed: 42` (for one video per seed, write `seeds: [1, 2, 3]`)"
        case .seeds: "a list of whole numbers, e.g. `seeds: [1, 2, 3]`"
        case .variants: "one whole number, e.g. `variants: 3`"
        case .prompt: "text, e.g. `prompt: \"A cat walks along a wall at dusk\"`"
        case .promptPrefix: "text, e.g. `prompt_prefix: \"Cinematic:\"`"
        case .promptSuffix: "text, e.g. `prompt_suffix: \"Soft evening light.\"`"
        case .outputName: "one plain file name, e.g. `output_name: sunset-final`"
        case .priority: "one value, e.g. `priority: high` or `priority: 5`"
        case .serviceTier: "one word, `default` or `flex` (Ark's offline tier), e.g. `service_tier: flex`"
        case .executionExpiresAfter: "one whole number of seconds, e.g. `execution_expires_after: 86400`"
        }
    }

    /// Orders keys by their written names, so listings are stable.
    public static func < (lhs: SettingKey, rhs: SettingKey) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Parses a written key, ignoring case and treating `-` and spaces like `_` (`Aspect-Ratio` works).
    public init?(written: String) {
        let normalized = SettingKey.normalize(written)
        guard let key = SettingKey(rawValue: normalized) else { return nil }
        self = key
    }

    static func normalize(_ written: String) -> String {
        written.trimmingCharacters(in: .whitespaces).lowercased()
            .replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: " ", with: "_")
    }

    /// The valid key closest to a misspelt one, or nil when nothing is reasonably close.
    ///
    /// A key is close when its edit distance is at most a third of its length (at least 2), or when one
    /// name starts with the other (`aspect` → `aspect_ratio`).
    public static func suggestion(for written: String, among keys: [String] = SettingKey.allCases.map(\.rawValue))
        -> String?
    {
        let normalized = normalize(written)
        guard !normalized.isEmpty else { return nil }
        var best: (key: String, distance: Int)?
        for key in keys {
            var distance = editDistance(normalized, key)
            if key.hasPrefix(normalized) || key.hasSuffix(normalized) || normalized.hasPrefix(key) { distance = min(distance, 1) }
            if distance <= max(2, key.count / 3), distance < (best?.distance ?? Int.max) {
                best = (key, distance)
            }
        }
        return best?.key
    }

    /// The Levenshtein distance between two strings (insertions, deletions, substitutions).
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
