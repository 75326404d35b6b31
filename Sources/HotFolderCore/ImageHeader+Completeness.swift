// SPDX-License-Identifier: GPL-2.0-or-later

extension ImageHeader {
    /// The last 12 bytes of every complete PNG: the empty `IEND` chunk and its CRC.
    static let pngEnd: [UInt8] = [0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]
    /// The JPEG end-of-image marker.
    static let jpegEnd: [UInt8] = [0xFF, 0xD9]

    /// Whether an image file looks complete, judged from its first bytes, its last bytes and its size,
    /// without decoding it.
    ///
    /// A copy or download that did not finish leaves a file whose header is fine but whose end is missing:
    /// - PNG: `tail` must hold the `IEND` chunk (normally the last 12 bytes; padding after it is tolerated).
    /// - JPEG: `tail` must hold the end-of-image marker `FF D9`. Entropy-coded data never contains it, and
    ///   searching the whole tail tolerates the zero padding and short trailers that some cameras write after
    ///   it. Motion photos append a video after the picture, so they are recognised (XMP `MotionPhoto` or
    ///   `MicroVideo` in `head`, or Samsung's `SEFT` trailer) and not judged by their end.
    /// - WebP: the RIFF size in bytes 4–8 (plus the 8 bytes before it) must not exceed `fileSize`.
    ///
    /// `tail` should be a few kilobytes (``DropLimits/imageTailBytes``); `head` is what ``parse(_:)`` read.
    public static func looksComplete(_ format: ImageFormat, head: [UInt8], tail: [UInt8], fileSize: Int64) -> Bool {
        switch format {
        case .png:
            return contains(tail, pngEnd)
        case .jpeg:
            if contains(tail, jpegEnd) { return true }
            if tail.count >= 4, Array(tail.suffix(4)) == Array("SEFT".utf8) { return true }
            return contains(head, Array("MotionPhoto".utf8)) || contains(head, Array("MicroVideo".utf8))
        case .webp:
            guard head.count >= 8 else { return false }
            let riffSize = Int64(head[4]) | Int64(head[5]) << 8 | Int64(head[6]) << 16 | Int64(head[7]) << 24
            return riffSize + 8 <= fileSize
        }
    }

    /// Whether `needle` occurs in `haystack` (plain search: both are small).
    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var start = 0
        while start <= haystack.count - needle.count {
            if haystack[start] == first, haystack[start..<start + needle.count].elementsEqual(needle) { return true }
            start += 1
        }
        return false
    }
}
