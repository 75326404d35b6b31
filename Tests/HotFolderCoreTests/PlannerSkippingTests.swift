// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Synchronization
import Testing

/// A drop source that remembers which files were read.
private final class RecordingSource: DropSource {
    let base: InMemoryDropSource
    private let reads = Mutex<[String]>([])

    init(_ base: InMemoryDropSource) { self.base = base }

    var readPaths: Set<String> { Set(reads.withLock { $0 }) }

    func entries() throws -> [DropEntry] { try base.entries() }

    func read(_ path: String, maxBytes: Int) throws -> [UInt8] {
        reads.withLock { $0.append(path) }
        return try base.read(path, maxBytes: maxBytes)
    }

    func readTail(_ path: String, maxBytes: Int) throws -> (bytes: [UInt8], size: Int64) {
        reads.withLock { $0.append(path) }
        return try base.readTail(path, maxBytes: maxBytes)
    }
}

/// The service skips groups it already knows before anything of them is read.
@Suite struct PlannerSkippingTests {
    @Test func skippedGroupsAreNeitherReadNorPlanned() throws {
        let source = RecordingSource(Fixture.inbox([
            ("cat.txt", "A cat"), ("cat.png", "1280x720"), ("cat.yaml", "duration: 4"),
            ("dog.txt", "A dog"),
            ("lane/bird.txt", "A bird"),
        ]))
        var asked: [[String]] = []
        let plan = try DropPlanner().plan(source, now: Fixture.t0.addingTimeInterval(60)) { files in
            asked.append(files)
            return files.contains("cat.png")
        }
        #expect(plan.jobs.map(\.name).sorted() == ["bird", "dog"])
        // The predicate sees a group's whole file list, sorted, exactly as the job's inputs would be.
        #expect(asked.contains(["cat.png", "cat.txt", "cat.yaml"]))
        #expect(source.readPaths.isDisjoint(with: ["cat.txt", "cat.png", "cat.yaml"]))
        #expect(source.readPaths.isSuperset(of: ["dog.txt", "lane/bird.txt"]))
    }

    @Test func skippingAManifestRowsInputsSkipsOnlyThoseRows() throws {
        let csv = "name,prompt,first_frame\nwave,Waves,\nforest,Fog,forest.png\n"
        let source = Fixture.inbox([("shots.csv", csv), ("forest.png", "1280x720"), ("sun.txt", "Sun")])
        let all = try DropPlanner().plan(source, now: Fixture.t0.addingTimeInterval(60))
        #expect(all.jobs.map(\.name).sorted() == ["forest", "sun", "wave"])
        // The manifest belongs to a job already: its rows are skipped, its image does not become a group.
        let rest = try DropPlanner().plan(source, now: Fixture.t0.addingTimeInterval(60)) { $0.contains("shots.csv") }
        #expect(rest.jobs.map(\.name) == ["sun"])
        // Without a predicate nothing is skipped: the same plan as before.
        let again = try DropPlanner().plan(source, now: Fixture.t0.addingTimeInterval(60)) { _ in false }
        #expect(again.jobs.map(\.name) == all.jobs.map(\.name))
    }
}
