// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import GRDB
import HotFolderCore

extension SQLiteStateStore {
    /// Inserts one job with its input files and a `created` event, in one transaction.
    @discardableResult
    public func insertJob(_ job: NewJob) throws -> StoredJob {
        guard let stored = try insertJobs([job]).first else { throw StateStoreError.duplicateDrop(key: job.dropKey?.value ?? "") }
        return stored
    }

    /// Inserts many jobs in one transaction (all or none): a manifest of thousands of rows is one commit. A job whose
    /// ``NewJob/dropKey`` is registered already (another node made it) is skipped: the answer holds the jobs written.
    ///
    /// `stillThere` is asked, inside the transaction, whether a keyed job's files are still in the inbox as they were
    /// planned: the node that made the job may have moved them away and forgotten the key since this node looked,
    /// and writes take turns, so a job is skipped either by its key or by its files being gone.
    @discardableResult
    public func insertJobs(
        _ jobs: [NewJob], films: [NewFilm] = [], stillThere: (@Sendable (NewJob) -> Bool)? = nil
    ) throws -> [StoredJob] {
        let now = clock()
        return try write("insert jobs") { db in
            try insertJobRows(db, jobs, films: films, now: now, stillThere: stillThere)
        }
    }

    /// Inserts jobs, their inputs, films and `created` events inside the caller's transaction.
    func insertJobRows(
        _ db: Database, _ jobs: [NewJob], films: [NewFilm], now: Date, stillThere: ((NewJob) -> Bool)? = nil
    ) throws -> [StoredJob] {
        // A drop key is registered once per call: the clips of a storyboard share one (their film's), so the node
        // that records a storyboard first makes its film and every clip, and another node none of them.
        var registered: Set<String> = []
        var refused: Set<String> = []
        func register(_ key: DropKey) throws -> Bool {
            if registered.contains(key.value) { return true }
            if refused.contains(key.value) { return false }
            try db.cachedStatement(sql: "INSERT INTO drop_key (key, inserted_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING")
                .execute(arguments: [key.value, now.timeIntervalSince1970])
            if db.changesCount == 0 {
                refused.insert(key.value)
                return false
            }
            registered.insert(key.value)
            return true
        }
        for film in films {
            // A film comes with its clips: none here (another node holds them), no film.
            guard let clip = jobs.first(where: { $0.filmID == film.id }) else { continue }
            if let key = clip.dropKey, try !register(key) { continue }
            try Self.insertFilm(db, film, now: now)
        }
        let insertJob = try db.cachedStatement(
            sql: """
                INSERT INTO job (id, name, lane, state, priority, createdAt, updatedAt, specJSON, attempts, failureMessage,
                    specVersion, pendingDisposal, filmId, reuseKey, outputPath, drop_key)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)
                """)
        let insertInput = try db.cachedStatement(
            sql: """
                INSERT INTO inputFile (jobId, path, device, inode, size, mtimeNs, sha256)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
        var stored: [StoredJob] = []
        stored.reserveCapacity(jobs.count)
        var keysUsed: Set<String> = []
        for job in jobs {
            if let key = job.dropKey {
                // Another node (or an earlier pass) made this drop's job: nothing of it is written here.
                if try !register(key) { continue }
                if let stillThere, !stillThere(job) { continue }
                keysUsed.insert(key.value)
            }
            let id = job.id.lowercasedString
            let message = job.state == .invalid || job.state == .failed ? job.message : nil
            // An invalid drop's files go to failed/ next, a reused clip's to the archive; if the service stops
            // first, the next start does it.
            let disposal: JobLifecycle.InputDisposal? = job.state == .invalid ? .failed : job.state == .done ? .archive : nil
            do {
                try insertJob.execute(arguments: [
                    id, job.name, job.lane, job.state.rawValue, job.priority, now.timeIntervalSince1970,
                    now.timeIntervalSince1970, job.specJSON, message, NewJob.currentSpecVersion, disposal?.rawValue,
                    job.filmID?.lowercasedString, job.reuseKey, job.reusedOutput, job.dropKey?.value,
                ])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                throw StateStoreError.duplicateJob(job.id)
            }
            for input in job.inputs {
                try insertInput.execute(arguments: [
                    id, input.path, Int64(bitPattern: input.identity.device),
                    Int64(bitPattern: input.identity.inode), input.identity.size, input.identity.mtimeNs,
                    input.sha256,
                ])
            }
            try appendEvent(db, jobID: id, at: now, kind: .created, from: nil, to: job.state, message: job.message)
            let new = StoredJob(
                id: job.id, name: job.name, lane: job.lane, state: job.state, failureCategory: nil,
                failureMessage: message, priority: job.priority, createdAt: now, updatedAt: now,
                specJSON: job.specJSON, attempts: 0, nextAttemptAt: nil, outputPath: job.reusedOutput,
                pendingDisposal: disposal)
            // An invalid drop is a job.failed (category `invalid`) for the targets that want it.
            if job.state == .invalid { try enqueueJobNotification(db, new, to: .invalid, now: now) }
            publishJobChange(db, new)
            stored.append(new)
        }
        // A key none of whose jobs was written (their files went meanwhile) is given back.
        for key in registered.subtracting(keysUsed) {
            try db.cachedStatement(sql: "DELETE FROM drop_key WHERE key = ?").execute(arguments: [key])
        }
        return stored
    }

    /// The job with this id, or nil.
    public func job(_ id: UUID) throws -> StoredJob? {
        try read("read a job") { db in try Self.fetchJob(db, id) }
    }

    /// Moves a job from `from` to `to` if, and only if, it is in `from` now (compare-and-set), in one transaction
    /// that also writes the `transition` event and, optionally, changes the job's active task.
    ///
    /// - Parameters:
    ///   - update: changes other fields (failure category and message, attempts, next attempt, output path,
    ///     priority). Changes to the id, state and time stamps are ignored.
    ///   - task: changes the job's active task in the same transaction (e.g. the video URL with `→ downloading`);
    ///     fails with ``StateStoreError/noActiveTask(job:)`` when there is none.
    /// - Throws: ``StateStoreError/unexpectedState(job:expected:actual:requested:)`` when the job moved on,
    ///   ``StateStoreError/illegalTransition(job:from:to:)`` when ``JobState`` forbids the move.
    @discardableResult
    public func transition(
        _ id: UUID, from: JobState, to: JobState, message: String? = nil,
        update: (inout StoredJob) -> Void = { _ in }, task: ((inout StoredTask) -> Void)? = nil
    ) throws -> StoredJob {
        guard from.canTransition(to: to) else {
            throw StateStoreError.illegalTransition(job: id, from: from, to: to)
        }
        let now = clock()
        return try write("move a job from \(from) to \(to)") { db in
            guard var job = try Self.fetchJob(db, id) else { throw StateStoreError.jobNotFound(id) }
            guard job.state == from else {
                throw StateStoreError.unexpectedState(job: id, expected: from, actual: job.state, requested: to)
            }
            let original = job
            update(&job)
            job.id = original.id
            job.createdAt = original.createdAt
            job.state = to
            job.updatedAt = now
            try Self.saveJob(db, job, original: original)
            if let task {
                try updateActiveTask(db, jobID: id, now: now, task)
            }
            // A task is no longer active once its job has left the in-flight states.
            if from.isInFlight && !to.isInFlight {
                try db.cachedStatement(sql: "UPDATE task SET active = 0 WHERE jobId = ? AND active = 1").execute(arguments: [id.lowercasedString])
            }
            try appendEvent(db, jobID: id.lowercasedString, at: now, kind: .transition, from: from, to: to, message: message)
            return job
        }
    }

    /// Changes a job's fields without changing its state (a retry's `nextAttemptAt`, a reserved output path),
    /// if it is in `state`; writes an `update` event when `message` is given.
    @discardableResult
    public func updateJob(
        _ id: UUID, in state: JobState, message: String? = nil, update: (inout StoredJob) -> Void
    ) throws -> StoredJob {
        let now = clock()
        return try write("update a job") { db in
            guard var job = try Self.fetchJob(db, id) else { throw StateStoreError.jobNotFound(id) }
            guard job.state == state else {
                throw StateStoreError.unexpectedState(job: id, expected: state, actual: job.state, requested: state)
            }
            let original = job
            update(&job)
            job.id = original.id
            job.createdAt = original.createdAt
            job.state = state
            job.updatedAt = now
            try Self.saveJob(db, job, original: original)
            if let message {
                try appendEvent(db, jobID: id.lowercasedString, at: now, kind: .update, from: nil, to: nil, message: message)
            }
            return job
        }
    }

    /// Appends a free-form note to a job's history.
    public func appendNote(_ id: UUID, _ message: String) throws {
        let now = clock()
        try write("append a note") { db in
            guard try Self.fetchJob(db, id) != nil else { throw StateStoreError.jobNotFound(id) }
            try appendEvent(db, jobID: id.lowercasedString, at: now, kind: .note, from: nil, to: nil, message: message)
        }
    }

    // MARK: - Helpers inside a transaction

    static func fetchJob(_ db: Database, _ id: UUID) throws -> StoredJob? {
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(jobColumns) FROM job WHERE id = ?"), arguments: [id.lowercasedString])
        return try row.map(decodeJob)
    }

    /// The compare-and-set write of a job's row (`saveJob`). A job leaving the working states gives its lease back
    /// (its generation stays, so the lease's holder may still finish what it was doing, fenced as before).
    /// Writes `job`'s fields that differ from `original` (the row as read in this transaction), if the job is still in
    /// `original`'s state.
    ///
    /// Only the changed columns are named: SQLite rewrites every index over a column an UPDATE names, changed or not,
    /// and the job table has fifteen. A state change touches the state's indexes and `updatedAt`'s; the description,
    /// name, lane and creation time stay put (a burst's two steps per job wrote 40 % fewer pages; issue 14).
    static func saveJobSQL(setting columns: [String]) -> String {
        "UPDATE job SET " + columns.joined(separator: ", ") + " WHERE id = ? AND state = ?"
    }

    static func saveJob(_ db: Database, _ job: StoredJob, original: StoredJob) throws {
        var columns: [String] = []
        var values: [(any DatabaseValueConvertible)?] = []
        func set(_ column: String, _ changed: Bool, _ value: (any DatabaseValueConvertible)?) {
            guard changed else { return }
            columns.append(column + " = ?")
            values.append(value)
        }
        set("name", job.name != original.name, job.name)
        set("lane", job.lane != original.lane, job.lane)
        set("state", job.state != original.state, job.state.rawValue)
        set("failureCategory", job.failureCategory != original.failureCategory, job.failureCategory)
        set("failureMessage", job.failureMessage != original.failureMessage, job.failureMessage)
        set("priority", job.priority != original.priority, job.priority)
        set("updatedAt", job.updatedAt != original.updatedAt, job.updatedAt.timeIntervalSince1970)
        set("specJSON", job.specJSON != original.specJSON, job.specJSON)
        set("attempts", job.attempts != original.attempts, job.attempts)
        set("nextAttemptAt", job.nextAttemptAt != original.nextAttemptAt, seconds(job.nextAttemptAt))
        set("outputPath", job.outputPath != original.outputPath, job.outputPath)
        set("counters", job.counters != original.counters, encodeCounters(job.counters))
        set("pendingDisposal", job.pendingDisposal != original.pendingDisposal, job.pendingDisposal?.rawValue)
        // A job leaving the working states gives its lease back in the same write.
        if !LeaseStates.keepsLease(job) { columns.append("lease_owner = NULL, lease_until = NULL") }
        guard !columns.isEmpty else {
            // Nothing changed: still the compare-and-set on the state.
            guard try Int.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM job WHERE id = ? AND state = ?"),
                arguments: [job.id.lowercasedString, original.state.rawValue]) != nil
            else { throw StateStoreError.jobNotFound(job.id) }
            return
        }
        values.append(job.id.lowercasedString)
        values.append(original.state.rawValue)
        try db.cachedStatement(sql: saveJobSQL(setting: columns)).execute(arguments: StatementArguments(values))
        // The row was read in this same immediate transaction, so this only trips if the schema misbehaves.
        guard db.changesCount == 1 else { throw StateStoreError.jobNotFound(job.id) }
    }

    func appendEvent(
        _ db: Database, jobID: String, at: Date, kind: StoredEvent.Kind, from: JobState?, to: JobState?,
        message: String?
    ) throws {
        try db.cachedStatement(
            sql: "INSERT INTO event (jobId, at, kind, fromState, toState, message) VALUES (?, ?, ?, ?, ?, ?)"
        ).execute(arguments: [jobID, at.timeIntervalSince1970, kind.rawValue, from?.rawValue, to?.rawValue, message])
    }
}
