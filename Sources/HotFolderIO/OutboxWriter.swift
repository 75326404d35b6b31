// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
#if canImport(Glibc)
import Glibc
#endif

/// Writes what people see: videos, metadata and logs into `outbox/<lane>/`, failed jobs' inputs into
/// `failed/<lane>/<name>/`, finished jobs' inputs into `archive/<YYYY-MM-DD>/<lane>/`.
///
/// No file ever appears half-written (temp name, fsync, rename) and nothing is ever overwritten: names that are
/// taken get `-2`, `-3`, …. A full disk surfaces as ``OutboxError/diskFull(operation:path:)`` so the service can
/// wait and retry. Folders are created as needed.
public struct OutboxWriter: Sendable {
    /// Where videos, metadata and logs go.
    public var outbox: String
    /// Where failed jobs' inputs go.
    public var failed: String
    /// Where finished jobs' inputs go under the `move` policy.
    public var archive: String
    /// The extensions that share an output's stem: a stem is free only if none of them exists.
    public var outputExtensions: [String]

    /// Creates a writer for these folders.
    public init(outbox: String, failed: String, archive: String, outputExtensions: [String] = ["mp4", "json", "log", "jpg"]) {
        self.outbox = outbox
        self.failed = failed
        self.archive = archive
        self.outputExtensions = outputExtensions
    }

    /// Reserves a free output stem in `outbox/<lane>/`: `name`, else `name-2`, `name-3`, ….
    ///
    /// The reservation is the job's log file, created with `O_EXCL`, so two jobs (or two services) can never get
    /// the same stem; a stem whose `.mp4` or `.json` exists is skipped too. Keep ``OutputReservation/stemPath``
    /// (in the job's `outputPath`) and rebuild it with ``reservation(stemPath:)`` after a restart.
    public func reserve(lane: String, name: String) throws -> OutputReservation {
        let directory = Self.join(outbox, Self.safeLane(lane))
        try FileOperations.makeDirectory(directory)
        let stem = try OutputNaming.uniqueStem(for: name) { candidate in
            try !claim(directory: directory, stem: candidate)
        }
        guard let stem else { throw OutboxError.noFreeName(directory: directory, name: name) }
        return OutputReservation(directory: directory, stem: stem)
    }

    /// The reservation whose stem path (`…/outbox/<lane>/<stem>`) was stored earlier.
    public func reservation(stemPath: String) -> OutputReservation {
        OutputReservation(
            directory: (stemPath as NSString).deletingLastPathComponent,
            stem: (stemPath as NSString).lastPathComponent)
    }

    /// Gives back a stem reserved for a job that did not leave the queue after all (a budget held it): its log is
    /// removed while it is still empty and nothing else was written under the stem.
    public func release(_ reservation: OutputReservation) {
        let log = Self.join(reservation.directory, reservation.stem + ".log")
        let siblings = outputExtensions.filter { $0 != "log" }.map { Self.join(reservation.directory, "\(reservation.stem).\($0)") }
        guard FileSystemProbe.lstat(log)?.size == 0, !siblings.contains(where: FileOperations.exists) else { return }
        unlink(log)
    }

    /// Creates the stem's log exclusively and checks its siblings; returns whether the stem is now ours.
    func claim(directory: String, stem: String) throws -> Bool {
        let log = Self.join(directory, stem + ".log")
        let descriptor = open(log, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if descriptor < 0 {
            if errno == EEXIST { return false }
            throw OutboxError.from(errno: errno, operation: "reserve", path: log)
        }
        close(descriptor)
        let siblings = outputExtensions.filter { $0 != "log" }.map { Self.join(directory, "\(stem).\($0)") }
        if siblings.contains(where: FileOperations.exists) {
            unlink(log)
            return false
        }
        return true
    }

    /// A hidden temporary path in the reservation's folder to download the video into, so that
    /// ``installVideo(from:for:)`` is a rename on the same file system.
    public func temporaryVideoPath(for reservation: OutputReservation) -> String {
        FileOperations.temporaryPath(for: reservation.videoPath)
    }

    /// Gives a complete downloaded video its final name `<stem>.mp4`, never replacing an existing file.
    ///
    /// A rename on the same file system; across file systems a flushed copy into a temp name, then a rename, then
    /// the source is removed. Safe to repeat after a crash: if the video is already in place (same file, or the
    /// source is gone), the call succeeds and removes any leftover source.
    public func installVideo(from source: String, for reservation: OutputReservation) throws {
        let destination = reservation.videoPath
        if !FileOperations.exists(source) && FileOperations.exists(destination) {
            return  // installed before a crash: the reserved name is only ever written by this job
        }
        if Self.sameFile(source, destination) {
            unlink(source)
            return
        }
        try FileOperations.move(source, to: destination)
    }

    /// Writes the job's metadata `<stem>.json` atomically, replacing an earlier version of it (the stem is ours).
    public func writeMetadata(_ data: Data, for reservation: OutputReservation) throws {
        try FileOperations.writeAtomically(data, to: reservation.metadataPath, replace: true)
    }

    /// Writes any file atomically (temp name, fsync, rename) creating its folder; fails with
    /// ``OutboxError/destinationExists(path:)`` rather than replacing unless `replace` is true.
    public func writeFile(_ data: Data, to path: String, replace: Bool = false) throws {
        try FileOperations.makeDirectory((path as NSString).deletingLastPathComponent)
        try FileOperations.writeAtomically(data, to: path, replace: replace)
    }

    /// Appends one time-stamped entry to the job's `<stem>.log` (created if missing); continuation lines are
    /// indented so each entry stays readable.
    public func appendLog(_ message: String, at date: Date, for reservation: OutputReservation) throws {
        let stamp = date.formatted(.iso8601)
        let body = message.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n    ")
        try appendLine("\(stamp) \(body)\n", to: reservation.logPath)
    }

    /// Appends `text` with one `write` to an `O_APPEND` file, so concurrent entries never interleave.
    func appendLine(_ text: String, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw OutboxError.from(errno: errno, operation: "open the log", path: path) }
        defer { close(descriptor) }
        try FileOperations.writeAll(descriptor, Data(text.utf8), path: path)
    }

    /// Removes hidden temporary files (`.NAME.tmp-XXXXXX`) left in `outbox/<lane>/` by a crash. Call it at
    /// start-up, before any download into that folder begins. Returns the paths removed.
    @discardableResult
    public func removeTemporaryFiles(lane: String) throws -> [String] {
        let directory = Self.join(outbox, Self.safeLane(lane))
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(".") && name.contains(".tmp-") {
            let path = Self.join(directory, name)
            try FileOperations.remove(path)
            removed.append(path)
        }
        return removed
    }

    // MARK: - Paths

    /// `lane` as safe relative path components: each one sanitised, `.` and `..` and empty ones dropped.
    public static func safeLane(_ lane: String) -> String {
        lane.split(separator: "/")
            .filter { $0 != "." && $0 != ".." && !$0.isEmpty }
            .map { OutputNaming.sanitize(String($0)) }
            .joined(separator: "/")
    }

    static func join(_ base: String, _ component: String) -> String {
        component.isEmpty ? base : (base as NSString).appendingPathComponent(component)
    }

    static func sameFile(_ first: String, _ second: String) -> Bool {
        var a = stat()
        var b = stat()
        return lstat(first, &a) == 0 && lstat(second, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }
}

/// An output stem reserved in the outbox: `<directory>/<stem>.mp4`, `.json`, `.log`.
public struct OutputReservation: Sendable, Hashable {
    /// The lane folder in the outbox.
    public var directory: String
    /// The reserved stem, collision suffix included (`cat-2`).
    public var stem: String

    /// Creates a reservation value (use ``OutboxWriter/reserve(lane:name:)`` to reserve a stem).
    public init(directory: String, stem: String) {
        self.directory = directory
        self.stem = stem
    }

    /// `<directory>/<stem>`: what the job row keeps as its output path.
    public var stemPath: String { OutboxWriter.join(directory, stem) }
    /// `<stem>.mp4`.
    public var videoPath: String { stemPath + ".mp4" }
    /// `<stem>.json`.
    public var metadataPath: String { stemPath + ".json" }
    /// `<stem>.log`.
    public var logPath: String { stemPath + ".log" }
}
