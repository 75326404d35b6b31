// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

/// Hostile or broken inputs are rejected with a reason, without hanging or reading them whole.
@Suite struct MaliciousInputTests {
    static let aliasBomb = """
        a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
        b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
        c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
        d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
        e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
        f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
        g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
        h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
        i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
        prompt: *i
        """

    @Test func yamlAliasBombIsRejectedQuickly() throws {
        let clock = ContinuousClock()
        var job: JobSpec?
        let elapsed = try clock.measure {
            job = try Fixture.single([("a.txt", "A"), ("a.yaml", Self.aliasBomb)])
        }
        #expect(job?.status == .invalid)
        #expect(job?.errors.first?.file == "inbox/a.yaml")
        #expect(elapsed < .seconds(2))
    }

    @Test func aliasBombAsMappingKeysDoesNotHang() throws {
        let keyBomb = """
            a: &a [x, x, x, x, x, x, x, x, x]
            b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
            c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
            d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
            ? *d
            : 1
            ? [*d]
            : 2
            """
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            let job = try Fixture.single([("a.txt", "A"), ("a.yaml", keyBomb)])
            #expect(job.status == .invalid)
        }
        #expect(elapsed < .seconds(2))
    }

    @Test func hugePromptIsRefusedWithoutReading() throws {
        var source = InMemoryDropSource()
        // Listed as 1 GB but holding no bytes: reading it would fail the test.
        source.add(entry: DropEntry(path: "huge.txt", kind: .regular, size: 1 << 30, modified: Fixture.t0))
        let job = try #require(try Fixture.plan(source).jobs.first)
        #expect(job.errors.first?.message.hasPrefix("inbox/huge.txt is 1 GB, more than the 65 KB allowed") == true)
    }

    @Test func hugeSidecarIsRefused() throws {
        var source = Fixture.inbox([("a.txt", "A")])
        source.add(entry: DropEntry(path: "a.yaml", kind: .regular, size: 2 << 20, modified: Fixture.t0))
        #expect(try Fixture.plan(source).jobs.first?.errors.first?.field == "file")
    }

    @Test(arguments: [
        (DropEntryKind.fifo, nil as SymlinkResolution?, "named pipe"),
        (.other, nil, "special file"),
        (.symlink, .outside(target: "/etc/passwd"), "outside the inbox"),
        (.symlink, .broken, "target does not exist"),
    ])
    func specialFilesAreNeverOpened(kind: DropEntryKind, link: SymlinkResolution?, phrase: String) throws {
        var source = Fixture.inbox([("a.yaml", "duration: 4")])
        source.add(entry: DropEntry(path: "a.txt", kind: kind, size: 0, modified: Fixture.t0, link: link))
        let job = try #require(try Fixture.plan(source).jobs.first)
        #expect(job.status == .invalid)
        #expect(job.errors.first?.message.contains(phrase) == true, "\(job.errors)")
    }

    @Test func linkInsideTheInboxIsFollowed() throws {
        var source = Fixture.inbox([("shared/look.png", "1280x720"), ("a.txt", "A")])
        source.add(entry: DropEntry(path: "a.png", kind: .symlink, size: 0, modified: Fixture.t0,
            link: .inside(path: "shared/look.png", kind: .regular, size: 60)))
        let job = try #require(try Fixture.plan(source).jobs.first { $0.name == "a" })
        #expect(job.status == .valid)
        #expect(job.images.first?.header?.width == 1280)
    }

    @Test func hostileJPEGSegmentsDoNotCrash() {
        // A segment length pointing far past the end, and a truncated SOF.
        #expect(throws: ImageHeader.ParseError.sizeNotFound(.jpeg)) {
            try ImageHeader.parse([0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 0x00])
        }
        #expect(throws: ImageHeader.ParseError.sizeNotFound(.jpeg)) {
            try ImageHeader.parse([0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08])
        }
        #expect(throws: ImageHeader.ParseError.damaged(.jpeg)) {
            try ImageHeader.parse([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0x12, 0x34, 0x00, 0x00])
        }
    }
}
