// SPDX-License-Identifier: GPL-2.0-or-later

/// A failure the emulator can inject, each with a probability in ``EmulatorConfiguration/faults``.
public enum EmulatorFault: String, Sendable, CaseIterable, Codable, Hashable {
    /// API calls answer 429 with `Retry-After`.
    case rateLimit = "rate_limit"
    /// API calls answer 500, 502 or 503.
    case serverError = "server_error"
    /// API calls answer only after ``EmulatorConfiguration/stallSeconds``.
    case stall
    /// API calls get the connection closed without an answer.
    case reset
    /// Created tasks fail with a sensitive-content error.
    case moderation
    /// Result URLs of created tasks are already expired when fetched.
    case expireEarly = "expire_early"
    /// Downloads announce the full Content-Length but stop halfway and close.
    case truncate
    /// Task creation fails with an insufficient-balance error (402 on the gateway).
    case insufficientBalance = "insufficient_balance"
    /// The task is created, but the client gets a 502 HTML page instead of its id.
    case createdThen502 = "created_then_502"
    /// The task is created, then the connection closes without an answer.
    case createdThenReset = "created_then_reset"
    /// The task is created, but the 200 answer carries no task id.
    case noTaskID = "no_task_id"
    /// Created tasks process for ``EmulatorConfiguration/slowTaskSeconds`` instead of the usual run time.
    case slowTask = "slow_task"
    /// The first ``EmulatorConfiguration/cdnFlakyFailures`` downloads of a created task's video fail.
    case cdnFlaky = "cdn_flaky"
    /// Tasks fail with an unknown provider error, decided by a hash of the prompt rather than the dice.
    case alwaysFail = "always_fail"

    /// What the fault does, in one line, for `hotfolder emulator --help`.
    public var summary: String {
        switch self {
        case .rateLimit: "API calls answer 429 with Retry-After."
        case .serverError: "API calls answer 500, 502 or 503."
        case .stall: "API calls answer only after --stall-seconds."
        case .reset: "API calls get the connection closed without an answer."
        case .moderation: "tasks fail with a sensitive-content error."
        case .expireEarly: "result links are already expired (403)."
        case .truncate: "downloads stop halfway and close."
        case .insufficientBalance: "creates fail for lack of balance (402 gateway, 403 Ark)."
        case .createdThen502: "creates the task, but answers an HTML 502 page."
        case .createdThenReset: "creates the task, then closes without an answer."
        case .noTaskID: "creates the task, but the 200 answer has no task id."
        case .slowTask: "the task runs --slow-task-seconds, reporting progress."
        case .cdnFlaky: "the first --cdn-flaky-failures downloads fail (503, cut body)."
        case .alwaysFail: "the prompt's hash fails it with InternalServiceError, every time."
        }
    }

    /// Parses `NAME=PROBABILITY` (e.g. `rate_limit=0.1`), as the CLI's `--fault` takes it.
    public static func parse(_ text: String) throws(EmulatorError) -> (EmulatorFault, Double) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard let fault = EmulatorFault(rawValue: parts[0]) else {
            throw .invalidFault(text, reason: "unknown fault; known: \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let probability = parts.count == 2 ? Double(parts[1]) : 1
        guard let probability, (0...1).contains(probability) else {
            throw .invalidFault(text, reason: "the probability must be a number from 0 to 1")
        }
        return (fault, probability)
    }

    /// Whether the `always_fail` fault hits `prompt`: its FNV-1a hash, mapped to 0…1, is below `probability`.
    ///
    /// The same prompt gets the same answer on every run and every seed, as a prompt a real provider
    /// cannot handle fails again when it is resubmitted.
    public static func promptFails(_ prompt: String, probability: Double) -> Bool {
        guard probability > 0 else { return false }
        guard probability < 1 else { return true }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in prompt.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01B3
        }
        return Double(hash >> 11) / Double(UInt64(1) << 53) < probability
    }
}
