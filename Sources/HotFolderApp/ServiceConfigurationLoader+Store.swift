// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderIO

/// The PostgreSQL password: the contents of `store_password_file` (or `hotfolder migrate --password-file`), else
/// `PGPASSWORD`, else none (a trusted or peer login). Never from the URL, never logged.
public struct StorePassword: Sendable, Equatable {
    /// The password; nil when neither the file nor the environment gives one.
    public var value: String?
    /// Where it came from (the file's path or `PGPASSWORD`), for messages.
    public var source: String?
    /// Advice to print (a file readable by others).
    public var warnings: [String] = []

    /// The variable libpq and `psql` read the password from.
    public static let variable = "PGPASSWORD"

    /// Reads the password from `file` when given, else from `environment`.
    ///
    /// - Throws: ``ConfigurationError/conflict(_:)`` with a sentence when the file is missing, unreadable or empty.
    public static func read(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> StorePassword {
        guard let file else {
            let value = environment[variable]
            return value?.isEmpty == false ? StorePassword(value: value, source: variable) : StorePassword()
        }
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: file)
        } catch {
            throw ConfigurationError.conflict("The database password file \(file) does not exist; create it (mode 600) or remove store_password_file.")
        }
        var warnings: [String] = []
        if let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o044 != 0 {
            warnings.append(
                "The database password file \(file) is readable by group or others (mode \(String(mode & 0o777, radix: 8))); run `chmod 600 \(file)`.")
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigurationError.conflict("The database password file \(file) cannot be read by this user; check its owner and mode.")
        }
        let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { throw ConfigurationError.conflict("The database password file \(file) is empty.") }
        return StorePassword(value: value, source: file, warnings: warnings)
    }
}

extension ServiceConfiguration {
    /// The shared database's endpoint with its password, or nil on the embedded SQLite store (no `store:`).
    public func storeEndpoint(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (PostgresEndpoint, warnings: [String])? {
        guard let store else { return nil }
        let password = try StorePassword.read(file: storePasswordFile, environment: environment)
        do {
            return (try PostgresEndpoint(url: store, password: password.value), password.warnings)
        } catch {
            throw ConfigurationError.conflict("store: \(error.description)")
        }
    }
}
