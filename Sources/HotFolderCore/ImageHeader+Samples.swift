// SPDX-License-Identifier: GPL-2.0-or-later

extension ImageHeader {
    /// The smallest byte sequence whose header reads as an image of this format and size.
    ///
    /// Not a displayable picture (there is no pixel data): for tests, demos and sample inboxes, where only
    /// the header matters to the planner.
    public static func minimalFile(_ format: ImageFormat, width: Int, height: Int) -> [UInt8] {
        func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func le(_ v: Int, _ count: Int) -> [UInt8] { (0..<count).map { UInt8(v >> (8 * $0) & 0xFF) } }
        switch format {
        case .png:
            return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + be32(13) + Array("IHDR".utf8) + be32(width)
                + be32(height) + [8, 2, 0, 0, 0] + be32(0) + be32(0) + Array("IEND".utf8) + [0xAE, 0x42, 0x60, 0x82]
        case .jpeg:
            let app0: [UInt8] = [0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8) + [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]
            let sof0: [UInt8] = [0xFF, 0xC0, 0x00, 0x11, 0x08, UInt8(height >> 8), UInt8(height & 0xFF),
                UInt8(width >> 8), UInt8(width & 0xFF), 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]
            return [0xFF, 0xD8] + app0 + sof0 + [0xFF, 0xD9]
        case .webp:
            let payload = [0x10, 0, 0, 0] + le(width - 1, 3) + le(height - 1, 3)
            let chunk = Array("VP8X".utf8) + le(payload.count, 4) + payload
            return Array("RIFF".utf8) + le(4 + chunk.count, 4) + Array("WEBP".utf8) + chunk
        }
    }
}
