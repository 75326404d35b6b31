// SPDX-License-Identifier: GPL-2.0-or-later

/// What happens to a finished job's input files (`archive_policy` in the configuration).
public enum ArchivePolicy: String, Sendable, Hashable, CaseIterable, Codable {
    /// Move the inputs into `archive/<YYYY-MM-DD>/<lane>/`.
    case move
    /// Leave the inputs where they are (the state database remembers them, so they do not run again).
    case keep
    /// Delete the inputs.
    case delete
}
