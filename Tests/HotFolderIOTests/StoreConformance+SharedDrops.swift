// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

extension StoreConformance {
    /// Jobs that share a file (a manifest's rows, a prompt's variants) keep their drop keys while any of them still
    /// holds it: the file stays in the inbox for the others, and a node that plans it again must not make a finished
    /// row anew (and pay for it twice). Once the last one lets go, the file has left, and every one of their keys is
    /// forgotten: the same files moved back (a retry) make new jobs.
    static func checkDropKeysOfJobsSharingAFileLastUntilTheLastLetsGo(_ a: some ServiceStore, _ b: some ServiceStore) async throws {
        func row(_ name: String, inode: UInt64) -> (DropKey, NewJob) {
            var job = serviceJob(name, lane: "l", inode: inode, path: "l/shots.csv")
            job.dropKey = DropKey(job: "l/" + name, files: [DropKey.File(relativePath: "l/shots.csv", size: 10, mtimeNs: 20, sha256: "cd")])
            return (job.dropKey!, job)
        }
        let (firstKey, first) = row("row-1", inode: 301)
        let (secondKey, second) = row("row-2", inode: 301)
        #expect(try await a.recordJobs([first, second], films: [], stillThere: nil).count == 2)

        // Row 1 ends; the manifest stays in the inbox for row 2. Another node planning it again makes nothing.
        try await a.commit(first.id, failed(), lease: nil)
        try await a.finishDisposal(first.id, folder: "/failed/row-1", release: true, movedInputs: [:], lease: nil)
        var again = row("row-1", inode: 301).1
        #expect(try await b.recordJobs([again], films: [], stillThere: nil).isEmpty, "row 1's key lasts while row 2 holds the manifest")
        await #expect(throws: StateStoreError.duplicateDrop(key: firstKey.value)) {
            try await b.insertDrop(firstKey, jobs: [row("row-1", inode: 301).1])
        }

        // Row 2 ends and the manifest leaves: both keys are forgotten, and the files moved back are new drops.
        try await b.commit(second.id, failed(), lease: nil)
        try await b.finishDisposal(second.id, folder: "/failed/row-2", release: true, movedInputs: [:], lease: nil)
        again = row("row-1", inode: 302).1
        let secondAgain = row("row-2", inode: 302).1
        #expect(try await a.recordJobs([again, secondAgain], films: [], stillThere: nil).map(\.id) == [again.id, secondAgain.id])
        _ = secondKey
    }

    /// A file is known by its path, size and modification time, as every node sees it: two machines record different
    /// devices and inodes for one file of a share. The holders of a file and the inputs shared with live jobs say so.
    static func checkFilesAreHeldByPathSizeAndTimeWhateverTheirInode(_ a: some ServiceStore, _ b: some ServiceStore) async throws {
        // Node a recorded the manifest as device 7 inode 401; node b, mounting the same share, as device 9 inode 77.
        var onA = serviceJob("row-a", lane: "l", inode: 401, path: "l/shots.csv")
        var onB = serviceJob("row-b", lane: "l", inode: 77, path: "l/shots.csv")
        onB.inputs[0].identity = InputIdentity(device: 9, inode: 77, size: 10, mtimeNs: 20)
        onA.inputs.append(StoredInput(path: "l/a.png", identity: InputIdentity(device: 7, inode: 402, size: 5, mtimeNs: 20), sha256: "ab"))
        _ = try await a.recordJobs([onA], films: [], stillThere: nil)
        _ = try await b.recordJobs([onB], films: [], stillThere: nil)
        let manifest = DropKey.File(relativePath: "l/shots.csv", size: 10, mtimeNs: 20, sha256: "cd")

        #expect(try await a.inputsSharedWithLiveJobs(besides: onA.id) == ["l/shots.csv"], "b's row still needs the manifest")
        var holders = try await b.holders(of: [manifest])
        #expect(Set(holders.map(\.job)) == [onA.id, onB.id] && holders.allSatisfy(\.live))
        #expect(try await a.holders(of: [DropKey.File(relativePath: "l/shots.csv", size: 11, mtimeNs: 20, sha256: "cd")]).isEmpty, "another size: another file")
        #expect(try await a.holders(of: []).isEmpty)

        try await b.commit(onB.id, failed(), lease: nil)
        #expect(try await a.inputsSharedWithLiveJobs(besides: onA.id).isEmpty, "a finished row needs it no more")
        holders = try await a.holders(of: [manifest])
        #expect(holders.first { $0.job == onB.id }?.live == false && holders.first { $0.job == onA.id }?.live == true)
        try await b.finishDisposal(onB.id, folder: "/failed/row-b", release: true, movedInputs: [:], lease: nil)
        #expect(try await a.holders(of: [manifest]).map(\.job) == [onA.id], "given back")
    }

    /// A storyboard's clips share one drop key, their film's: two nodes recording the same storyboard (each with its
    /// own film and clip ids) make one film with all its clips, and the second node makes nothing, not even a film.
    static func checkAStoryboardRecordedByTwoNodesMakesOneFilm(_ a: some ServiceStore, _ b: some ServiceStore) async throws {
        let key = DropKey(job: "storyboard:boards/boards/tale", files: [
            DropKey.File(relativePath: "boards/tale/1.png", size: 10, mtimeNs: 20, sha256: "cd"),
            DropKey.File(relativePath: "boards/tale/2.png", size: 10, mtimeNs: 20, sha256: "cd"),
        ])
        func storyboard() -> (NewFilm, [NewJob]) {
            let film = NewFilm(name: "tale", lane: "boards", folder: "boards/tale", clips: 2)
            let clips = (1...2).map { index -> NewJob in
                var clip = serviceJob("tale-\(index)", lane: "boards", inode: 500 + UInt64(index), path: "boards/tale/\(index).png")
                (clip.filmID, clip.reuseKey, clip.dropKey) = (film.id, "reuse-\(index)", key)
                return clip
            }
            return (film, clips)
        }
        let (filmA, clipsA) = storyboard()
        let (filmB, clipsB) = storyboard()
        #expect(try await a.recordJobs(clipsA, films: [filmA], stillThere: nil).map(\.id) == clipsA.map(\.id), "one key for both clips")
        #expect(try await b.recordJobs(clipsB, films: [filmB], stillThere: nil).isEmpty, "the storyboard is a's")
        let (kept, second) = (try await b.film(id: filmA.id), try await b.film(id: filmB.id))
        #expect(kept != nil && second == nil, "no second film")
        #expect(try await b.clips(ofFilm: filmA.id).map(\.id) == clipsA.map(\.id))
        // A film whose clips are not in the call (another node holds their files) is not made on its own.
        let lone = NewFilm(name: "tale", lane: "boards", folder: "boards/tale", clips: 2)
        #expect(try await b.recordJobs([], films: [lone], stillThere: nil).isEmpty)
        #expect(try await a.film(id: lone.id) == nil, "no film without its clips")

        // Its files gone before the transaction (stillThere): nothing of it, and its key is free again.
        let other = DropKey(job: "storyboard:boards/boards/fable", files: [DropKey.File(relativePath: "boards/fable/1.png", size: 1, mtimeNs: 2, sha256: "ef")])
        var gone = serviceJob("fable-1", lane: "boards", inode: 601, path: "boards/fable/1.png")
        gone.dropKey = other
        #expect(try await a.recordJobs([gone], films: [], stillThere: { _ in false }).isEmpty)
        var back = serviceJob("fable-1", lane: "boards", inode: 602, path: "boards/fable/1.png")
        back.dropKey = other
        #expect(try await b.recordJobs([back], films: [], stillThere: nil).map(\.id) == [back.id], "the key was given back")
    }
}
