// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

extension StoredJob {
    /// Applies the job fields of a lifecycle commit (its state, counters, retry time, failure, disposal, and the output
    /// path if none was reserved yet): one place, so that the SQLite and PostgreSQL stores write the same job.
    mutating func apply(_ commit: JobLifecycle.Commit, outputPath: String?, now: Date) {
        state = commit.to
        counters = commit.counters
        attempts = commit.counters.attempts
        nextAttemptAt = commit.notBefore
        failureCategory = commit.failure?.category
        failureMessage = commit.failure?.message
        pendingDisposal = commit.disposal
        if let outputPath, self.outputPath == nil { self.outputPath = outputPath }
        updatedAt = now
    }
}
