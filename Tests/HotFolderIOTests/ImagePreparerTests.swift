// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

/// Real ffmpeg conversions of what design tools export.
@Suite struct ImagePreparerTests {
    func make(_ folder: borrowing TemporaryFolder, _ name: String, size: String) throws -> String {
        let path = folder.path + "/" + name
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=0x336699:s=\(size)", "-frames:v", "1", path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "ffmpeg made \(name)")
        return path
    }

    @Test func aTIFFBecomesAPNGOfTheSameSize() throws {
        let folder = try TemporaryFolder()
        let tiff = try make(folder, "poster.tiff", size: "800x600")
        let made = try ImagePreparer.prepare(
            source: tiff, preparation: ImagePreparation(convertFrom: "tiff", downscale: true), into: folder.path + "/out", name: "job-first_frame")
        #expect(made.header.format == .png && made.header.width == 800 && made.header.height == 600)
        #expect(made.path.hasSuffix("/out/job-first_frame.png"))
        #expect(made.description.hasPrefix("converted from TIFF to PNG, sent as 800×600"))
    }

    @Test func anImageOver6000PixelsIsScaledDownKeepingItsShape() throws {
        let folder = try TemporaryFolder()
        let wide = try make(folder, "wide.png", size: "7000x3500")
        let made = try ImagePreparer.prepare(source: wide, preparation: ImagePreparation(downscale: true), into: folder.path, name: "wide-out")
        #expect(made.header.width == 6000 && made.header.height == 3000)
    }

    @Test func aSmallOrUnreadableImageIsRefusedWithTheReason() throws {
        let folder = try TemporaryFolder()
        let small = try make(folder, "small.bmp", size: "200x200")
        #expect(throws: VideoAPIError.self) {
            try ImagePreparer.prepare(source: small, preparation: ImagePreparation(convertFrom: "bmp"), into: folder.path, name: "small-out")
        }
        let fake = folder.path + "/fake.tiff"
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: fake))
        do {
            _ = try ImagePreparer.prepare(source: fake, preparation: ImagePreparation(convertFrom: "tiff"), into: folder.path, name: "fake-out")
            Issue.record("an unreadable file was prepared")
        } catch {
            #expect("\(error)".contains("export it as PNG or JPEG"))
        }
    }
}

/// `image_fit: pad` and `crop` for an export whose shape the API refuses (a web banner, a phone-tall story).
@Suite struct ImageReshapeTests {
    @Test func aBannerIsPaddedToTheWidestShapeAllowed() throws {
        let folder = try TemporaryFolder()
        let banner = try ImagePreparerTests().make(folder, "banner.png", size: "3000x600")
        let made = try ImagePreparer.prepare(source: banner, preparation: ImagePreparation(downscale: true, reshape: .pad), into: folder.path, name: "banner-out")
        #expect(made.header.width == 3000 && made.header.height == 1200, "\(made.header)")
        #expect(made.description.contains("padded from 3000×600"))
    }

    @Test func aTallStoryIsCroppedAroundItsCentre() throws {
        let folder = try TemporaryFolder()
        let tall = try ImagePreparerTests().make(folder, "story.png", size: "400x1200")
        let made = try ImagePreparer.prepare(source: tall, preparation: ImagePreparation(downscale: true, reshape: .crop), into: folder.path, name: "story-out")
        #expect(made.header.width == 400 && made.header.height == 1000, "\(made.header)")
        #expect(made.description.contains("cropped from 400×1200"))
    }

    @Test func anImageOfAnAllowedShapeIsLeftAsItIs() throws {
        let folder = try TemporaryFolder()
        let normal = try ImagePreparerTests().make(folder, "normal.png", size: "800x600")
        let made = try ImagePreparer.prepare(source: normal, preparation: ImagePreparation(downscale: true, reshape: .pad), into: folder.path, name: "normal-out")
        #expect(made.header.width == 800 && made.header.height == 600)
        #expect(!made.description.contains("padded"))
    }
}
