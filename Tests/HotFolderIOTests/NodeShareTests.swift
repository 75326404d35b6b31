// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderIO
import Testing

/// Nodes sharing a limit without a shared counter (the status-call rate) divide it by the nodes alive: those whose
/// heartbeat is younger than the lease, as the state database lists them.
@Suite struct NodeShareTests {
    @Test func onlyNodesWithARecentHeartbeatShareTheLimit() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("node-share-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteStateStore(directory: directory)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        try await store.registerNode(name: "a", now: t0)
        try await store.registerNode(name: "b", now: t0)
        try await store.registerNode(name: "c", now: t0.addingTimeInterval(-300))  // stopped five minutes ago
        try await store.heartbeat(node: "b", now: t0.addingTimeInterval(50))
        let nodes = try await store.nodes(now: t0.addingTimeInterval(60))
        #expect(nodes.map(\.name) == ["a", "b", "c"])
        #expect(nodes.alive(at: t0.addingTimeInterval(60), lease: 60, including: "a") == 2)
        #expect(nodes.alive(at: t0.addingTimeInterval(61), lease: 60, including: "a") == 2, "a asks: it is alive")
        #expect(nodes.alive(at: t0.addingTimeInterval(111), lease: 60, including: "a") == 1, "b's heartbeat is too old")
        #expect(nodes.alive(at: t0, lease: 60, including: "new") == 3, "a node not yet listed counts itself")
        #expect([NodeStatus]().alive(at: t0, lease: 60, including: "solo") == 1)
        try store.close()
    }
}
