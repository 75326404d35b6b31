// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

/// Images whose header is fine but whose end is missing (an unfinished copy) are refused before upload.
@Suite struct ImageCompletenessTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var bytes: [UInt8]
        var format: ImageFormat
        var complete: Bool
        var label: String
        var testDescription: String { label + (complete ? " (complete)" : " (truncated)") }
    }

    static let gradient = PNGWriter.gradient(width: 400, height: 300, from: (0, 0, 0), to: (255, 255, 255))
    static let jpeg = ImageHeader.minimalFile(.jpeg, width: 800, height: 600)
    /// A WebP with a 100-byte EXIF chunk after its header, counted in its RIFF size.
    static let webp: [UInt8] = {
        var bytes = ImageHeader.minimalFile(.webp, width: 800, height: 600)
        bytes[4] += 100
        return bytes + Array("EXIF".utf8) + [92, 0, 0, 0] + [UInt8](repeating: 0x45, count: 92)
    }()
    /// A JPEG whose entropy-coded data was cut off: no end-of-image marker.
    static let cutJPEG = Array(jpeg.dropLast(2)) + [0xFF, 0xDA, 0x00, 0x08] + [UInt8](repeating: 0x5A, count: 3000)

    /// An XMP segment as phones write it for a photo with a short video appended after the picture.
    static let xmp: [UInt8] = {
        let text = Array("http://ns.adobe.com/xap/1.0/\u{0}<x:xmpmeta GCamera:MicroVideo=\"1\"/>".utf8)
        return [0xFF, 0xE1, UInt8((text.count + 2) >> 8), UInt8((text.count + 2) & 0xFF)] + text
    }()

    static let cases: [Case] = [
        .init(bytes: ImageHeader.minimalFile(.png, width: 800, height: 600), format: .png, complete: true, label: "minimal PNG"),
        .init(bytes: gradient, format: .png, complete: true, label: "PNGWriter gradient"),
        .init(bytes: gradient + [UInt8](repeating: 0, count: 100), format: .png, complete: true, label: "PNG with zero padding"),
        .init(bytes: Array(gradient.prefix(gradient.count / 2)), format: .png, complete: false, label: "PNG cut in half"),
        .init(bytes: Array(gradient.dropLast(1)), format: .png, complete: false, label: "PNG missing its last byte"),
        .init(bytes: jpeg, format: .jpeg, complete: true, label: "minimal JPEG"),
        .init(bytes: jpeg + [UInt8](repeating: 0, count: 512), format: .jpeg, complete: true, label: "JPEG with zero padding"),
        .init(bytes: cutJPEG, format: .jpeg, complete: false, label: "JPEG without end marker"),
        .init(bytes: Array(jpeg.prefix(2)) + xmp + Array(cutJPEG.dropFirst(2)), format: .jpeg, complete: true,
            label: "motion photo (video appended)"),
        .init(bytes: cutJPEG + Array("SEFT".utf8), format: .jpeg, complete: true, label: "JPEG with Samsung trailer"),
        .init(bytes: ImageHeader.minimalFile(.webp, width: 800, height: 600), format: .webp, complete: true,
            label: "minimal WebP"),
        .init(bytes: webp, format: .webp, complete: true, label: "WebP with EXIF"),
        .init(bytes: webp + [0, 0], format: .webp, complete: true, label: "WebP with trailing bytes"),
        .init(bytes: Array(webp.dropLast(50)), format: .webp, complete: false, label: "WebP shorter than its RIFF size"),
    ]

    @Test(arguments: cases)
    func endOfFileDecides(image: Case) throws {
        let head = Array(image.bytes.prefix(DropLimits().imageHeaderBytes))
        #expect(try ImageHeader.parse(head).format == image.format)
        let tail = Array(image.bytes.suffix(DropLimits().imageTailBytes))
        #expect(ImageHeader.looksComplete(image.format, head: head, tail: tail, fileSize: Int64(image.bytes.count)) == image.complete)
    }

    @Test(arguments: cases)
    func plannerRefusesTruncatedImages(image: Case) throws {
        var source = Fixture.inbox([("a.txt", "A")])
        let name = "a." + (image.format == .jpeg ? "jpg" : image.format.rawValue)
        source.add(name, bytes: image.bytes)
        let job = try #require(try Fixture.plan(source).jobs.first)
        if image.complete {
            #expect(job.status == .valid, "\(job.errors)")
        } else {
            #expect(job.status == .invalid)
            #expect(job.errors.map(\.field) == ["first_frame"])
            #expect(job.errors.first?.file == "inbox/\(name)")
        }
    }

    @Test func truncatedImageMessageNamesFileAndFix() throws {
        var source = Fixture.inbox([("trunc_png.txt", "x prompt")])
        let png = Self.gradient
        source.add("trunc_png.png", bytes: Array(png.prefix(png.count / 2)))
        let job = try #require(try Fixture.plan(source).jobs.first)
        #expect(job.errors == [JobError(file: "inbox/trunc_png.png", field: "first_frame", message:
            "inbox/trunc_png.png appears truncated: it starts like a PNG image but its end is missing (a copy, download "
            + "or export that did not finish); copy it again completely or export it again.")])
    }

    @Test func onlyTheEndOfALargeImageIsRead() throws {
        // 15 MB of image: the planner reads its header and its last few kilobytes, not the middle.
        var bytes = Self.gradient
        bytes.insert(contentsOf: [UInt8](repeating: 0, count: 15_000_000), at: bytes.count - 12)
        var source = CountingSource(base: Fixture.inbox([("big.txt", "A")]))
        source.base.add("big.png", bytes: bytes)
        let job = try #require(try Fixture.plan(source).jobs.first)
        #expect(job.status == .valid, "\(job.errors)")
        #expect(source.log.largest <= DropLimits().imageHeaderBytes)
    }
}

/// An in-memory source that records the largest read it was asked for.
private struct CountingSource: DropSource {
    final class Log: @unchecked Sendable {
        var largest = 0
    }

    var base: InMemoryDropSource
    let log = Log()

    func entries() throws -> [DropEntry] { try base.entries() }

    func read(_ path: String, maxBytes: Int) throws -> [UInt8] {
        let bytes = try base.read(path, maxBytes: maxBytes)
        if path.hasSuffix(".png") { log.largest = max(log.largest, bytes.count) }
        return bytes
    }

    func readTail(_ path: String, maxBytes: Int) throws -> (bytes: [UInt8], size: Int64) {
        let tail = try base.readTail(path, maxBytes: maxBytes)
        log.largest = max(log.largest, tail.bytes.count)
        return tail
    }
}
