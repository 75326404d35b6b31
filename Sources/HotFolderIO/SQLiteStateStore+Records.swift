// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

/// A job to insert: what the drop protocol assembled, as opaque JSON, and the files it came from.
public struct NewJob: Sendable, Hashable {
    /// The job's id; a fresh UUID unless the caller needs to know it in advance.
    public var id: UUID
    /// The output name the job asked for (before collision suffixes), shown by `status`.
    public var name: String
    /// The lane: the job's folder relative to the inbox (`""` for the inbox itself).
    public var lane: String
    /// The first state, usually `ready` (or `detected`/`invalid`).
    public var state: JobState
    /// Higher runs first; equal priorities run oldest first.
    public var priority: Int
    /// The job specification as JSON (the drop protocol's type, opaque here). Never holds a secret.
    public var specJSON: Data
    /// The input files, with identity and content hash, so a restart does not make them into a new job.
    public var inputs: [StoredInput]
    /// Why the job starts in this state (for `invalid`, the validation message).
    public var message: String?
    /// The storyboard film the job is a clip of.
    public var filmID: UUID?
    /// What makes the clip the same as another (its request and its keyframes' content), for reuse.
    public var reuseKey: String?
    /// For a clip made before and reused (state `done`): the earlier clip's output path (`…/outbox/<lane>/<stem>`).
    public var reusedOutput: String?
    /// What makes the job the same on every node (its name and its files' facts): registered with it, so a node
    /// that planned the same drop later makes no second job (``SQLiteStateStore/insertJobs(_:films:)`` skips it).
    public var dropKey: DropKey?

    /// The layout version of the job specifications this version writes; a job stored with a higher one was
    /// written by a newer hotfolder and is failed with that reason instead of being misread.
    public static let currentSpecVersion = 1

    /// Creates a job to insert.
    public init(
        id: UUID = UUID(), name: String, lane: String = "", state: JobState = .ready, priority: Int = 0,
        specJSON: Data, inputs: [StoredInput] = [], message: String? = nil
    ) {
        self.id = id
        self.name = name
        self.lane = lane
        self.state = state
        self.priority = priority
        self.specJSON = specJSON
        self.inputs = inputs
        self.message = message
    }
}

/// One row of the `job` table.
public struct StoredJob: Sendable, Hashable, Identifiable {
    /// The job's id.
    public var id: UUID
    /// The output name the job asked for.
    public var name: String
    /// The job's folder relative to the inbox.
    public var lane: String
    /// Where the job is in its life.
    public var state: JobState
    /// For `failed`/`invalid`: the error category (`transient`, `moderation`, `expired`, …), as the client names it.
    public var failureCategory: String?
    /// For `failed`/`invalid`/`uncertain`/`held`: what happened, in words.
    public var failureMessage: String?
    /// Higher runs first.
    public var priority: Int
    /// When the job was inserted.
    public var createdAt: Date
    /// When the row last changed.
    public var updatedAt: Date
    /// The job specification as JSON (opaque here).
    public var specJSON: Data
    /// How many attempts (upload, create, download) have failed so far; the retry policy reads it.
    public var attempts: Int
    /// Not before this time: a retry's backoff, or a queue pause. Nil means now.
    public var nextAttemptAt: Date?
    /// The reserved output path (`outbox/<lane>/<name>` without extension) once one is reserved.
    public var outputPath: String?
    /// Failures per step, each with its own limit.
    public var counters = JobCounters()
    /// Inputs still to be moved away (written with the state that decided it; cleared once they moved).
    public var pendingDisposal: JobLifecycle.InputDisposal?
    /// The layout version of ``specJSON`` (``NewJob/currentSpecVersion`` when written by this version).
    public var specVersion = NewJob.currentSpecVersion
}

/// Identifies a file's content cheaply, without reading it: device, inode, size and modification time.
public struct InputIdentity: Sendable, Hashable {
    /// `st_dev`.
    public var device: UInt64
    /// `st_ino`.
    public var inode: UInt64
    /// `st_size` in bytes.
    public var size: Int64
    /// `st_mtim` in nanoseconds since 1970.
    public var mtimeNs: Int64

    /// Creates an identity.
    public init(device: UInt64, inode: UInt64, size: Int64, mtimeNs: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.mtimeNs = mtimeNs
    }
}

/// One input file of a job (a row of `inputFile`).
public struct StoredInput: Sendable, Hashable {
    /// The file's path when the job was made.
    public var path: String
    /// Device, inode, size and mtime when the job was made.
    public var identity: InputIdentity
    /// The content's SHA-256, lowercase hex.
    public var sha256: String

    /// Creates an input record.
    public init(path: String, identity: InputIdentity, sha256: String) {
        self.path = path
        self.identity = identity
        self.sha256 = sha256
    }
}

/// An input file that some job already has, as found by ``SQLiteStateStore/knownInputs(_:sha256:)``.
public struct KnownInput: Sendable, Hashable {
    /// The job that has the file.
    public var jobID: UUID
    /// That job's state: the caller decides whether, say, a `failed` job's file moved back means a retry.
    public var jobState: JobState
    /// The input as recorded.
    public var input: StoredInput
}

/// One remote task of a job (a row of `task`). A job has at most one active task; older ones stay as history.
public struct StoredTask: Sendable, Hashable {
    /// The job the task belongs to.
    public var jobID: UUID
    /// `gateway` or `ark`.
    public var provider: String
    /// The provider's task id.
    public var taskID: String
    /// The provider's last status, as it spelled it (`queued`, `running`, `succeeded`, …).
    public var status: String
    /// Percent done, if the provider says.
    public var progress: Int?
    /// The result URL once the task succeeded.
    public var videoURL: String?
    /// When ``videoURL`` stops working.
    public var expiresAt: Date?
    /// The provider's estimate of the total run time in seconds.
    public var estimatedTime: Int?
    /// The last error the provider reported for the task.
    public var errorMessage: String?
    /// The final status payload (seed, token usage, …) as JSON, for the metadata file. Never holds a secret.
    public var resultJSON: Data?
    /// When the create call returned.
    public var submittedAt: Date
    /// When the row last changed.
    public var updatedAt: Date
    /// How many status calls were made.
    public var pollCount: Int
    /// When to ask for the status next.
    public var nextPollAt: Date?
    /// False once the job got a newer task (after an uncertain resubmission) or moved on.
    public var isActive: Bool
}

/// A task to poll or download, with the few job fields the poller needs.
public struct InFlightTask: Sendable, Hashable {
    /// The task.
    public var task: StoredTask
    /// The job's state: `submitted`, `running` or `downloading`.
    public var jobState: JobState
    /// The job's name.
    public var name: String
    /// The job's lane.
    public var lane: String
    /// The job's reserved output path, if any.
    public var outputPath: String?
}

/// One entry of a job's append-only history.
public struct StoredEvent: Sendable, Hashable {
    /// What kind of entry this is.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The job was inserted.
        case created
        /// The state changed.
        case transition
        /// Fields changed without a state change (a retry scheduled, an output reserved).
        case update
        /// A remote task was recorded.
        case task
        /// A free-form note.
        case note
    }

    /// Increasing id: the order events happened in.
    public var id: Int64
    /// The job.
    public var jobID: UUID
    /// When it happened.
    public var at: Date
    /// What kind of entry.
    public var kind: Kind
    /// The state before (transitions only).
    public var fromState: JobState?
    /// The state after (transitions and creation).
    public var toState: JobState?
    /// What happened, in words.
    public var message: String?
}
