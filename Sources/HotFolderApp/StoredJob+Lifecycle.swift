// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO

extension StoredJob {
    /// The job's lifecycle as stored: its state, counters, backoff, failure, inputs to move and active task.
    func lifecycle(spec: JobSpec?, task: StoredTask?, policy: LifecyclePolicy) -> JobLifecycle {
        JobLifecycle(
            state: state, hasImages: !(spec?.images.isEmpty ?? true), policy: policy, counters: counters,
            notBefore: nextAttemptAt,
            task: task.map {
                TaskFacts(
                    taskID: $0.taskID, submittedAt: $0.submittedAt, pollCount: $0.pollCount, videoURL: $0.videoURL,
                    expiresAt: $0.expiresAt)
            },
            failure: failureCategory.map { JobLifecycle.Failure(category: $0, message: failureMessage ?? "") },
            pendingDisposal: pendingDisposal)
    }

    /// The stored description, or nil when it cannot be read (written by a newer version, or damaged).
    var spec: JobSpec? {
        specVersion <= NewJob.currentSpecVersion ? try? JSONDecoder.iso.decode(JobSpec.self, from: specJSON) : nil
    }
}
