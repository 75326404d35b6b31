// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

/// Which jobs hold which inputs: an input shared by several jobs stays held until the last one lets go.
@Suite struct InputHoldersTests {
    static func identity(_ inode: UInt64) -> FileIdentity {
        FileIdentity(device: 1, inode: inode, size: 10, mtimeNanoseconds: 5)
    }

    @Test func anInputHeldByOneJobIsReleasedWithIt() {
        var holders = InputHolders()
        let job = UUID()
        holders.insert(job, holding: Self.identity(1))
        holders.insert(job, holding: Self.identity(2))
        #expect(holders.isHeld(Self.identity(1)))
        #expect(holders.jobs(holding: Self.identity(1)) == [job])
        #expect(holders.count == 2)
        holders.release(jobID: job)
        #expect(!holders.isHeld(Self.identity(1)))
        #expect(holders.jobs(holding: Self.identity(2)).isEmpty)
        #expect(holders.count == 0)
    }

    @Test func aSharedInputStaysHeldUntilTheLastJobLetsGo() {
        var holders = InputHolders()
        let (manifest, rowA, rowB) = (Self.identity(1), UUID(), UUID())
        let rowC = UUID()
        holders.insert(rowA, holding: manifest)
        holders.insert(rowB, holding: manifest)
        holders.insert(rowC, holding: manifest)
        holders.insert(rowB, holding: manifest)  // the same job twice counts once
        #expect(holders.jobs(holding: manifest) == [rowA, rowB, rowC])
        holders.release(jobID: rowB)
        #expect(holders.jobs(holding: manifest) == [rowA, rowC])
        holders.release(jobID: rowA)
        #expect(holders.jobs(holding: manifest) == [rowC])
        holders.insert(rowA, holding: manifest)
        #expect(holders.jobs(holding: manifest) == [rowA, rowC])
        holders.release(jobID: rowC)
        holders.release(jobID: rowA)
        #expect(!holders.isHeld(manifest))
    }

    @Test func releasingAJobLeavesOtherInputsAlone() {
        var holders = InputHolders()
        let (a, b) = (UUID(), UUID())
        holders.insert(a, holding: Self.identity(1))
        holders.insert(b, holding: Self.identity(2))
        holders.release(jobID: UUID())
        #expect(holders.count == 2)
        holders.release(jobID: a)
        #expect(holders.jobs(holding: Self.identity(2)) == [b])
        #expect(holders.count == 1)
    }

    @Test func removingAnInputForgetsEveryHolder() {
        var holders = InputHolders()
        let shared = Self.identity(1)
        holders.insert(UUID(), holding: shared)
        holders.insert(UUID(), holding: shared)
        holders.remove(shared)
        #expect(!holders.isHeld(shared))
        #expect(holders.count == 0)
    }
}
