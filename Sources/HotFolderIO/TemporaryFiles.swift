// SPDX-License-Identifier: GPL-2.0-or-later
import Synchronization

/// Whose hidden temporary files (`.NAME.tmp-…`, `.NAME.….part`) these are: several nodes may write into one outbox,
/// and a node that starts again removes its own leftovers at once, another node's only once they are old.
public enum TemporaryFiles {
    private static let owner = Mutex("")

    /// The mark this process puts in its temporary names: `o` + the node's name (letters and digits, at most 16) +
    /// `-`, or nothing before ``claim(for:)``.
    public static var mark: String { owner.withLock { $0 } }

    /// Marks this process's temporary files with `node`'s name from now on.
    public static func claim(for node: String) {
        let kept = String(node.unicodeScalars.filter { $0.properties.isAlphabetic || ("0"..."9").contains($0) }.prefix(16).map(Character.init))
        owner.withLock { $0 = kept.isEmpty ? "" : "o\(kept)-" }
    }
}
