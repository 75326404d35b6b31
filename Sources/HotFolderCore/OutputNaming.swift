// SPDX-License-Identifier: GPL-2.0-or-later

/// Pure rules for the names of files the service writes: safe names, collision suffixes, variant names.
///
/// Names are stems (no extension). A desired name is first made safe with ``sanitize(_:)``; when it is taken,
/// `-2`, `-3`, … are appended (never overwriting), and variants of one job are `name-v1`, `name-v2`, ….
public enum OutputNaming {
    /// The longest stem in UTF-8 bytes, leaving room for suffixes and extensions under the 255-byte file name limit.
    public static let maxStemBytes = 200

    /// The stem used when nothing usable is left of a name.
    public static let fallbackStem = "untitled"

    /// Characters replaced by `_`: the path separator, and characters Windows/SMB shares reject.
    static let forbidden: Set<Character> = ["/", "\\", ":", "*", "?", "\"", "<", ">", "|"]

    /// Returns a stem that is safe as one file name on Linux and on shared folders.
    ///
    /// Path separators and characters SMB rejects become `_`; control characters and line breaks (newlines, tabs, DEL, C1, U+2028/9)
    /// become `_`; surrounding white space, leading dots and dashes (hidden files, command-line options) and
    /// trailing dots (dropped by Windows) are removed; the result is cut to ``maxStemBytes`` bytes at a character
    /// boundary, so never inside a UTF-8 sequence. An empty result becomes ``fallbackStem``.
    public static func sanitize(_ name: String) -> String {
        // Surrounding white space (a trailing newline from a prompt, say) goes before it could become `_`.
        let trimmed = trimTrailing(name.drop { $0.isWhitespace })
        var replaced = ""
        replaced.unicodeScalars.reserveCapacity(trimmed.unicodeScalars.count)
        for scalar in trimmed.unicodeScalars {
            let category = scalar.properties.generalCategory
            let isBreakOrControl = category == .control || category == .lineSeparator || category == .paragraphSeparator
            if isBreakOrControl || forbidden.contains(Character(scalar)) {
                replaced.unicodeScalars.append("_")
            } else {
                replaced.unicodeScalars.append(scalar)
            }
        }
        var stem = Substring(replaced)
        stem = stem.drop { $0.isWhitespace || $0 == "." || $0 == "-" }
        stem = trimTrailing(stem)
        let cut = truncate(String(stem), toBytes: maxStemBytes)
        let result = trimTrailing(Substring(cut))
        return result.isEmpty ? fallbackStem : String(result)
    }

    /// Returns the first free stem among `stem`, `stem-2`, `stem-3`, … (the stem sanitised first).
    ///
    /// `isTaken` is asked about each candidate in turn; a suffix that would pass ``maxStemBytes`` shortens the
    /// stem instead. Returns nil only if `limit` candidates are all taken.
    public static func uniqueStem(
        for desired: String, limit: Int = 100_000, isTaken: (String) throws -> Bool
    ) rethrows -> String? {
        let stem = sanitize(desired)
        if try !isTaken(stem) { return stem }
        var number = 2
        while number <= limit {
            let candidate = suffixed(stem, "-\(number)")
            if try !isTaken(candidate) { return candidate }
            number += 1
        }
        return nil
    }

    /// Returns the first stem among `stem`, `stem-2`, … that is not in `existing`.
    public static func uniqueStem(for desired: String, existing: Set<String>) -> String {
        // `existing` is finite, so one of its count + 1 first candidates is always free.
        uniqueStem(for: desired, limit: existing.count + 2) { existing.contains($0) } ?? sanitize(desired)
    }

    /// The stem of variant `index` (1-based) of a job: `name-v1`, `name-v2`, ….
    public static func variantStem(_ stem: String, index: Int) -> String {
        suffixed(sanitize(stem), "-v\(index)")
    }

    /// `stem` followed by `suffix`, shortening the stem so the whole stays within ``maxStemBytes``.
    static func suffixed(_ stem: String, _ suffix: String) -> String {
        let room = maxStemBytes - suffix.utf8.count
        return truncate(stem, toBytes: room) + suffix
    }

    /// The longest prefix of `text` made of whole characters that fits in `limit` UTF-8 bytes.
    static func truncate(_ text: String, toBytes limit: Int) -> String {
        if text.utf8.count <= limit { return text }
        var result = ""
        var used = 0
        for character in text {
            let size = character.utf8.count
            if used + size > limit { break }
            result.append(character)
            used += size
        }
        return result
    }

    static func trimTrailing(_ text: Substring) -> Substring {
        var text = text
        while let last = text.last, last.isWhitespace || last == "." {
            text.removeLast()
        }
        return text
    }
}
