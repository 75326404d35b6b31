// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO

/// Moves a job's inputs away — to `failed/` with an error file, by the archive policy, or nowhere (released) —
/// and records it. The one place that does it, for the runner, the intake (invalid drops) and `hotfolder cancel`.
///
/// The inputs come from the store (so a job whose description cannot be read still gets its files back).
/// Inputs another live job shares (a manifest and its rows, an image shared by variants) are copied to
/// `failed/` and left in the inbox; inputs that changed since the job was planned are never moved, archived or
/// deleted: they are someone's new drop.
struct InputDisposer: Sendable {
    let store: any ServiceStore
    let outbox: OutboxWriter
    /// The inbox, absolute.
    let inbox: String
    let archivePolicy: ArchivePolicy

    /// What happened to the inputs.
    struct Result: Sendable {
        /// The `failed/` folder, for a failure.
        var folder: String?
        /// Inputs left in the inbox because they changed since planning.
        var changed: [String] = []
        /// Inputs moved, archived or deleted.
        var moved: [String] = []
        /// Whether the job gave its inputs back (so the same files dropped again make a new job).
        var released = false
        /// Where each moved input went (its stored path → absolute new path), recorded for the dashboard.
        var destinations: [String: String] = [:]
    }

    /// Disposes of the job's inputs and records it in one transaction (pending disposal cleared, inputs released).
    ///
    /// - Parameter errorText: the error file's text, for ``JobLifecycle/InputDisposal/failed``.
    /// - Parameter lease: the lease of the node that finished the job (nil: an operator's command, the intake).
    func dispose(
        _ disposal: JobLifecycle.InputDisposal, job: StoredJob, name: String, errorText: String,
        log: OutputReservation?, lease: JobLease? = nil
    ) async throws -> Result {
        let inputs = try await store.inputFiles(ofJob: job.id)
        let shared = Set(try await store.inputsSharedWithLiveJobs(besides: job.id))
        // Moves, copies across devices and fsyncs: on the thread pool.
        let result = try await Blocking.run {
            try self.move(disposal, job: job, inputs: inputs, shared: shared, name: name, errorText: errorText, log: log)
        }
        try await store.finishDisposal(
            job.id, folder: result.folder, release: result.released, movedInputs: result.destinations, lease: lease)
        return result
    }

    /// Moves (or copies, or deletes) the files of `disposal`; the store is not touched.
    private func move(
        _ disposal: JobLifecycle.InputDisposal, job: StoredJob, inputs: [StoredInput], shared: Set<String>, name: String,
        errorText: String, log: OutputReservation?
    ) throws -> Result {
        var result = Result()
        let unchanged = inputs.filter { input in
            let same = FileSystemProbe.lstat(inbox + "/" + input.path).map { InputIdentity($0.identity) } == input.identity
            if !same, FileSystemProbe.lstat(inbox + "/" + input.path) != nil { result.changed.append(input.path) }
            return same
        }
        let own = unchanged.map(\.path).filter { !shared.contains($0) }
        switch disposal {
        case .failed:
            let folder = try outbox.moveToFailed(
                inputs: own.map { inbox + "/" + $0 }, lane: job.lane, name: name, errorText: errorText, log: log)
            for path in shared.sorted() {
                // Regular files only, opened without following a link: a copy never reads outside the inbox.
                try? outbox.copyInput(inbox + "/" + path, into: folder.path)
            }
            result.folder = folder.path
            result.moved = own
            result.destinations = relative(folder.movedInputs)
            result.released = true
        case .archive:
            let moved = try outbox.archiveInputs(own.map { inbox + "/" + $0 }, lane: job.lane, policy: archivePolicy, date: Date())
            if archivePolicy == .move { result.destinations = relative(moved) }
            result.moved = archivePolicy == .keep ? [] : (archivePolicy == .delete ? own : own.filter { moved[inbox + "/" + $0] != nil })
            // Files that left the inbox need not be held any more; kept ones still must not start a job.
            result.released = archivePolicy != .keep
            if archivePolicy != .keep {
                // A shot folder emptied by the archive goes too (never the lane folder itself).
                for folder in Set(own.map { FileNameRules.folder(of: $0) }) where !folder.isEmpty && folder != job.lane {
                    rmdir(inbox + "/" + folder)
                }
            }
        case .release:
            result.released = true
        }
        return result
    }

    /// `moved` (absolute inbox path → new path) keyed by the inputs' paths as stored (relative to the inbox).
    private func relative(_ moved: [String: String]) -> [String: String] {
        Dictionary(
            moved.compactMap { old, new in old.hasPrefix(inbox + "/") ? (String(old.dropFirst(inbox.count + 1)), new) : nil },
            uniquingKeysWith: { first, _ in first })
    }
}
