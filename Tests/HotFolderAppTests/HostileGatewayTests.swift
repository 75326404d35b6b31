// SPDX-License-Identifier: GPL-2.0-or-later
import AsyncHTTPClient
import Foundation
import NIOCore
import HotFolderApp
import HotFolderCore
import HotFolderIO
import SeedanceEmulator
import Testing

/// The money paths of issue 9 end to end, over real HTTP against an emulator as hostile as real gateways:
/// answers lost after the task was made, slow tasks, a CDN that refuses downloads, prompts that always fail.
extension ServiceSuites {
@Suite struct HostileGatewayTests {
    /// The user's report: slow tasks and a CDN refusing each video's first 3 downloads used to abandon every paid
    /// video with "try again later".
    @Test(arguments: [ServiceConfiguration.Provider.gateway, .ark])
    func slowTasksAndAFlakyCDNStillDeliverEveryPaidVideo(provider: ServiceConfiguration.Provider) async throws {
        let folders = try ServiceFolders("cdn-\(provider.rawValue)")
        let emulator = try await startEmulator(faults: [.slowTask: 1, .cdnFlaky: 1], slowTask: 1.5, cdnFailures: 3)
        try await withService(folders, emulator: emulator, configure: {
            $0.provider = provider
            $0.maxAttempts = 2
        }) { events, store in
            for index in 0..<3 { try folders.drop("slow\(index).txt", "A slow render number \(index)") }
            await events.wait(for: "3 videos", timeout: 60) { $0.filter(\.isDone).count >= 3 || $0.contains(where: \.isFailed) }
            #expect(try store.countsByState() == [.done: 3])
        }
        await emulator.shutdown()
        #expect(emulator.stats.tasksCreated == 3)
        #expect(emulator.stats.tasksSucceeded == 3)
        #expect(emulator.stats.videosServed == 3)
        #expect(folders.files(in: "outbox").filter { $0.hasSuffix(".mp4") }.count == 3)
    }

    /// A create answered with a 502 page, a reset or a 200 without an id after the task was made: on the gateway
    /// the job is uncertain (never a second task); on Ark it is found in the task list and delivered.
    @Test(arguments: [EmulatorFault.createdThen502, .createdThenReset, .noTaskID])
    func aLostCreateAnswerIsNeverPaidTwice(fault: EmulatorFault) async throws {
        let gateway = try ServiceFolders("lost-gw-\(fault.rawValue)")
        let emulator = try await startEmulator(faults: [fault: 1])
        try await withService(gateway, emulator: emulator) { events, store in
            try gateway.drop("lost.txt", "An answer that never came back")
            await events.wait(for: "uncertain") { $0.contains(where: \.isUncertain) }
            #expect(try store.countsByState() == [.uncertain: 1])
            let job = try #require(try store.findJobs("lost").first)
            #expect(job.failureMessage?.contains("hotfolder retry --uncertain") == true, "says what a person should check")
        }
        await emulator.shutdown()
        #expect(emulator.stats.tasksCreated == 1, "one task, no second create")

        let ark = try ServiceFolders("lost-ark-\(fault.rawValue)")
        let arkEmulator = try await startEmulator(faults: [fault: 1])
        try await withService(ark, emulator: arkEmulator, configure: {
            $0.provider = .ark
            $0.requestTimeout = .seconds(2)
        }) { events, store in
            try ark.drop("found.txt", "An answer found again in the task list")
            await events.wait(for: "the video", timeout: 60) { $0.contains(where: \.isDone) }
            #expect(await events.count(\.isResolved) == 1)
            #expect(try store.countsByState() == [.done: 1])
        }
        await arkEmulator.shutdown()
        #expect(arkEmulator.stats.tasksCreated == 1, "found, not created again")
        #expect(arkEmulator.stats.requests("ark.list") >= 1)
    }

    /// A prompt the provider always fails makes at most 3 tasks, then fails with the provider's message.
    @Test func aPromptThatAlwaysFailsIsBounded() async throws {
        let folders = try ServiceFolders("always-fail")
        let emulator = try await startEmulator(faults: [.alwaysFail: 1])
        try await withService(folders, emulator: emulator) { events, store in
            try folders.drop("doomed.txt", "This prompt always fails")
            await events.wait(for: "the failure") { $0.contains(where: \.isFailed) }
            #expect(try store.recentFailures(limit: 1).first?.failureCategory == "provider")
        }
        await emulator.shutdown()
        #expect(emulator.stats.tasksCreated == 3)
        #expect(emulator.stats.tasksSucceeded == 0)
        let text = (try? String(contentsOfFile: folders.failed + "/doomed/doomed.error.txt", encoding: .utf8)) ?? ""
        #expect(text.contains("Category: provider") && text.contains("InternalServiceError"), "\(text)")
    }

    /// Another client on the same Ark account makes a task with the same settings at the same moment: the lost
    /// create call is matched by the seed hotfolder chose for it, never by settings alone (which would deliver
    /// somebody else's video under this job's name).
    @Test func onArkALostTaskIsToldApartFromAnotherClientsTaskWithTheSameSettings() async throws {
        let folders = try ServiceFolders("ark-other")
        let emulator = try await startEmulator(faults: [.createdThen502: 1])
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var other = HTTPClientRequest(url: emulator.baseURL + "/api/v3/contents/generations/tasks")
        other.method = .POST
        other.headers.add(name: "Authorization", value: "Bearer " + serviceTestKey)
        other.headers.add(name: "Content-Type", value: "application/json")
        other.body = .bytes(ByteBuffer(string: """
            {"model":"doubao-seedance-1-0-pro-fast-251015","content":[{"type":"text","text":"Somebody else's balloon"}],\
            "duration":2,"ratio":"16:9","resolution":"480p"}
            """))
        _ = try await client.execute(other, timeout: .seconds(5))
        try await client.shutdown()
        #expect(emulator.stats.tasksCreated == 1)
        try await withService(folders, emulator: emulator, configure: {
            $0.provider = .ark
            $0.requestTimeout = .seconds(2)
            $0.defaults["aspect_ratio"] = "16:9"
        }) { events, store in
            try folders.drop("mine.txt", "My own cat")
            await events.wait(for: "my video", timeout: 60) { $0.contains(where: \.isDone) || $0.contains(where: \.isFailed) }
            #expect(try store.countsByState() == [.done: 1])
        }
        await emulator.shutdown()
        #expect(emulator.stats.tasksCreated == 2, "mine was found, not created again")
        let metadata = jsonObject(folders.outbox + "/mine.json")
        let created = emulator.receivedRequests.filter { $0.endpoint == "ark.create" }.compactMap(\.bodyJSON)
        #expect(created.last?.contains("My own cat") == true)
        #expect((metadata["seed"] as? Int).map { created.last?.contains("\"seed\":\($0)") == true } == true, "the seed sent is recorded")
    }
}
}
