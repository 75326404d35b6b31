// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import PostgresNIO

/// PostgreSQL as a ``ServiceStore``: the reads and writes the running service makes beyond the lifecycle, with the
/// semantics of the SQLite implementations they mirror (named on each). Films are in PostgresStateStore+Films.swift,
/// the dashboard's reads in PostgresStateStore+Dashboard.swift.
extension PostgresStateStore: ServiceStore {
    /// Nothing to close: the connection pool ends when the task running ``run()`` is cancelled (the service's task
    /// group, or ``withStore(_:target:callTimeout:clock:logger:_:)``), which is how the service stops it.
    public func shutDown() async {}

    /// The final states, for `IN (…)` (constant text: no user input).
    static let terminalStates = JobState.allCases.filter(\.isTerminal).map { "'\($0.rawValue)'" }.joined(separator: ", ")

    /// The jobs `query` selects, decoded.
    func jobs(_ operation: String, _ query: PostgresQuery) async throws -> [StoredJob] {
        try await call(operation) { connection in try await self.rows(connection, query).map(Self.decodeJob) }
    }

    // MARK: JobQueries (SQLiteStateStore+Queries.swift, +Lifecycle.swift, +Tasks.swift, +Report.swift, +Dashboard.swift)

    public func listJobs(in states: Set<JobState>, limit: Int?) async throws -> [StoredJob] {
        guard !states.isEmpty else { return [] }
        let names = states.map(\.rawValue).sorted()
        // LIMIT NULL is no limit.
        return try await jobs(
            "list jobs",
            "SELECT \(unescaped: Self.jobColumns) FROM job WHERE state = ANY(\(names)) ORDER BY created_at, seq LIMIT \(limit)")
    }

    public func jobCounts() async throws -> [JobState: Int] {
        try await call("count jobs") { connection in
            var counts: [JobState: Int] = [:]
            for row in try await self.rows(connection, "SELECT state, COUNT(*) FROM job GROUP BY state") {
                let state = try row[0].decode(String.self)
                guard let jobState = JobState(rawValue: state) else {
                    throw StateStoreError.corruptRow(table: "job", column: "state", value: state)
                }
                counts[jobState] = try row[1].decode(Int.self)
            }
            return counts
        }
    }

    public func latestFailures(limit: Int) async throws -> [StoredJob] {
        try await jobs(
            "read recent failures",
            """
            SELECT \(unescaped: Self.jobColumns) FROM job WHERE state IN ('failed', 'invalid')
            ORDER BY updated_at DESC, seq DESC LIMIT \(limit)
            """)
    }

    /// As ``SQLiteStateStore/findJobs(_:)``: an exact name, a full id, or an id prefix of at least 4 characters,
    /// oldest first.
    public func searchJobs(_ query: String) async throws -> [StoredJob] {
        let query = query.trimmingCharacters(in: .whitespaces)
        guard !query.isEmpty else { return [] }
        let lower = query.lowercased()
        let isIDPrefix = lower.count >= 4 && lower.allSatisfy { $0.isHexDigit || $0 == "-" }
        return try await jobs(
            "find jobs",
            """
            SELECT \(unescaped: Self.jobColumns) FROM job
            WHERE name = \(query) OR (\(isIDPrefix) AND starts_with(id::text, \(lower)))
            ORDER BY created_at, seq
            """)
    }

    public func finishedJobs(from start: Date, to end: Date, limit: Int) async throws -> [StoredJob] {
        try await jobs(
            "read the jobs finished in the report's period",
            """
            SELECT \(unescaped: Self.jobColumns) FROM job
            WHERE updated_at >= \(start.timeIntervalSince1970) AND updated_at < \(end.timeIntervalSince1970)
                AND state IN (\(unescaped: Self.terminalStates))
            ORDER BY updated_at, seq LIMIT \(limit)
            """)
    }

    public func tasks(ofJob id: UUID) async throws -> [StoredTask] {
        try await call("read tasks") { connection in
            try await self.rows(connection, "SELECT \(unescaped: Self.taskColumns) FROM task WHERE job_id = \(id) ORDER BY id")
                .map(Self.decodeTask)
        }
    }

    public func inputMoves(ofJob id: UUID) async throws -> [String?] {
        try await call("read where inputs went") { connection in
            try await self.rows(connection, "SELECT moved_to FROM input_file WHERE job_id = \(id) ORDER BY id")
                .map { try $0[0].decode(String?.self) }
        }
    }

    public func submittingTime(ofJob id: UUID) async throws -> Date? {
        try await call("read the create call's time") { connection in
            try await self.rows(connection, "SELECT MAX(at) FROM event WHERE job_id = \(id) AND to_state = 'submitting'")
                .first.flatMap { try $0[0].decode(Double?.self) }.map(Date.init(timeIntervalSince1970:))
        }
    }

    public func knowsTask(provider: String, taskID: String) async throws -> Bool {
        try await exists("look up a task", "SELECT 1 FROM task WHERE provider = \(provider) AND task_id = \(taskID) LIMIT 1")
    }

    public func knowsOutput(stem: String) async throws -> Bool {
        try await exists("look up an output name", "SELECT 1 FROM job WHERE output_path = \(stem) LIMIT 1")
    }

    /// Whether `query` answers a row.
    func exists(_ operation: String, _ query: PostgresQuery) async throws -> Bool {
        try await call(operation) { connection in try await !self.rows(connection, query).isEmpty }
    }

    public func jobsAwaitingDisposal() async throws -> [StoredJob] {
        try await jobs(
            "list jobs with inputs to move",
            "SELECT \(unescaped: Self.jobColumns) FROM job WHERE pending_disposal IS NOT NULL AND lease_owner IS NULL ORDER BY seq")
    }

    public func nextRetry(after now: Date) async throws -> Date? {
        try await call("read the next retry time") { connection in
            try await self.rows(
                connection,
                "SELECT MIN(next_attempt_at) FROM job WHERE state = 'ready' AND next_attempt_at > \(now.timeIntervalSince1970)"
            ).first.flatMap { try $0[0].decode(Double?.self) }.map(Date.init(timeIntervalSince1970:))
        }
    }

    /// As ``SQLiteStateStore/nextPollTime()``: a task never polled yet is due at once (1970).
    public func nextPoll() async throws -> Date? {
        try await call("read the next poll time") { connection in
            guard
                let row = try await self.rows(
                    connection,
                    "SELECT bool_or(next_poll_at IS NULL), MIN(next_poll_at) FROM task WHERE active"
                ).first
            else { return nil }
            if try row[0].decode(Bool?.self) == true { return Date(timeIntervalSince1970: 0) }
            return try row[1].decode(Double?.self).map(Date.init(timeIntervalSince1970:))
        }
    }

    public func tasksInFlight() async throws -> Int {
        try await call("count tasks in flight") { connection in
            try await self.rows(connection, "SELECT COUNT(*) FROM task WHERE active").first?[0].decode(Int.self) ?? 0
        }
    }

    // MARK: InputHolding (SQLiteStateStore+Holds.swift, +Jobs.swift)

    public func heldInputs() async throws -> [(job: UUID, identity: InputIdentity)] {
        try await call("list held inputs") { connection in
            // Read as they stream, paths and digests left out (an inbox of 100,000 kept inputs, at every start).
            var held: [(job: UUID, identity: InputIdentity)] = []
            let rows = try await connection.query(
                "SELECT job_id, device, inode, size, mtime_ns FROM input_file WHERE inode <> -1", logger: self.logger)
            for try await (job, device, inode, size, mtime) in rows.decode((UUID, Int64, Int64, Int64, Int64).self) {
                held.append(
                    (job: job,
                     identity: InputIdentity(
                        device: UInt64(bitPattern: device), inode: UInt64(bitPattern: inode), size: size, mtimeNs: mtime)))
            }
            return held
        }
    }

    public func isInputHeld(_ identity: InputIdentity) async throws -> Bool {
        try await exists(
            "look up a held input",
            """
            SELECT 1 FROM input_file WHERE device = \(Int64(bitPattern: identity.device))
                AND inode = \(Int64(bitPattern: identity.inode)) AND size = \(identity.size) AND mtime_ns = \(identity.mtimeNs)
            LIMIT 1
            """)
    }

    public func inputsSharedWithLiveJobs(besides jobID: UUID) async throws -> [String] {
        try await call("find shared inputs") { connection in
            try await self.rows(
                connection,
                """
                SELECT DISTINCT i.path FROM input_file i
                JOIN input_file o ON o.path = i.path AND o.size = i.size
                    AND o.mtime_ns = i.mtime_ns AND o.job_id <> i.job_id AND o.inode <> -1
                JOIN job j ON j.id = o.job_id
                WHERE i.job_id = \(jobID) AND i.inode <> -1 AND j.state NOT IN (\(unescaped: Self.terminalStates))
                ORDER BY i.path
                """
            ).map { try $0[0].decode(String.self) }
        }
    }

    public func holders(of files: [DropKey.File]) async throws -> [FileHolder] {
        guard !files.isEmpty else { return [] }
        let wanted = Set(files.map { "\($0.relativePath)\u{0}\($0.size)\u{0}\($0.mtimeNs)" })
        let paths = Array(Set(files.map(\.relativePath))).sorted()
        return try await call("find the jobs holding files") { connection in
            var holders: [FileHolder] = []
            for row in try await self.rows(
                connection,
                """
                SELECT i.path, i.size, i.mtime_ns, i.job_id, j.state FROM input_file i JOIN job j ON j.id = i.job_id
                WHERE i.path = ANY(\(paths)) AND i.inode <> -1
                """)
            {
                let (path, size, mtime) = (try row[0].decode(String.self), try row[1].decode(Int64.self), try row[2].decode(Int64.self))
                let (id, state) = (try row[3].decode(UUID.self), try row[4].decode(String.self))
                guard wanted.contains("\(path)\u{0}\(size)\u{0}\(mtime)") else { continue }
                holders.append(FileHolder(path: path, job: id, live: !(JobState(rawValue: state) ?? .ready).isTerminal))
            }
            return holders
        }
    }

    /// As ``SQLiteStateStore/insertJobs(_:films:stillThere:)``: one transaction; a job whose drop key another
    /// transaction registered (committed, or committing: the insert waits for it) is skipped, and so is one whose
    /// files `stillThere` says are gone (its key is given back); a job without a key is inserted as it is.
    public func recordJobs(_ jobs: [NewJob], films: [NewFilm], stillThere: (@Sendable (NewJob) -> Bool)?) async throws -> [StoredJob] {
        let now = clock()
        let seconds = now.timeIntervalSince1970
        let routing = notificationRouting.current
        let (stored, after) = try await transaction("insert jobs") { connection in
            // A drop key is registered once per call: the clips of a storyboard share one (their film's), so the node
            // that records a storyboard first makes its film and every clip, and another node none of them.
            var registered: Set<String> = []
            var refused: Set<String> = []
            func register(_ key: DropKey) async throws -> Bool {
                if registered.contains(key.value) { return true }
                if refused.contains(key.value) { return false }
                let inserted = try await self.execute(
                    connection,
                    """
                    INSERT INTO drop_key (key, inserted_at) VALUES (\(key.value), \(seconds))
                    ON CONFLICT (key) DO NOTHING RETURNING key
                    """)
                if inserted == 0 {
                    refused.insert(key.value)
                    return false
                }
                registered.insert(key.value)
                return true
            }
            for film in films {
                // A film comes with its clips: none here (another node holds them), no film.
                guard let clip = jobs.first(where: { $0.filmID == film.id }) else { continue }
                if let key = clip.dropKey, try await !register(key) { continue }
                try await connection.query(
                    """
                    INSERT INTO film (id, name, lane, folder, clips, state, created_at, updated_at)
                    VALUES (\(film.id), \(film.name), \(film.lane), \(film.folder), \(film.clips), 'open', \(seconds), \(seconds))
                    """, logger: self.logger)
            }
            var stored: [StoredJob] = []
            var after = AfterCommit()
            var keysUsed: Set<String> = []
            for job in jobs {
                if let key = job.dropKey {
                    // Another node (or an earlier pass) made this drop's job: nothing of it is written here.
                    if try await !register(key) { continue }
                    if let stillThere, !stillThere(job) { continue }
                    keysUsed.insert(key.value)
                }
                stored.append(
                    try await self.insertJob(connection, job, dropKey: job.dropKey?.value, now: now, routing: routing, into: &after))
            }
            // A key none of whose jobs was written (their files went meanwhile) is given back.
            for key in registered.subtracting(keysUsed) {
                try await connection.query("DELETE FROM drop_key WHERE key = \(key)", logger: self.logger)
            }
            if stored.contains(where: { $0.state == .ready }) { try await self.announceWork(connection) }
            return (stored, after)
        }
        announce(after, routing)
        return stored
    }

    // MARK: BudgetRecords (SQLiteStateStore+Budget.swift)

    public func recordAlert(_ alert: BudgetAlert) async throws -> Bool {
        let now = clock()
        return try await call("record a budget alert") { connection in
            try await self.insertAlert(connection, alert, now: now)
        }
    }

    public func alertsToAnnounce() async throws -> [BudgetAlert] {
        try await call("list budget alerts") { connection in
            try await self.rows(
                connection,
                "SELECT cap, period, fraction, used, cap_limit FROM budget_alert WHERE announced_at IS NULL ORDER BY at LIMIT 100"
            ).map { row in
                BudgetAlert(
                    cap: SQLiteStateStore.cap(try row[0].decode(String.self)), fraction: try row[2].decode(Double.self),
                    used: try row[3].decode(Double.self), limit: try row[4].decode(Double.self),
                    period: try row[1].decode(String.self))
            }
        }
    }

    public func markAnnounced(_ alerts: [BudgetAlert]) async throws {
        guard !alerts.isEmpty else { return }
        let now = clock().timeIntervalSince1970
        try await call("mark budget alerts told") { connection in
            try await connection.query(
                """
                UPDATE budget_alert SET announced_at = \(now)
                FROM unnest(\(alerts.map(\.cap.key)), \(alerts.map(\.period)), \(alerts.map(\.fraction)))
                    AS told (cap, period, fraction)
                WHERE budget_alert.cap = told.cap AND budget_alert.period = told.period
                    AND budget_alert.fraction = told.fraction
                """, logger: self.logger)
        }
    }

    public func budgetOverrideValues() async throws -> BudgetOverrides {
        try await call("read the budget overrides") { connection in try await self.overrides(connection) }
    }

    public func setOverride(_ cap: BudgetCap, value: Double?, clear: Bool) async throws {
        guard cap == .daily || cap == .monthly else { return }
        let now = clock().timeIntervalSince1970
        try await call("set a budget") { connection in
            if clear {
                try await connection.query("DELETE FROM budget_override WHERE cap = \(cap.key)", logger: self.logger)
            } else {
                try await connection.query(
                    """
                    INSERT INTO budget_override (cap, value, set_at) VALUES (\(cap.key), \(value), \(now))
                    ON CONFLICT (cap) DO UPDATE SET value = excluded.value, set_at = excluded.set_at
                    """, logger: self.logger)
            }
        }
    }

    public func spending(at now: Date, calendar: Calendar, laneFolders: [String]) async throws
        -> (period: SpendPeriod, day: SpendLine, month: SpendLine, lanes: [String: SpendLine])
    {
        let period = SpendPeriod(now, calendar: calendar)
        return try await call("read the spend") { connection in
            func line(_ query: PostgresQuery) async throws -> SpendLine {
                var line = SpendLine()
                for row in try await self.rows(connection, query) {
                    let amount = try row[1].decode(Double.self)
                    switch try row[0].decode(String.self) {
                    case "settled": line.spent += amount
                    case "reserved": line.reserved += amount
                    default: break
                    }
                }
                return line
            }
            let day = try await line("SELECT state, SUM(amount) FROM spend WHERE day = \(period.day) GROUP BY state")
            let month = try await line("SELECT state, SUM(amount) FROM spend WHERE month = \(period.month) GROUP BY state")
            var lanes: [String: SpendLine] = [:]
            for folder in laneFolders {
                // `folder/` … `folder0` is every lane below the folder ('0' follows '/'); C collation compares bytes.
                lanes[folder] =
                    folder.isEmpty
                    ? day
                    : try await line(
                        """
                        SELECT state, SUM(amount) FROM spend WHERE day = \(period.day)
                            AND (lane = \(folder) OR (lane COLLATE "C" >= \(folder + "/") AND lane COLLATE "C" < \(folder + "0")))
                        GROUP BY state
                        """)
            }
            return (period, day, month, lanes)
        }
    }

    public func spendRecorded(ofJob id: UUID) async throws -> SpendLine? {
        try await call("read a job's spend") { connection in
            let rows = try await self.rows(connection, "SELECT state, SUM(amount) FROM spend WHERE job_id = \(id) GROUP BY state")
            guard !rows.isEmpty else { return nil }
            var line = SpendLine()
            for row in rows {
                switch try row[0].decode(String.self) {
                case "settled": line.spent = try row[1].decode(Double.self)
                case "reserved": line.reserved = try row[1].decode(Double.self)
                default: break
                }
            }
            return line
        }
    }

    public func heldJobCounts() async throws -> [String: Int] {
        try await call("count held jobs") { connection in
            var counts: [String: Int] = [:]
            for row in try await self.rows(
                connection, "SELECT COALESCE(failure_category, ''), COUNT(*) FROM job WHERE state = 'held' GROUP BY 1")
            {
                counts[try row[0].decode(String.self)] = try row[1].decode(Int.self)
            }
            return counts
        }
    }

    public func heldJobs(ofKind kind: String?, limit: Int) async throws -> [StoredJob] {
        try await jobs(
            "list held jobs",
            """
            SELECT \(unescaped: Self.jobColumns) FROM job WHERE state = 'held'
                AND (\(kind)::text IS NULL OR failure_category = \(kind))
            ORDER BY priority DESC, created_at, seq LIMIT \(limit)
            """)
    }

    // MARK: StallWatching (SQLiteStateStore+Notifications.swift)

    /// As ``SQLiteStateStore/checkStalledJobs(stallAfter:now:limit:)``: a `job.stalled` delivery for each job in a
    /// working state unchanged for `seconds`, once per job and stall. Two nodes checking at once tell a stall once:
    /// the stall's row is inserted `ON CONFLICT DO NOTHING` (the second waits for the first's transaction), and only
    /// the node whose row went in writes the deliveries.
    public func checkStalled(after seconds: Double, now: Date, limit: Int) async throws -> Int {
        let routing = notificationRouting.current
        guard routing.routes.contains(where: { $0.filter.accepts(.jobStalled) }) else { return 0 }
        let (count, wrote) = try await transaction("look for stalled jobs") { connection in
            let stalled = try await self.rows(
                connection,
                """
                SELECT \(unescaped: Self.jobColumns) FROM job
                WHERE state IN (\(unescaped: LeaseStates.working)) AND updated_at <= \(now.timeIntervalSince1970 - seconds)
                    AND NOT EXISTS (
                        SELECT 1 FROM notification_stall s WHERE s.job_id = job.id AND s.since = job.updated_at)
                ORDER BY updated_at, seq LIMIT \(limit)
                """
            ).map(Self.decodeJob)
            var count = 0
            var wrote = false
            for job in stalled {
                let claimed = try await self.execute(
                    connection,
                    """
                    INSERT INTO notification_stall (job_id, since, at)
                    VALUES (\(job.id), \(job.updatedAt.timeIntervalSince1970), \(now.timeIntervalSince1970))
                    ON CONFLICT DO NOTHING RETURNING job_id
                    """)
                guard claimed == 1 else { continue }  // another node told this stall
                count += 1
                let minutes = Int((now.timeIntervalSince(job.updatedAt) / 60).rounded(.down))
                let payload = NotificationPayload(
                    type: .jobStalled, time: now, instance: routing.instance, job: SQLiteStateStore.notificationJob(job),
                    fields: [
                        "stalled_since": .string(job.updatedAt.formatted(.iso8601)),
                        "message": .string("no progress for \(minutes) min while \(job.state.rawValue)"),
                    ])
                if try await self.insertNotification(connection, payload, routing) { wrote = true }
            }
            return (count, wrote)
        }
        announce(AfterCommit(wroteDeliveries: wrote), routing)
        return count
    }
}
