// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// Something the service did to a job or the queue, for observers (tests, the demo, future metrics).
public enum ServiceEvent: Sendable, Hashable {
    /// The watcher's first full scan is done: every folder is watched from here on.
    case watching
    /// Planned and queued.
    case queued(name: String, id: UUID)
    /// Rejected before any money was spent; its files went to `failed/`.
    case invalid(name: String, id: UUID)
    /// Its task was created.
    case submitted(name: String, id: UUID, taskID: String)
    /// Its video, metadata and log are in the outbox.
    case done(name: String, id: UUID, video: String)
    /// It failed with this category; its files went to `failed/`.
    case failed(name: String, id: UUID, category: String)
    /// Its create call's outcome is unknown.
    case uncertain(name: String, id: UUID)
    /// An uncertain job's task was found in the provider's task list: it is tracked, not sent again.
    case resolved(name: String, id: UUID, taskID: String)
    /// A budget or time window holds it.
    case held(name: String, id: UUID, reason: String)
    /// It was cancelled (by an operator, at the provider, or because its inputs changed).
    case cancelled(name: String, id: UUID)
    /// It goes back into the queue after a delay.
    case retrying(name: String, id: UUID)
    /// This node took the job over from node `from`, whose lease ended (it died, was paused, or stopped).
    case takenOver(name: String, id: UUID, from: String)
    /// This node lost the job's lease to another node (it was paused past the lease) and dropped its work.
    case leaseLost(name: String, id: UUID)
    /// The queue paused (auth or quota) or resumed.
    case queuePaused(category: String)
    /// The queue works again.
    case queueResumed
    /// A budget threshold was crossed (`budget.threshold`) or a cap reached (`budget.exhausted`).
    case budget(type: String, cap: String, message: String)
    /// A ZIP archive dropped into the inbox was unpacked into `folder` (relative to the inbox) and moved away.
    case archiveUnpacked(name: String, folder: String)
    /// A ZIP archive was refused; it went to `failed/` with its error file.
    case archiveRefused(name: String, reason: String)
    /// A storyboard's clips were joined into its film (`video`, in the outbox).
    case filmJoined(name: String, video: String)
    /// A storyboard's film was not made (a clip failed); its error file says which and how to finish it.
    case filmFailed(name: String, reason: String)
    /// A morning report was written (`report.ready`); `path` is its HTML page.
    case reportReady(path: String)
}
