// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderIO
import Testing

/// The conformance checks (StoreConformance.swift) against SQLite: two stores opened on one database file stand for
/// two nodes (SQLite serialises their writes; the lease columns behave as on PostgreSQL).
@Suite struct StoreConformanceTests {
    let directory: TemporaryDirectory
    let clock = TestClock(StoreConformance.t0)
    let a: SQLiteStateStore
    let b: SQLiteStateStore

    init() throws {
        directory = try TemporaryDirectory("store-conformance")
        a = try SQLiteStateStore(directory: directory.file("state"), clock: clock.closure)
        b = try SQLiteStateStore(directory: directory.file("state"), clock: clock.closure)
    }

    @Test func aDropInsertedTwiceMakesOneJob() async throws {
        try await StoreConformance.checkADropInsertedTwiceMakesOneJob(a, b)
    }

    @Test func concurrentClaimsAreDisjointAndComplete() async throws {
        try await StoreConformance.checkConcurrentClaimsAreDisjointAndComplete(a, b)
    }

    @Test func anExpiredLeaseIsTakenOver() async throws {
        try await StoreConformance.checkAnExpiredLeaseIsTakenOver(a, b)
    }

    @Test func aCommitWithAnOldGenerationFailsAndChangesNothing() async throws {
        try await StoreConformance.checkACommitWithAnOldGenerationFailsAndChangesNothing(a, b)
    }

    @Test func taskWritesAreFenced() async throws {
        try await StoreConformance.checkTaskWritesAreFenced(a, b)
    }

    @Test func aHeartbeatRenewsOnlyHeldJobs() async throws {
        try await StoreConformance.checkAHeartbeatRenewsOnlyHeldJobs(a, b)
    }

    @Test func theCommitStillRejectsAWrongFromState() async throws {
        try await StoreConformance.checkTheCommitStillRejectsAWrongFromState(a, b)
    }

    @Test func theNodesListShowsBothNodesWithJobsHeld() async throws {
        try await StoreConformance.checkTheNodesListShowsBothNodesWithJobsHeld(a, b)
    }

    @Test func releasingEveryJobOfADropForgetsItsKey() async throws {
        try await StoreConformance.checkReleasingEveryJobOfADropForgetsItsKey(a, b)
    }

    @Test func nodesRacingThroughTheLifecycleNeverWriteWithALostLease() async throws {
        try await StoreConformance.checkNodesRacingThroughTheLifecycleNeverWriteWithALostLease(a, b)
    }

    @Test func jobsDueAreClaimedByOneNode() async throws {
        try await StoreConformance.checkJobsDueAreClaimedByOneNode(a, b)
    }

    @Test func tasksDueAreThoseOfTheNodesJobs() async throws {
        try await StoreConformance.checkTasksDueAreThoseOfTheNodesJobs(a, b)
    }

    @Test func aDailyCapHoldsAcrossNodes() async throws {
        try await StoreConformance.checkADailyCapHoldsAcrossNodes(a, b)
    }

    @Test func takeOversAreClaimedWithoutTheQueue() async throws {
        try await StoreConformance.checkTakeOversAreClaimedWithoutTheQueue(a, b)
    }

    @Test func leavingTheWorkingStatesGivesTheLeaseBack() async throws {
        try await StoreConformance.checkLeavingTheWorkingStatesGivesTheLeaseBack(a, b)
    }

    @Test func aHalfDoneMoveIsTakenOverAfterTheLease() async throws {
        try await StoreConformance.checkAHalfDoneMoveIsTakenOverAfterTheLease(a, b)
    }

    @Test func maxInFlightHoldsAcrossNodes() async throws {
        try await StoreConformance.checkMaxInFlightHoldsAcrossNodes(a, b)
    }

    @Test func theQueuePauseIsSharedAndProbedByOneNode() async throws {
        try await StoreConformance.checkTheQueuePauseIsSharedAndProbedByOneNode(a, b)
    }

    @Test func aCleanStopGivesEveryLeaseBack() async throws {
        try await StoreConformance.checkACleanStopGivesEveryLeaseBack(a, b)
    }

    @Test func aCommitToDoneWritesOneDeliveryAndAFencedOneNone() async throws {
        try await StoreConformance.checkACommitToDoneWritesOneDeliveryAndAFencedOneNone(a, b)
    }

    @Test func twoNodesNeverTakeTheSameDelivery() async throws {
        try await StoreConformance.checkTwoNodesNeverTakeTheSameDelivery(a, b)
    }

    @Test func aFailedDeliveryComesBackAfterItsRetryTime() async throws {
        try await StoreConformance.checkAFailedDeliveryComesBackAfterItsRetryTime(a, b)
    }

    @Test func pruningRemovesOnlyOldFinishedJobsThatHoldNoInput() async throws {
        try await StoreConformance.checkPruningRemovesOnlyOldFinishedJobsThatHoldNoInput(a, b, clock: clock)
    }

    @Test func recordJobsSkipsTakenKeysAndVanishedFiles() async throws {
        try await StoreConformance.checkRecordJobsSkipsTakenKeysAndVanishedFiles(a, b)
    }

    @Test func filmsSettleByCompareAndSet() async throws {
        try await StoreConformance.checkFilmsSettleByCompareAndSet(a, b, clock: clock)
    }

    @Test func clipsMadeAreTheDoneOnesOfTheSameShot() async throws {
        try await StoreConformance.checkClipsMadeAreTheDoneOnesOfTheSameShot(a, b, clock: clock)
    }

    @Test func jobQueriesReadWhatCommitsWrote() async throws {
        try await StoreConformance.checkJobQueriesReadWhatCommitsWrote(a, b, clock: clock)
    }

    @Test func retriesAndDisposals() async throws {
        try await StoreConformance.checkRetriesAndDisposals(a, b)
    }

    @Test func heldAndSharedInputs() async throws {
        try await StoreConformance.checkHeldAndSharedInputs(a, b)
    }

    @Test func dropKeysOfJobsSharingAFileLastUntilTheLastLetsGo() async throws {
        try await StoreConformance.checkDropKeysOfJobsSharingAFileLastUntilTheLastLetsGo(a, b)
    }

    @Test func filesAreHeldByPathSizeAndTimeWhateverTheirInode() async throws {
        try await StoreConformance.checkFilesAreHeldByPathSizeAndTimeWhateverTheirInode(a, b)
    }

    @Test func aStoryboardRecordedByTwoNodesMakesOneFilm() async throws {
        try await StoreConformance.checkAStoryboardRecordedByTwoNodesMakesOneFilm(a, b)
    }

    @Test func budgetRecords() async throws {
        try await StoreConformance.checkBudgetRecords(a, b)
    }

    @Test func dashboardReads() async throws {
        try await StoreConformance.checkDashboardReads(a, b, clock: clock)
    }

    @Test func stallsAreToldOncePerStall() async throws {
        try await StoreConformance.checkStallsAreToldOncePerStall(a, b, clock: clock)
    }

    /// A store shut down takes no write (`/readyz` says so); the other node's store on the same file still does.
    @Test func aShutDownStoreCannotWrite() async throws {
        #expect(await a.canWrite())
        await a.shutDown()
        #expect(await !a.canWrite())
        #expect(await b.canWrite())
    }
}
