// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO

/// A job as the API lists it (`etc/openapi.yaml`, `JobSummary`).
struct JobSummary: Encodable, Sendable {
    var id: String
    var name: String
    var lane: String
    var state: String
    var priority: Int
    var model: String?
    var prompt: String?
    var progress: Int?
    var taskStatus: String?
    var createdAt: Date
    var updatedAt: Date
    var failureCategory: String?
    var failureMessage: String?
    /// The poster and video of a done job, under the dashboard's base path.
    var poster: String?
    var video: String?

    init(_ row: JobListRow, prefix: String) {
        let job = row.job
        id = job.id.lowercasedString
        name = job.name
        lane = job.lane
        state = job.state.rawValue
        priority = job.priority
        model = row.model
        prompt = row.prompt
        progress = row.progress
        taskStatus = row.taskStatus
        createdAt = job.createdAt
        updatedAt = job.updatedAt
        failureCategory = job.state == .invalid ? "invalid" : job.failureCategory
        failureMessage = job.failureMessage
        if job.state == .done, job.outputPath != nil {
            poster = "\(prefix)/files/jobs/\(id)/poster"
            video = "\(prefix)/files/jobs/\(id)/video"
        }
    }

    init(_ job: StoredJob, task: StoredTask?, prefix: String) {
        let spec = job.spec
        self.init(
            JobListRow(job: job, model: spec?.request.model, prompt: spec?.request.prompt, progress: task?.progress, taskStatus: task?.status),
            prefix: prefix)
    }
}

/// One job in full (`JobDetail`): settings with their sources, the request sent, the timeline, the log, inputs.
struct JobDetail: Encodable, Sendable {
    struct Setting: Encodable, Sendable {
        var name: String
        var value: String
        var source: String
    }

    struct TimelineEntry: Encodable, Sendable {
        var at: Date
        var kind: String
        var from: String?
        var to: String?
        var message: String?
    }

    struct Input: Encodable, Sendable {
        var path: String
        var sha256: String
        var size: Int64
        /// Where the dashboard serves it (images only).
        var url: String?
    }

    struct Task: Encodable, Sendable {
        var provider: String
        var taskId: String
        var status: String
        var progress: Int?
        var submittedAt: Date
        var updatedAt: Date
        var errorMessage: String?
    }

    var job: JobSummary
    var settings: [Setting]
    /// The body sent to the provider (image data left out, never a key); nil when the job has no valid request.
    var request: JSONValue?
    var timeline: [TimelineEntry]
    var tasks: [Task]
    var inputs: [Input]
    /// The end of the job's log file, when it has one.
    var log: String?
    /// What can be done to it now: `retry`, `cancel`.
    var actions: [String]
}

/// The queue and the service at a glance (`Status`).
struct DashboardStatus: Encodable, Sendable {
    struct Pause: Encodable, Sendable {
        var category: String
        var reason: String
        var since: Date
    }

    struct Disk: Encodable, Sendable {
        var path: String
        var freeBytes: Int64
        var totalBytes: Int64
    }

    var counts: [String: Int]
    var total: Int
    var inFlight: Int
    var maxInFlight: Int
    var paused: Pause?
    /// What the queue waits for, one sentence each (empty when nothing holds it).
    var waitingFor: [String]
    var watch: WatchHealth.State
    var outboxDisk: Disk?
    /// Jobs done in each of the last 24 hours, oldest first.
    var finishedPerHour: [Int]
    var recentFailures: [JobSummary]
    var budget: BudgetStatus?
}
