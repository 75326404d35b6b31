// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderIO
import Hummingbird
import NIOCore

/// `/api/v1/events`: the live feed as Server-Sent Events — the notifications' events (`job.done`, `queue.paused`, …)
/// plus `job.state` and `job.progress` — each client with its own bounded buffer (see ``LiveFeed``).
extension Dashboard {
    func events() -> Response {
        let batches = store.liveFeed.subscribe()
        let body = ResponseBody { writer in
            // Tells the browser to reconnect after 3 s if the connection drops; a proxy flushes at once.
            try await writer.write(ByteBuffer(string: "retry: 3000\n: connected\n\n"))
            for await batch in batches {
                try await writer.write(ByteBuffer(string: batch.map(Self.frame).joined()))
                // At most ten writes a second per client: during a burst, what changes meanwhile goes out in the
                // next write instead of one write (and one wake-up of this task) per event.
                try await Task.sleep(for: Self.eventBatchInterval)
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store",
                // nginx: do not buffer this answer.
                .init("X-Accel-Buffering")!: "no",
            ],
            body: body)
    }

    /// The least time between two writes to one live-feed client.
    static let eventBatchInterval = Duration.milliseconds(100)

    /// One event as SSE lines; an event without a name is a keep-alive comment.
    static func frame(_ event: LiveEvent) -> String {
        guard !event.name.isEmpty else { return ": keep-alive\n\n" }
        let data = event.json.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in "data: \(line)" }.joined(separator: "\n")
        return "id: \(event.sequence)\nevent: \(event.name)\n\(data)\n\n"
    }
}
