// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import SeedanceEmulator
import Testing

/// Ark's `GET …/tasks`: newest first, pages, filters, parameter checks.
@Suite struct ArkListTests {
    @Test func newestFirstInPages() async throws {
        try await RawClient.with({ $0.queueSeconds = 1000 }) { emulator, client in
            var ids: [String] = []
            for index in 1...5 { ids.append(try await client.arkTask("Shot \(index)")) }
            _ = try await client.gatewayTask("A gateway task is not an Ark task")
            let all = try await client.arkList()
            #expect(all.total == 5 && all.ids == ids.reversed())
            let first = try await client.arkList("page_num=1&page_size=2")
            #expect(first.total == 5 && first.ids == [ids[4], ids[3]])
            #expect(try await client.arkList("page_num=3&page_size=2").ids == [ids[0]])
            let beyond = try await client.arkList("page_num=4&page_size=2")
            #expect(beyond.total == 5 && beyond.ids.isEmpty)
            #expect(try await client.arkList("page_num=&page_size=&filter.status=&filter.model=").ids == ids.reversed())
            // Items have the shape of GET …/tasks/{id}, created_at included.
            let item = try #require(all.items.last)
            let single = try await client.send(.GET, "\(RawClient.arkTasks)/\(ids[0])").json
            let encode = { (object: [String: Any]) in try JSONSerialization.data(withJSONObject: object, options: .sortedKeys) }
            #expect(try encode(item) == encode(single))
            #expect(Set(item.keys).isSuperset(of: ["id", "model", "status", "created_at", "updated_at", "resolution", "ratio"]))
            let created = try #require(item["created_at"] as? Int)
            #expect(abs(Double(created) - Date().timeIntervalSince1970) < 60)
            #expect(emulator.stats.requests("ark.list") == 5)
        }
    }

    @Test func filtersByStatusModelAndIDs() async throws {
        try await RawClient.with({ $0.queueSeconds = 1000 }) { _, client in
            let a = try await client.arkTask("a")
            let b = try await client.arkTask("b")
            let c = try await client.arkTask("c")
            let d = try await client.arkTask("d", model: RawClient.arkQuality)
            let e = try await client.arkTask("e", model: RawClient.arkQuality)
            for id in [a, d] { #expect(try await client.send(.DELETE, "\(RawClient.arkTasks)/\(id)").status == 200) }
            #expect(try await client.arkList("filter.status=cancelled").ids == [d, a])
            #expect(try await client.arkList("filter.status=queued").ids == [e, c, b])
            #expect(try await client.arkList("filter.status=succeeded").total == 0)
            #expect(try await client.arkList("filter.model=\(RawClient.arkQuality)").ids == [e, d])
            #expect(try await client.arkList("filter.model=\(RawClient.arkQuality)&filter.status=queued").ids == [e])
            #expect(try await client.arkList("filter.task_ids=\(a)&filter.task_ids=\(e)").ids == [e, a])
            #expect(try await client.arkList("filter.task_ids=\(b)&filter.task_ids=\(e)&page_size=1&page_num=2").ids == [b])
            let unknown = try await client.arkList("filter.task_ids=cgt-20250101000000-zzzzz")
            #expect(unknown.total == 0 && unknown.ids.isEmpty)
        }
    }

    @Test(arguments: ["page_num=0", "page_num=501", "page_size=0", "page_size=501", "page_size=ten", "filter.status=done"])
    func invalidParametersAnswer400(query: String) async throws {
        try await RawClient.with { _, client in
            let answer = try await client.send(.GET, "\(RawClient.arkTasks)?\(query)")
            #expect(answer.status == 400)
            let error = answer.json["error"] as? [String: Any]
            #expect(error?["code"] as? String == "InvalidParameter")
            #expect(error?["param"] as? String == String(query.prefix { $0 != "=" }))
            #expect((error?["message"] as? String)?.contains(String(query.prefix { $0 != "=" })) == true)
        }
    }

    @Test func boundsAndAuth() async throws {
        try await RawClient.with { _, client in
            let largest = try await client.send(.GET, "\(RawClient.arkTasks)?page_num=500&page_size=500")
            #expect(largest.status == 200 && largest.json["total"] as? Int == 0)
            #expect(try await client.send(.GET, "\(RawClient.arkTasks)?page_num=1&page_size=1").status == 200)
            var stranger = client
            stranger.key = nil
            #expect(try await stranger.send(.GET, RawClient.arkTasks).status == 401)
        }
    }
}
