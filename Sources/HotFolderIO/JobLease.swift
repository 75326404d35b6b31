// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

/// A node's right to work on one job until `until`, fenced by `generation`.
///
/// Every claim of a job raises its generation, so a write carrying an older generation (a node that was frozen
/// while another took the job over) is refused even if the clocks disagree about whether the lease has ended.
public struct JobLease: Sendable, Hashable {
    /// The job.
    public var jobID: UUID
    /// The node holding the lease (its `node_name`).
    public var owner: String
    /// Raised by every claim of the job.
    public var generation: Int64
    /// When the lease ends unless renewed.
    public var until: Date

    /// Creates a lease value.
    public init(jobID: UUID, owner: String, generation: Int64, until: Date) {
        self.jobID = jobID
        self.owner = owner
        self.generation = generation
        self.until = until
    }
}

/// A job just claimed, with its lease.
public struct LeasedJob: Sendable, Hashable {
    /// The job as it is now (its state says what to resume: `ready` starts, a working state is a take-over).
    public var job: StoredJob
    /// The lease the node now holds.
    public var lease: JobLease
    /// The node whose ended (or released) lease this claim replaced, if any.
    public var previousOwner: String?

    /// Whether the job was in a working state, so another node may have started on it: the runner resumes it with
    /// ``JobLifecycle/Event/recovered`` rather than picking it from the queue.
    public var isTakeOver: Bool { job.state != .ready }

    /// Creates a claimed job.
    public init(job: StoredJob, lease: JobLease, previousOwner: String?) {
        self.job = job
        self.lease = lease
        self.previousOwner = previousOwner
    }
}

/// One node sharing the database, as `hotfolder status` lists it.
public struct NodeStatus: Sendable, Hashable {
    /// The node's name.
    public var name: String
    /// When it last registered (started).
    public var registeredAt: Date
    /// Its last heartbeat.
    public var lastHeartbeat: Date
    /// How many jobs it holds a current lease on.
    public var jobsHeld: Int

    /// Creates a node's status.
    public init(name: String, registeredAt: Date, lastHeartbeat: Date, jobsHeld: Int) {
        self.name = name
        self.registeredAt = registeredAt
        self.lastHeartbeat = lastHeartbeat
        self.jobsHeld = jobsHeld
    }
}

extension [NodeStatus] {
    /// How many nodes are alive at `now`: their last heartbeat is younger than `lease` (after that their jobs are
    /// taken over). `node`, the one asking, counts whatever the list says. Limits that hold across nodes without a
    /// shared counter (the status-call rate) are divided by it.
    public func alive(at now: Date, lease: TimeInterval, including node: String) -> Int {
        Set(filter { now.timeIntervalSince($0.lastHeartbeat) <= lease }.map(\.name)).union([node]).count
    }
}

/// The states a job can be taken over in when its lease ends: work was under way on some node.
enum LeaseStates {
    /// `uploading` … `downloading`, as SQL text for an `IN (…)` list.
    static let working = "'uploading', 'submitting', 'submitted', 'running', 'downloading'"
    /// The final states, as SQL text for an `IN (…)` list: one holds a lease only while its inputs are still to move.
    static let finished = "'done', 'invalid', 'failed', 'cancelled'"

    /// Whether `job` keeps its lease: in a working state, or finished with its inputs still to move (a node dying
    /// during the move leaves it to be taken over and completed). Any other commit gives the lease back, so the job
    /// can be claimed again (queued, held, uncertain) and a finished job holds none.
    static func keepsLease(_ job: StoredJob) -> Bool { job.state.isWorking || job.pendingDisposal != nil }
}
