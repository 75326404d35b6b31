// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import Testing

/// An image is sent with the SHA-256 taken when its drop was planned, so the provider reads it once, hashing as it
/// sends (issue 14: each big image was read three times).
extension ServiceSuites {
@Suite struct PlannedImageHashTests {
    @Test func anImageIsSentWithTheHashTakenWhenItWasPlanned() async throws {
        let folders = try ServiceFolders("planned-hash")
        let api = FakeVideoAPI(FakeVideoAPI.Script())
        let image = LeaseTakeOverTests.image
        try await withScriptedService(folders, api: api) { events, _ in
            try folders.drop("hash.png", image)
            try folders.drop("hash.txt", "A lighthouse in a storm")
            await events.wait(for: "the video") { $0.contains(where: \.isDone) }
        }
        #expect(api.plannedHashes.withLock { $0 } == [SHA256.hex(of: image)])
    }
}
}
