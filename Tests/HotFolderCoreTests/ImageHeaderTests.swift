// SPDX-License-Identifier: GPL-2.0-or-later
import HotFolderCore
import Testing

/// Image sizes read from PNG, JPEG and WebP headers.
@Suite struct ImageHeaderTests {
    @Test(arguments: [ImageFormat.png, .jpeg, .webp])
    func minimalFilesRoundTrip(format: ImageFormat) throws {
        let header = try ImageHeader.parse(ImageHeader.minimalFile(format, width: 1920, height: 1080))
        #expect(header == ImageHeader(format: format, width: 1920, height: 1080))
    }

    @Test func webpLossyAndLossless() throws {
        var vp8: [UInt8] = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBP".utf8) + Array("VP8 ".utf8) + [0, 0, 0, 0]
        vp8 += [0, 0, 0, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01]  // 640 × 480
        #expect(try ImageHeader.parse(vp8) == ImageHeader(format: .webp, width: 640, height: 480))
        let bits = (1000 - 1) | ((700 - 1) << 14)
        var vp8l: [UInt8] = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBP".utf8) + Array("VP8L".utf8) + [0, 0, 0, 0]
        vp8l += [0x2F, UInt8(bits & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 24 & 0xFF), 0]
        #expect(try ImageHeader.parse(vp8l) == ImageHeader(format: .webp, width: 1000, height: 700))
    }

    @Test func jpegSkipsLargeMetadataSegments() throws {
        let exif: [UInt8] = [0xFF, 0xE1, 0x10, 0x00] + [UInt8](repeating: 0x41, count: 0x1000 - 2)
        let file = ImageHeader.minimalFile(.jpeg, width: 4000, height: 3000)
        let withExif = Array(file[0..<2]) + exif + Array(file[2...])
        #expect(try ImageHeader.parse(withExif) == ImageHeader(format: .jpeg, width: 4000, height: 3000))
    }

    @Test func otherFormatsAreUnsupported() {
        #expect(throws: ImageHeader.ParseError.unsupportedFormat) { try ImageHeader.parse(Array("GIF89a......".utf8)) }
        #expect(throws: ImageHeader.ParseError.damaged(.png)) {
            try ImageHeader.parse(Array(ImageHeader.minimalFile(.png, width: 1, height: 1).prefix(20)))
        }
    }
}
