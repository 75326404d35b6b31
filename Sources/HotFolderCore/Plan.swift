// SPDX-License-Identifier: GPL-2.0-or-later

/// The result of reading an inbox once: every job and the totals.
public struct Plan: Sendable, Hashable, Codable {
    /// Counts and money over all jobs.
    public struct Totals: Sendable, Hashable, Codable {
        /// Number of jobs (variants count separately).
        public var jobs: Int
        /// Jobs that can be submitted.
        public var valid: Int
        /// Jobs with errors.
        public var invalid: Int
        /// Jobs waiting for a prompt.
        public var waiting: Int
        /// Output tokens of the valid jobs.
        public var tokens: Int
        /// Estimated US dollars for the valid jobs.
        public var cost: Double

        /// Creates totals.
        public init(jobs: Int, valid: Int, invalid: Int, waiting: Int, tokens: Int, cost: Double) {
            self.jobs = jobs
            self.valid = valid
            self.invalid = invalid
            self.waiting = waiting
            self.tokens = tokens
            self.cost = cost
        }
    }

    /// The jobs, sorted by lane and name.
    public var jobs: [JobSpec]
    /// The totals.
    public var totals: Totals
    /// ZIP archives in the inbox (inbox-relative path → how it is read): the service unpacks each into a folder
    /// beside it and plans that folder; nil when there are none.
    public var archives: [String: String]?

    /// Creates a plan and computes its totals.
    public init(jobs: [JobSpec], archives: [String: String]? = nil) {
        self.jobs = jobs
        self.archives = archives
        let valid = jobs.filter { $0.status == .valid }
        totals = Totals(
            jobs: jobs.count, valid: valid.count, invalid: jobs.filter { $0.status == .invalid }.count,
            waiting: jobs.filter { $0.status == .waiting }.count,
            tokens: valid.reduce(0) { $0 + ($1.estimate?.tokens ?? 0) },
            cost: valid.reduce(0) { $0 + ($1.estimate?.cost ?? 0) })
    }
}
