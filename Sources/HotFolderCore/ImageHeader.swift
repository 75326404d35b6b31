// SPDX-License-Identifier: GPL-2.0-or-later

/// Image formats the API accepts, recognised by their magic bytes (never by the file extension).
public enum ImageFormat: String, Sendable, Hashable, Codable {
    case png
    case jpeg
    case webp
}

/// The format and pixel size read from an image's header.
public struct ImageHeader: Sendable, Hashable, Codable {
    /// The format the magic bytes identify.
    public var format: ImageFormat
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int

    /// Creates a header.
    public init(format: ImageFormat, width: Int, height: Int) {
        self.format = format
        self.width = width
        self.height = height
    }

    /// Why a header could not be read.
    public enum ParseError: Error, Sendable, Hashable {
        /// The magic bytes are not those of PNG, JPEG or WebP.
        case unsupportedFormat
        /// The file is one of the formats but its header is cut short or damaged.
        case damaged(ImageFormat)
        /// A JPEG whose size marker was not found in the bytes read.
        case sizeNotFound(ImageFormat)
    }

    /// Reads the format and size from the first bytes of a file.
    ///
    /// JPEG segments are walked by their length fields, with every length checked against the buffer,
    /// so a damaged or hostile file ends the walk instead of reading out of bounds.
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> ImageHeader {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return try png(bytes) }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return try jpeg(bytes) }
        if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) {
            return try webp(bytes)
        }
        throw .unsupportedFormat
    }

    private static func be32(_ b: [UInt8], _ i: Int) -> Int {
        Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
    }

    private static func png(_ b: [UInt8]) throws(ParseError) -> ImageHeader {
        // Signature (8), chunk length (4), "IHDR" (4), width (4), height (4).
        guard b.count >= 24, Array(b[12..<16]) == Array("IHDR".utf8) else { throw .damaged(.png) }
        let width = be32(b, 16)
        let height = be32(b, 20)
        guard width > 0, height > 0 else { throw .damaged(.png) }
        return ImageHeader(format: .png, width: width, height: height)
    }

    private static func jpeg(_ b: [UInt8]) throws(ParseError) -> ImageHeader {
        var i = 2
        while i + 4 <= b.count {
            guard b[i] == 0xFF else { throw .damaged(.jpeg) }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }  // fill byte
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }
            if marker == 0xD9 || marker == 0xDA { throw .sizeNotFound(.jpeg) }  // end of image / scan data
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length >= 2 else { throw .damaged(.jpeg) }
            // SOF0…SOF15 carry the size, except DHT (C4), JPG (C8) and DAC (CC).
            if (0xC0...0xCF).contains(marker), marker != 0xC4, marker != 0xC8, marker != 0xCC {
                guard i + 9 <= b.count else { throw .sizeNotFound(.jpeg) }
                let height = Int(b[i + 5]) << 8 | Int(b[i + 6])
                let width = Int(b[i + 7]) << 8 | Int(b[i + 8])
                guard width > 0, height > 0 else { throw .damaged(.jpeg) }
                return ImageHeader(format: .jpeg, width: width, height: height)
            }
            i += 2 + length
        }
        throw .sizeNotFound(.jpeg)
    }

    private static func webp(_ b: [UInt8]) throws(ParseError) -> ImageHeader {
        guard b.count >= 25 else { throw .damaged(.webp) }
        let chunk = String(decoding: b[12..<16], as: UTF8.self)
        switch chunk {
        case "VP8 ":
            guard b.count >= 30 else { throw .damaged(.webp) }
            // Frame tag (3), start code 9D 01 2A, then 14-bit width and height.
            guard b[23] == 0x9D, b[24] == 0x01, b[25] == 0x2A else { throw .damaged(.webp) }
            let width = (Int(b[26]) | Int(b[27]) << 8) & 0x3FFF
            let height = (Int(b[28]) | Int(b[29]) << 8) & 0x3FFF
            guard width > 0, height > 0 else { throw .damaged(.webp) }
            return ImageHeader(format: .webp, width: width, height: height)
        case "VP8L":
            guard b[20] == 0x2F else { throw .damaged(.webp) }
            let bits = Int(b[21]) | Int(b[22]) << 8 | Int(b[23]) << 16 | Int(b[24]) << 24
            return ImageHeader(format: .webp, width: (bits & 0x3FFF) + 1, height: ((bits >> 14) & 0x3FFF) + 1)
        case "VP8X":
            guard b.count >= 30 else { throw .damaged(.webp) }
            let width = (Int(b[24]) | Int(b[25]) << 8 | Int(b[26]) << 16) + 1
            let height = (Int(b[27]) | Int(b[28]) << 8 | Int(b[29]) << 16) + 1
            return ImageHeader(format: .webp, width: width, height: height)
        default:
            throw .damaged(.webp)
        }
    }
}
