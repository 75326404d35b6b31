// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
#if canImport(Glibc)
import Glibc
#endif

extension OutboxWriter {
    /// Moves a failed job's inputs into a new folder `failed/<lane>/<name>/` (`name-2`, … when taken) with
    /// `<name>.error.txt` beside them, so a person can read what to fix and move the folder back into the inbox.
    ///
    /// - Parameters:
    ///   - inputs: files or folders (a shot folder) to move; missing ones are skipped (a person may have removed
    ///     them). Names that collide inside the folder get `-2`, ….
    ///   - errorText: the error file's content: category, what happened, what to do.
    ///   - log: a reservation whose `<stem>.log` moves along, so the story stays in one place.
    /// - Returns: the new folder and where each moved input went.
    @discardableResult
    public func moveToFailed(
        inputs: [String], lane: String, name: String, errorText: String, log: OutputReservation? = nil
    ) throws -> FailedJobFolder {
        let parent = Self.join(failed, Self.safeLane(lane))
        try FileOperations.makeDirectory(parent)
        // mkdir is atomic: the first free name is ours.
        let stem = try OutputNaming.uniqueStem(for: name) { candidate in
            let path = Self.join(parent, candidate)
            if mkdir(path, 0o755) == 0 { return false }
            if errno == EEXIST { return true }
            throw OutboxError.from(errno: errno, operation: "create the folder", path: path)
        }
        guard let stem else { throw OutboxError.noFreeName(directory: parent, name: name) }
        let folder = Self.join(parent, stem)
        let errorFile = Self.join(folder, stem + ".error.txt")
        let text = errorText.hasSuffix("\n") ? errorText : errorText + "\n"
        try FileOperations.writeAtomically(Data(text.utf8), to: errorFile, replace: false)
        var moved: [String: String] = [:]
        for input in inputs where FileOperations.exists(input) {
            let destination = try freePath(in: folder, for: (input as NSString).lastPathComponent)
            try FileOperations.move(input, to: destination)
            moved[input] = destination
        }
        if let log, FileOperations.exists(log.logPath) {
            try FileOperations.move(log.logPath, to: try freePath(in: folder, for: stem + ".log"))
        }
        return FailedJobFolder(path: folder, errorFile: errorFile, movedInputs: moved)
    }

    /// Copies a regular file (never a link) into `folder` under a free name: an input other live jobs still need
    /// goes to a failed job's folder as a copy.
    public func copyInput(_ source: String, into folder: String) throws {
        try FileOperations.copyFile(source, to: try freePath(in: folder, for: (source as NSString).lastPathComponent))
    }

    /// Applies the archive policy to a finished job's inputs.
    ///
    /// `move` puts them into `archive/<YYYY-MM-DD>/<lane>/` (the date of `date` in `timeZone`; names that collide
    /// get `-2`, …), `keep` leaves them, `delete` removes them. Missing inputs are skipped.
    /// - Returns: for `move`, where each input went; for `keep`, each input mapped to itself; for `delete`, empty.
    @discardableResult
    public func archiveInputs(
        _ inputs: [String], lane: String, policy: ArchivePolicy, date: Date, timeZone: TimeZone = .current
    ) throws -> [String: String] {
        switch policy {
        case .keep:
            return Dictionary(inputs.map { ($0, $0) }, uniquingKeysWith: { first, _ in first })
        case .delete:
            for input in inputs {
                try FileOperations.remove(input)
            }
            return [:]
        case .move:
            let folder = Self.join(Self.join(archive, Self.day(date, timeZone)), Self.safeLane(lane))
            try FileOperations.makeDirectory(folder)
            var moved: [String: String] = [:]
            for input in inputs where FileOperations.exists(input) {
                let destination = try freePath(in: folder, for: (input as NSString).lastPathComponent)
                try FileOperations.move(input, to: destination)
                moved[input] = destination
            }
            return moved
        }
    }

    /// The first free path for `fileName` in `folder`: `cat.png`, else `cat-2.png`, `cat-3.png`, ….
    func freePath(in folder: String, for fileName: String) throws -> String {
        let safe = fileName.hasPrefix(".") ? OutputNaming.sanitize(fileName) : fileName
        let dot = safe.lastIndex(of: ".").flatMap { $0 == safe.startIndex ? nil : $0 }
        let stem = dot.map { String(safe[..<$0]) } ?? safe
        let ext = dot.map { String(safe[$0...]) } ?? ""
        if !FileOperations.exists(Self.join(folder, safe)) { return Self.join(folder, safe) }
        let free = OutputNaming.uniqueStem(for: stem) { candidate in
            FileOperations.exists(Self.join(folder, candidate + ext))
        }
        guard let free else { throw OutboxError.noFreeName(directory: folder, name: fileName) }
        return Self.join(folder, free + ext)
    }

    /// `YYYY-MM-DD` of `date` in `timeZone`.
    static func day(_ date: Date, _ timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.year, 4))-\(pad(parts.month, 2))-\(pad(parts.day, 2))"
    }
}

/// Where a failed job's inputs went.
public struct FailedJobFolder: Sendable, Hashable {
    /// `failed/<lane>/<name>/`.
    public var path: String
    /// `<name>.error.txt` inside it.
    public var errorFile: String
    /// Each moved input's old path → new path.
    public var movedInputs: [String: String]
}
