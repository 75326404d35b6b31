// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Small POSIX building blocks for files that are never seen half-written and never overwritten.
///
/// A file is written to a hidden temporary name beside its destination (`.NAME.tmp-XXXXXX`: the watcher ignores
/// dotfiles), flushed with `fsync`, then given its final name by `link` (which fails instead of replacing) or
/// `rename`; the directory is flushed too, so the name survives a power cut.
enum FileOperations {
    /// A hidden temporary path beside `destination`: `.NAME.tmp-XXXXXX`.
    static func temporaryPath(for destination: String) -> String {
        let directory = (destination as NSString).deletingLastPathComponent
        let name = (destination as NSString).lastPathComponent
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        let random = String((0..<6).map { _ in alphabet.randomElement()! })
        return (directory as NSString).appendingPathComponent(".\(name).tmp-\(TemporaryFiles.mark)\(random)")
    }

    /// Creates `path` and its parents (mode 0755) when missing.
    static func makeDirectory(_ path: String) throws {
        if isDirectory(path) { return }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw outboxError(error, operation: "create the folder", path: path)
        }
    }

    /// Writes `data` to `destination` atomically: temp file, fsync, then a no-replace link (or, with
    /// `replace`, a rename over an existing file). The temp file is removed on any error.
    static func writeAtomically(_ data: Data, to destination: String, replace: Bool, mode: mode_t = 0o644) throws {
        let temporary = try createExclusive(temporaryPath(for: destination), mode: mode) { descriptor, path in
            try writeAll(descriptor, data, path: path)
        }
        do {
            try place(temporary, at: destination, replace: replace)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Creates `path` with `O_EXCL`, lets `body` write it, fsyncs and closes it; removes it on error.
    /// Returns the path.
    @discardableResult
    static func createExclusive(
        _ path: String, mode: mode_t = 0o644, _ body: (Int32, String) throws -> Void
    ) throws -> String {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw OutboxError.from(errno: errno, operation: "create", path: path) }
        do {
            try body(descriptor, path)
            guard fsync(descriptor) == 0 else { throw OutboxError.from(errno: errno, operation: "flush", path: path) }
            guard close(descriptor) == 0 else {
                throw OutboxError.from(errno: errno, operation: "close", path: path)
            }
        } catch {
            close(descriptor)
            unlink(path)
            throw error
        }
        return path
    }

    /// Writes all of `data` to an open descriptor, retrying short writes and interrupts.
    static func writeAll(_ descriptor: Int32, _ data: Data, path: String) throws {
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw OutboxError.from(errno: errno, operation: "write", path: path)
                }
                offset += written
            }
        }
    }

    /// Gives the complete file `source` the name `destination` on the same file system, never replacing unless
    /// `replace`; flushes the directory.
    static func place(_ source: String, at destination: String, replace: Bool) throws {
        if replace {
            guard rename(source, destination) == 0 else {
                throw OutboxError.from(errno: errno, operation: "rename into place", path: destination)
            }
        } else if link(source, destination) == 0 {
            unlink(source)
        } else {
            let code = errno
            // Some shares (SMB, FAT) have no hard links: check, then rename. Only this service writes here.
            guard code == EPERM || code == ENOTSUP || code == EOPNOTSUPP || code == EMLINK else {
                throw OutboxError.from(errno: code, operation: "link into place", path: destination)
            }
            guard !exists(destination) else { throw OutboxError.destinationExists(path: destination) }
            guard rename(source, destination) == 0 else {
                throw OutboxError.from(errno: errno, operation: "rename into place", path: destination)
            }
        }
        syncDirectory(of: destination)
    }

    /// Moves a file or folder to `destination` without replacing anything: a rename on the same file system,
    /// otherwise a copy (flushed) into a temporary name, a no-replace placement, then removal of the source.
    static func move(_ source: String, to destination: String) throws {
        guard !exists(destination) else { throw OutboxError.destinationExists(path: destination) }
        if isDirectory(source) {
            // rename() replaces an empty directory; the check above guards against that.
            if rename(source, destination) == 0 {
                syncDirectory(of: destination)
                return
            }
            let code = errno
            guard code == EXDEV else { throw OutboxError.from(errno: code, operation: "move", path: source) }
            let temporary = temporaryPath(for: destination)
            do {
                try FileManager.default.copyItem(atPath: source, toPath: temporary)
                guard rename(temporary, destination) == 0 else {
                    throw OutboxError.from(errno: errno, operation: "rename into place", path: destination)
                }
            } catch {
                try? FileManager.default.removeItem(atPath: temporary)
                throw outboxError(error, operation: "copy", path: destination)
            }
            try? FileManager.default.removeItem(atPath: source)
            return
        }
        if link(source, destination) == 0 {
            guard unlink(source) == 0 else { throw OutboxError.from(errno: errno, operation: "remove", path: source) }
            syncDirectory(of: destination)
            return
        }
        let code = errno
        switch code {
        case EXDEV:
            try copyFile(source, to: destination)
            guard unlink(source) == 0 else { throw OutboxError.from(errno: errno, operation: "remove", path: source) }
        case EPERM, ENOTSUP, EOPNOTSUPP, EMLINK:
            guard rename(source, destination) == 0 else {
                throw OutboxError.from(errno: errno, operation: "move", path: source)
            }
            syncDirectory(of: destination)
        default:
            throw OutboxError.from(errno: code, operation: "move", path: source)
        }
    }

    /// Copies the regular file `source` to `destination` (temp, fsync, no-replace placement).
    static func copyFile(_ source: String, to destination: String) throws {
        // Never through a symbolic link (it could point out of the inbox), never a FIFO or device.
        let input = open(source, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard input >= 0 else { throw OutboxError.from(errno: errno, operation: "open", path: source) }
        defer { close(input) }
        var status = stat()
        guard fstat(input, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw OutboxError.from(errno: EINVAL, operation: "copy (not a regular file)", path: source)
        }
        let mode: mode_t = status.st_mode & 0o777
        let temporary = try createExclusive(temporaryPath(for: destination), mode: mode) { output, path in
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress!, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw OutboxError.from(errno: errno, operation: "read", path: source)
                }
                if count == 0 { break }
                try writeAll(output, Data(buffer[0..<count]), path: path)
            }
        }
        do {
            try place(temporary, at: destination, replace: false)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Removes a file or a folder with its contents; a missing path is not an error.
    static func remove(_ path: String) throws {
        guard exists(path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw outboxError(error, operation: "delete", path: path)
        }
    }

    /// Flushes the directory holding `path`, so a new name survives a power cut. Some file systems refuse; a
    /// refusal is not an error.
    static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let descriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }

    /// Whether anything (a dangling symlink included) exists at `path`.
    static func exists(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0
    }

    /// Whether `path` is a directory (not following a final symlink).
    static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    }

    /// Maps a Foundation error to ``OutboxError``, recognising a full disk.
    static func outboxError(_ error: any Error, operation: String, path: String) -> OutboxError {
        if let error = error as? OutboxError { return error }
        var current: NSError? = error as NSError
        while let nsError = current {
            if nsError.domain == NSPOSIXErrorDomain {
                return OutboxError.from(errno: Int32(nsError.code), operation: operation, path: path)
            }
            if nsError.domain == NSCocoaErrorDomain && nsError.code == CocoaError.fileWriteOutOfSpace.rawValue {
                return .diskFull(operation: operation, path: path)
            }
            current = nsError.userInfo[NSUnderlyingErrorKey] as? NSError
        }
        return .io(operation: operation, path: path, errno: EIO)
    }
}
