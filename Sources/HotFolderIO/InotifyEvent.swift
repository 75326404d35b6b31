// SPDX-License-Identifier: GPL-2.0-or-later

/// One inotify event, copied out of libinotifytools' static buffer so it can cross threads.
public struct InotifyEvent: Sendable, Hashable {
    /// The watch descriptor, or -1 for a queue overflow.
    public var wd: Int32
    /// The raw `IN_*` mask.
    public var mask: UInt32
    /// Links the two halves of a rename.
    public var cookie: UInt32
    /// Absolute path of the watched directory, ending in "/".
    public var directory: String
    /// The entry's name inside ``directory`` (empty for events about the directory itself).
    public var name: String

    /// Creates an event.
    public init(wd: Int32, mask: UInt32, cookie: UInt32, directory: String, name: String) {
        self.wd = wd
        self.mask = mask
        self.cookie = cookie
        self.directory = directory
        self.name = name
    }
}
