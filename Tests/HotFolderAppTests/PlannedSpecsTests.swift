// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
@testable import HotFolderApp
import HotFolderCore
import HotFolderIO
import Synchronization
import Testing

/// The intake hands the descriptions it just queued to the runner (no JSON decoding per job in a burst), each once,
/// only while the stored bytes are the ones it encoded, and never more than its capacity.
@Suite struct PlannedSpecsTests {
    static func planned(_ name: String) throws -> (JobSpec, Data) {
        let spec = JobSpec(
            name: name, lane: "", mode: .textToVideo, status: .valid,
            request: GenerationRequest(model: SeedanceModel.quality.rawValue, prompt: "Prompt of \(name)", duration: 5),
            images: [], settings: [:], inputFiles: [name + ".txt"], priority: 0, outputName: name,
            estimate: CostEstimate(tokens: 1000, cost: 0.5), errors: [], newestModification: Date(timeIntervalSince1970: 0))
        return (spec, try JSONEncoder.sorted.encode(spec))
    }

    let folders: ServiceFolders
    let store: SQLiteStateStore

    init() throws {
        folders = try ServiceFolders("planned-specs")
        store = try SQLiteStateStore(directory: folders.state)
    }

    /// A job as the store gives it back, its description `json`.
    func stored(_ id: UUID, _ json: Data) throws -> StoredJob {
        if let job = try store.job(id) { return job }
        return try store.insertJob(NewJob(id: id, name: "job", specJSON: json))
    }

    @Test func aPlannedDescriptionIsTakenOnceAndOnlyWhileTheStoredBytesAreTheSame() throws {
        let specs = PlannedSpecs(capacity: 10)
        let (a, aJSON) = try Self.planned("a")
        let (b, bJSON) = try Self.planned("b")
        let (ida, idb) = (UUID(), UUID())
        specs.add(ida, json: aJSON, spec: a)
        specs.add(idb, json: bJSON, spec: b)
        #expect(specs.take(try stored(ida, aJSON))?.name == "a")
        #expect(specs.take(try stored(ida, aJSON)) == nil, "taken once: later work decodes the store's")
        // The description changed in the store since it was planned: the store's wins.
        #expect(specs.take(try stored(idb, aJSON)) == nil)  // stored with a's bytes
        #expect(specs.count == 0)
    }

    @Test func itNeverHoldsMoreThanItsCapacity() throws {
        let specs = PlannedSpecs(capacity: 3)
        let (a, json) = try Self.planned("a")
        let ids = (0..<5).map { _ in UUID() }
        for id in ids { specs.add(id, json: json, spec: a) }
        #expect(specs.count == 3)
        // The oldest are kept (the runner takes them first); the later ones decode as before.
        #expect(specs.take(try stored(ids[0], json)) != nil)
        #expect(specs.take(try stored(ids[4], json)) == nil)
    }

    /// A job that never runs here (cancelled while queued) must not keep its place for good: once full, descriptions
    /// older than the age limit make way; younger ones are kept.
    @Test func descriptionsNeverTakenMakeWayOnceOld() throws {
        let time = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        let specs = PlannedSpecs(capacity: 2, maxAge: 600, clock: { time.withLock { $0 } })
        let (a, json) = try Self.planned("a")
        let (old, young, late, later) = (UUID(), UUID(), UUID(), UUID())
        specs.add(old, json: json, spec: a)
        time.withLock { $0 += 500 }
        specs.add(young, json: json, spec: a)
        specs.add(late, json: json, spec: a)
        #expect(specs.count == 2, "full of descriptions younger than 600 s: nothing is let go")
        time.withLock { $0 += 200 }
        specs.add(later, json: json, spec: a)
        #expect(try specs.take(stored(old, json)) == nil, "700 s old: let go")
        #expect(try specs.take(stored(young, json)) != nil)
        #expect(try specs.take(stored(later, json)) != nil)
    }
}
