// SPDX-License-Identifier: GPL-2.0-or-later
import AsyncHTTPClient
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import Synchronization
import NIOCore
import SeedanceEmulator
import Testing

/// The live feed: a broadcast with bounded buffers, served as Server-Sent Events.
@Suite struct LiveFeedTests {
    @Test func stateAndProgressJSONIsWhatJSONEncoderWrites() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let names = ["fox", #"a "quoted" \ name"#, "tab\there\nnew line\u{1}\u{1F}", "héron / 鷺 🐦", ""]
        for name in names {
            let change = LiveJobChange(id: "0b7c", name: name, lane: "lane/" + name, state: "ready")
            #expect(change.json == String(decoding: try encoder.encode(change), as: UTF8.self))
            let progress = LiveProgress(id: name, progress: 42, status: name)
            #expect(progress.json == String(decoding: try encoder.encode(progress), as: UTF8.self))
        }
    }

    @Test func aClientThatDoesNotReadNeverBlocksThePublisher() async throws {
        let feed = LiveFeed(bufferSize: 16)
        let stalled = feed.subscribe()  // never read
        let reader = feed.subscribe()
        #expect(feed.subscriberCount == 2)
        let start = ContinuousClock.now
        for index in 0..<100_000 { feed.publish(name: "job.state", json: "{\"n\":\(index)}") }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed < .seconds(5), "publishing 100,000 events took \(elapsed)")
        feed.finishAll()
        var received: [LiveEvent] = []
        for await batch in reader { received += batch }
        #expect(received.count == 16, "only the newest events are kept for a slow client")
        #expect(received.last?.json == "{\"n\":99999}")
        #expect(received.map(\.sequence) == Array(99_985...100_000))
        _ = stalled
    }

    @Test func eventsPushedOutUnreadAreNeverEncoded() async throws {
        let feed = LiveFeed(bufferSize: 8)
        let encoded = Mutex(0)
        let reader = feed.subscribe()
        for index in 0..<1_000 {
            feed.publish(name: "job.state") {
                encoded.withLock { $0 += 1 }
                return "{\"n\":\(index)}"
            }
        }
        #expect(encoded.withLock { $0 } == 0, "nothing is encoded on the publisher's thread")
        feed.finishAll()
        var bodies: [String] = []
        for await batch in reader { bodies += batch.map(\.json) }
        #expect(bodies == (992..<1_000).map { "{\"n\":\($0)}" })
        #expect(encoded.withLock { $0 } == 8, "only the events a client took were encoded")
    }

    @Test func aBurstArrivesAsOneBatchInOrder() async throws {
        let feed = LiveFeed()
        var reader = feed.subscribe().makeAsyncIterator()
        for index in 0..<100 { feed.publish(name: "job.state", json: "{\"n\":\(index)}") }
        let batch = try #require(await reader.next())
        #expect(batch.map(\.json) == (0..<100).map { "{\"n\":\($0)}" }, "one batch: one write to the client")
        feed.publish(name: "job.progress", json: "{\"n\":100}")
        let next = try #require(await reader.next())
        #expect(next.map(\.name) == ["job.progress"])
        #expect(next.first?.sequence == 101)
    }

    @Test func aClientThatLeavesIsForgotten() async throws {
        let feed = LiveFeed()
        do {
            let stream = feed.subscribe()
            let task = Task { for await _ in stream {} }
            #expect(feed.subscriberCount == 1)
            task.cancel()
            await task.value
        }
        #expect(feed.subscriberCount == 0)
    }
}

extension ServiceSuites {
@Suite struct DashboardEventStreamTests {
    @Test func eventsArriveOverSSEAsJobsChange() async throws {
        let folders = try ServiceFolders("dash-sse")
        let emulator = try await startEmulator()
        try await withDashboard(folders, emulator: emulator) { http, events, _ in
            let response = try await http.client.execute(HTTPClientRequest(url: http.base + "/api/v1/events"), timeout: .seconds(30))
            #expect(response.status == .ok)
            #expect(response.headers["Content-Type"].first?.hasPrefix("text/event-stream") == true)
            #expect(response.headers["X-Accel-Buffering"].first == "no")
            var text = ""
            var dropped = false
            let deadline = ContinuousClock.now + .seconds(30)
            for try await chunk in response.body {
                text += String(buffer: chunk)
                if !dropped, text.contains(": connected") {
                    dropped = true
                    try folders.drop("heron.txt", "A heron standing in mist")
                }
                if text.contains("event: job.done") || ContinuousClock.now > deadline { break }
            }
            #expect(text.contains("event: job.state\ndata: {\"id\":"), "\(text)")
            #expect(text.contains("\"state\":\"ready\""), "the new job appears")
            #expect(text.contains("event: job.done\ndata: {"), "the same event as notifications: \(text)")
            #expect(text.contains("\"name\":\"heron\""))
            // Built when the client takes it (not on the writer thread), with the notification's fields.
            let done = text.components(separatedBy: "event: job.done\n").last ?? ""
            #expect(done.contains("\"type\":\"job.done\""), "\(done)")
            #expect(done.contains("\"prompt\":\"A heron standing in mist\""), "\(done)")
            #expect(done.contains("\"video\":\""), "\(done)")
            await events.wait(for: "done") { $0.contains(where: \.isDone) }
        }
        await emulator.shutdown()
    }
}
}
