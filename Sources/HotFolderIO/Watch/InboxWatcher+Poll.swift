// SPDX-License-Identifier: GPL-2.0-or-later
import Glibc
import HotFolderCore

extension InboxWatcher {
    /// The poll-mode scanner for this inbox: skips unchanged folders where the configuration or the file system allows.
    func makeScanner() -> PollScanner {
        let skip: Bool
        switch configuration.folderReading {
        case .auto: skip = FileSystemProbe.fileSystemKind(of: root)?.trustsFolderMtime ?? false
        case .skipUnchanged: skip = true
        case .readAll: skip = false
        }
        return PollScanner(
            root: root, excluded: Set(configuration.excluded.map(Self.absolute)), skipUnchangedFolders: skip,
            settledEvery: configuration.settledEvery)
    }

    /// Poll mode: scans the tree every `interval` seconds, passing on only what changed since the last scan.
    static func poll(
        root: String, scanner: PollScanner?, interval: Double, into continuation: AsyncStream<WatchSignal>.Continuation,
        folders: @Sendable (Int) -> Void = { _ in }
    ) async {
        guard let scanner else { return }
        var missing = false
        while !Task.isCancelled {
            if FileSystemProbe.lstat(root) == nil {
                if !missing { continuation.yield(.problem(.inboxMissing(path: root))) }
                missing = true
            } else {
                if missing { continuation.yield(.problem(.inboxRestored(path: root))) }
                missing = false
                // The walk blocks on the file system (a network share can be slow): on the thread pool.
                let summary = try? await Blocking.run {
                    scanner.scan(
                        emit: { continuation.yield($0) },
                        problem: { problem in
                            if problem.errno == EACCES || problem.errno == EPERM {
                                continuation.yield(.problem(.permissionDenied(path: problem.path)))
                            }
                        })
                }
                guard let summary else { return }
                folders(summary.foldersRead + summary.foldersReused)
                continuation.yield(.pollCompleted(files: summary.files))
            }
            try? await Task.sleep(for: .seconds(max(0.05, interval)))
        }
    }
}
