// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// Turns the bytes of a prompt file into prompt text, or says why they are not a usable prompt.
public enum PromptText {
    /// The longest prompt (in characters, prefix and suffix included) the planner accepts.
    public static let maxCharacters = 2000

    /// Decodes UTF-8 (dropping a byte-order mark), rejects binary data and trims surrounding white space.
    ///
    /// Returns nil when the bytes are not text: invalid UTF-8, or control characters other than tab, line
    /// feed and carriage return (NUL bytes are the usual sign of a binary file renamed to `.txt`).
    public static func decode(_ bytes: [UInt8]) -> String? {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        guard let text = String(validating: body, as: UTF8.self) else { return nil }
        let binary = text.unicodeScalars.contains { scalar in
            (scalar.value < 0x20 && scalar != "\n" && scalar != "\r" && scalar != "\t") || scalar.value == 0x7F
        }
        return binary ? nil : text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Joins prefix, prompt and suffix with single spaces, skipping empty parts.
    public static func compose(prefix: String, prompt: String, suffix: String) -> String {
        [prefix, prompt, suffix].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }
}
