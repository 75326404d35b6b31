// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

extension StoreConformance {
    /// A daily cap holds over both nodes: reserving at the same time, they admit only what fits, the rest is refused
    /// with `budgetHold` and nothing written; a released reservation frees its room.
    static func checkADailyCapHoldsAcrossNodes(_ a: some StateStore, _ b: some StateStore) async throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let budget = BudgetRequest(
            cost: 0.4, tokens: 1000, caps: BudgetCaps(daily: 1.0), laneCaps: [], calendar: calendar)
        let jobs = try await insert(a, (1...6).map { "paid-\($0)" })
        let leasesA = try await a.claimQueued(node: "a", limit: 3, leaseFor: leaseFor, now: t0).map(\.lease)
        let leasesB = try await b.claimQueued(node: "b", limit: 3, leaseFor: leaseFor, now: t0).map(\.lease)
        var reserve = move(.ready, .submitting)
        reserve.spend = .reserve
        let submit = reserve
        let outcomes = await withTaskGroup(of: (UUID, Bool).self) { group in
            for lease in leasesA {
                group.addTask { (lease.jobID, (try? await a.commit(lease.jobID, submit, lease: lease, outputPath: nil, task: nil, budget: budget)) != nil) }
            }
            for lease in leasesB {
                group.addTask { (lease.jobID, (try? await b.commit(lease.jobID, submit, lease: lease, outputPath: nil, task: nil, budget: budget)) != nil) }
            }
            var outcomes: [UUID: Bool] = [:]
            for await (id, admitted) in group { outcomes[id] = admitted }
            return outcomes
        }
        let admitted = outcomes.filter(\.value).map(\.key)
        #expect(admitted.count == 2, "0.4 twice fits under 1.0, a third would not, whichever node asks")
        for job in jobs {
            let state = try await a.job(id: job.id)?.state
            #expect(state == (admitted.contains(job.id) ? .submitting : .ready), "a refused reservation writes nothing")
        }

        // One admitted create call is refused by the API: its reservation is released, and another job fits.
        let refused = try #require(admitted.first)
        let lease = try #require((leasesA + leasesB).first { $0.jobID == refused })
        let store: any StateStore = lease.owner == "a" ? a : b
        var back = move(.submitting, .ready)
        back.spend = .release
        try await store.commit(refused, back, lease: lease)
        let waiting = try #require((leasesA + leasesB).first { !admitted.contains($0.jobID) })
        let owner: any StateStore = waiting.owner == "a" ? a : b
        let now = try await owner.commit(waiting.jobID, submit, lease: waiting, outputPath: nil, task: nil, budget: budget)
        #expect(now.state == .submitting)
        await #expect(throws: StateStoreError.self) {
            let last = try #require((leasesA + leasesB).first { !admitted.contains($0.jobID) && $0.jobID != waiting.jobID })
            let store: any StateStore = last.owner == "a" ? a : b
            try await store.commit(last.jobID, submit, lease: last, outputPath: nil, task: nil, budget: budget)
        }
    }
}
