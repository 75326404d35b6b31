// SPDX-License-Identifier: GPL-2.0-or-later

/// How the local Seedance emulator behaves: where it listens, which key it accepts, how fast tasks run.
public struct EmulatorConfiguration: Sendable {
    /// Host to bind; loopback unless configured otherwise.
    public var host: String = "127.0.0.1"
    /// Port to bind; 0 picks a free port.
    public var port: Int = 8089
    /// The API key clients must send as a Bearer token.
    public var apiKey: String = "emulator-key"
    /// Seconds a task stays pending before it starts processing.
    public var queueSeconds: Double = 2
    /// Seconds a task spends processing before it completes.
    public var runSeconds: Double = 3

    /// Creates a configuration with the defaults.
    public init() {}
}
