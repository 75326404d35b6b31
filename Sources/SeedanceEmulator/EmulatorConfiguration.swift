// SPDX-License-Identifier: GPL-2.0-or-later

/// How the local Seedance emulator behaves: where it listens, which key it accepts, how fast tasks run,
/// which faults it injects.
public struct EmulatorConfiguration: Sendable {
    /// Host to bind; loopback unless configured otherwise.
    public var host: String = "127.0.0.1"
    /// Port to bind; 0 picks a free port.
    public var port: Int = 8089
    /// The API key clients must send as a Bearer token.
    public var apiKey: String = "emulator-key"
    /// Seconds a task stays pending before it starts processing (0 = starts at once).
    public var queueSeconds: Double = 2
    /// Seconds a task spends processing before it completes (0 = completes at once).
    public var runSeconds: Double = 3
    /// Probability (0…1) of each injected fault; absent faults never happen.
    public var faults: [EmulatorFault: Double] = [:]
    /// Seed of the random generator that decides faults, so a run can be reproduced.
    public var seed: UInt64 = 1
    /// How long a `stall` fault holds a response (longer than client timeouts).
    public var stallSeconds: Double = 30
    /// Seconds a task hit by the `slow_task` fault spends processing, instead of ``runSeconds``.
    public var slowTaskSeconds: Double = 40
    /// How many downloads of a task hit by the `cdn_flaky` fault fail before one succeeds.
    public var cdnFlakyFailures: Int = 3
    /// The `Retry-After` a `rate_limit` fault sends, in seconds.
    public var retryAfterSeconds: Int = 1
    /// How long result URLs stay valid after a task completes (the gateway's signed links last 24 h).
    public var resultLifetime: Double = 24 * 3600
    /// How long upload URLs stay valid (72 h on the gateway).
    public var uploadLifetime: Double = 72 * 3600
    /// Largest image upload accepted, in bytes (20 MB on the gateway).
    public var maxUploadBytes: Int = 20 * 1024 * 1024
    /// Where result videos come from.
    public var videoSource: EmulatorVideoSource = .automatic
    /// How many received requests are kept for ``SeedanceEmulator/receivedRequests`` (oldest dropped first).
    public var recordLimit: Int = 1000

    /// Creates a configuration with the defaults.
    public init() {}
}

/// Where the emulator's result videos come from.
public enum EmulatorVideoSource: String, Sendable, CaseIterable {
    /// Rendered by `ffmpeg` when it is on PATH (exact size, 24 fps, duration, prompt text); else bundled.
    case automatic
    /// Always the small bundled MP4 (fast; not the requested size).
    case bundled
}

/// Why the emulator could not start or be configured.
public enum EmulatorError: Error, Sendable, CustomStringConvertible {
    /// A `--fault` argument did not parse.
    case invalidFault(String, reason: String)
    /// The server could not listen.
    case cannotBind(host: String, port: Int, reason: String)

    /// One sentence.
    public var description: String {
        switch self {
        case .invalidFault(let text, let reason): "The fault \"\(text)\" is invalid: \(reason)."
        case .cannotBind(let host, let port, let reason): "The emulator cannot listen on \(host):\(port): \(reason)"
        }
    }
}
