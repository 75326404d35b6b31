// SPDX-License-Identifier: GPL-2.0-or-later

/// The image formats the video APIs accept, recognised by their magic bytes rather than their extension.
public enum ImageContentType: String, Sendable, CaseIterable, Codable {
    case jpeg, png, webp, gif

    /// The MIME type, e.g. `image/jpeg`.
    public var mimeType: String { "image/\(rawValue)" }

    /// The usual file extension without the dot.
    public var fileExtension: String { self == .jpeg ? "jpg" : rawValue }

    /// The format the first bytes of a file announce, or nil when they match none of the four.
    public static func sniff(_ prefix: some Collection<UInt8>) -> ImageContentType? {
        let b = Array(prefix.prefix(12))
        if b.count >= 3, b[0] == 0xFF, b[1] == 0xD8, b[2] == 0xFF { return .jpeg }
        if b.count >= 8, b[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if b.count >= 6, b[0..<4].elementsEqual("GIF8".utf8), b[5] == UInt8(ascii: "a") { return .gif }
        if b.count >= 12, b[0..<4].elementsEqual("RIFF".utf8), b[8..<12].elementsEqual("WEBP".utf8) { return .webp }
        return nil
    }
}
