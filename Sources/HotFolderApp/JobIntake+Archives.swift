// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO

extension JobIntake {
    /// Unpacks the ZIP archives that became ready (on the blocking pool, one after another): each becomes a
    /// folder beside it that the watcher reports like any drop; the archive moves to `archive/`, or to `failed/`
    /// with an error file when it is refused.
    func unpackArchives() async {
        let ready = archives
        archives = []
        let context = self.context
        var seen: Set<String> = []
        for file in ready where seen.insert(file.relativePath).inserted {
            do {
                let event = try await Blocking.run { try Self.unpack(file, context: context) }
                if let event { context.observer(event) }
            } catch {
                // The inbox's disk is full or unwritable: the archive stays and is tried again at the next start.
                context.logger.error("\(file.relativePath): cannot unpack the archive: \(error)")
            }
        }
    }

    /// Unpacks one archive and moves it away; nil when it is gone or changed since it was reported (a rescan
    /// reported it twice, or it is being replaced: the watcher reports the new one).
    private static func unpack(_ file: ReadyFile, context: ServiceContext) throws -> ServiceEvent? {
        guard let now = FileSystemProbe.lstat(file.path), now.identity == file.stat.identity else { return nil }
        let relative = file.relativePath
        let lane = FileNameRules.folder(of: relative)
        let name = (relative as NSString).lastPathComponent
        let stem = String(name.dropLast(4))
        let limits = ZipLimits(
            maxEntries: context.configuration.zipMaxEntries, maxBytes: UInt64(context.configuration.zipMaxBytes))
        let outcome = try ZipUnpacker(limits: limits).unpack(file.path)
        switch outcome {
        case .unpacked(let folder, _), .unpackedBefore(let folder):
            let folderRelative = String(folder.dropFirst(context.inbox.count + 1))
            // The archive leaves the inbox as soon as its folder is in place (the folder's jobs are planned from the
            // folder): left there until they are made, a restart in between would unpack it again and pay twice.
            // `keep` would leave it to be unpacked again at every start: it is moved instead.
            let policy: ArchivePolicy = context.configuration.archivePolicy == .delete ? .delete : .move
            try context.outbox.archiveInputs([file.path], lane: lane, policy: policy, date: context.clock())
            ZipUnpacker.finish(folder: folder)
            if case .unpacked(_, let files) = outcome {
                context.logger.info("\(relative): unpacked \(files) files into \(folderRelative)/")
            } else {
                context.logger.info("\(relative): was unpacked into \(folderRelative)/ before the service stopped; not unpacked again, moved away")
            }
            return .archiveUnpacked(name: name, folder: folderRelative)
        case .refused(let refusal):
            let text = ErrorReport.refusedArchive(name: relative, refusal: refusal)
            let failed = try context.outbox.moveToFailed(inputs: [file.path], lane: lane, name: stem, errorText: text)
            context.logger.warning("\(relative): not unpacked, \(refusal); moved to \(failed.path)")
            return .archiveRefused(name: name, reason: "\(refusal)")
        }
    }
}
