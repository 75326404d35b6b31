// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import Testing

@Suite struct RemoteTaskStatusTests {
    @Test func codableRoundTrip() throws {
        let statuses: [RemoteTaskStatus] = [
            .queued, .running(progress: 40), .running(progress: nil),
            .succeeded(videoURL: "https://cdn/v.mp4", expiresAt: Date(timeIntervalSince1970: 1_700_000_000)),
            .failed(category: .rateLimited(retryAfter: 3), message: "slow down"), .failed(category: .moderation, message: "m"),
            .cancelled, .expired,
        ]
        for status in statuses {
            let task = RemoteTask(id: "task_1", status: status, estimatedSeconds: 90)
            #expect(try JSONDecoder().decode(RemoteTask.self, from: JSONEncoder().encode(task)) == task)
        }
        #expect(statuses.filter(\.isTerminal).count == 5)
    }

    @Test func whatTheServiceDoes() {
        #expect(APIErrorCategory.auth.action == .pauseQueue && APIErrorCategory.auth.pausesQueue)
        #expect(APIErrorCategory.quota.action == .pauseQueue)
        #expect(APIErrorCategory.rateLimited(retryAfter: 5).action == .retry(notBeforeSeconds: 5))
        #expect(APIErrorCategory.transient.isRetryable && !APIErrorCategory.transient.pausesQueue)
        for category in [APIErrorCategory.invalidRequest, .moderation, .expired] {
            #expect(category.action == .failJob && !category.isRetryable && !category.pausesQueue)
        }
        #expect(APIErrorCategory.rateLimited(retryAfter: nil).name == "rate_limited")
    }

    @Test func imageFormatsByMagicBytes() {
        #expect(ImageContentType.sniff([0xFF, 0xD8, 0xFF, 0xDB]) == .jpeg)
        #expect(ImageContentType.sniff([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) == .png)
        #expect(ImageContentType.sniff(Array("GIF87a".utf8)) == .gif)
        #expect(ImageContentType.sniff(Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBP".utf8)) == .webp)
        #expect(ImageContentType.sniff(Array("<html>".utf8)) == nil)
        #expect(ImageContentType.jpeg.mimeType == "image/jpeg" && ImageContentType.jpeg.fileExtension == "jpg")
    }
}
