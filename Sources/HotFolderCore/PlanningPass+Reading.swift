// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

extension PlanningPass {
    /// Checks that `path` is something safe to open (a regular file inside the inbox, within `limit`)
    /// and returns its entry; never opens pipes, devices or links that leave the inbox.
    func checkReadable(_ path: String, field: String, limit: Int64) -> Result<DropEntry, DropProblem> {
        guard let entry = self.entry(at: path) else {
            return .failure(.unreadable(file: label(path), field: field, reason: "it is no longer there"))
        }
        switch entry.kind {
        case .regular:
            break
        case .symlink:
            switch entry.link {
            case .inside(_, .regular, _)?: break
            case .inside(_, let kind, _)?: return .failure(.notAFile(file: label(path), field: field, kind: kind))
            case .outside(let target)?:
                return .failure(.linkOutsideInbox(file: label(path), field: field, target: target))
            case .broken?, nil: return .failure(.brokenLink(file: label(path), field: field))
            }
        case .directory, .fifo, .other:
            return .failure(.notAFile(file: label(path), field: field, kind: entry.kind))
        }
        if entry.size > limit {
            return .failure(.fileTooLarge(file: label(path), field: field, size: entry.size, limit: Int(limit)))
        }
        return .success(entry)
    }

    /// Reads a whole small file, refusing it (unread) when it is larger than `limit`.
    func readSmallFile(_ path: String, field: String, limit: Int) -> Result<[UInt8], DropProblem> {
        switch checkReadable(path, field: field, limit: Int64(limit)) {
        case .failure(let problem): return .failure(problem)
        case .success: break
        }
        // Read one byte more than allowed: a file that grew since the listing is still caught.
        let bytes: [UInt8]
        do {
            bytes = try source.read(path, maxBytes: limit + 1)
        } catch {
            return .failure(readProblem(error, path: path, field: field))
        }
        guard bytes.count <= limit else {
            return .failure(.fileTooLarge(file: label(path), field: field, size: Int64(bytes.count), limit: limit))
        }
        return .success(bytes)
    }

    /// Maps a ``DropReadError`` (or anything else) to a job problem.
    func readProblem(_ error: any Error, path: String, field: String) -> DropProblem {
        switch error as? DropReadError {
        case .notRegularFile?: .notAFile(file: label(path), field: field, kind: .other)
        case .outsideInbox(_, let target)?: .linkOutsideInbox(file: label(path), field: field, target: target)
        case .unreadable(_, let reason)?: .unreadable(file: label(path), field: field, reason: reason)
        case nil: .unreadable(file: label(path), field: field, reason: "\(error)")
        }
    }

    /// Reads a settings file (sidecar, `settings.yaml`, `_defaults.yaml`) into a layer.
    func settingsLayer(from path: String, syntax: SettingsDocument.Syntax) -> (SettingsLayer?, [DropProblem]) {
        let bytes: [UInt8]
        switch readSmallFile(path, field: "file", limit: options.limits.settingsBytes) {
        case .failure(let problem): return (nil, [problem])
        case .success(let read): bytes = read
        }
        switch SettingsDocument.parse(bytes, syntax: syntax, file: label(path)) {
        case .failure(let problem): return (nil, [problem])
        case .success(let pairs):
            let (layer, _, problems) = Self.layer(from: pairs, source: label(path), file: label(path), extraKeys: [])
            return (layer, problems)
        }
    }

    static let scheduleForm = "windows and days, e.g. `schedule: {windows: [\"22:00-06:00\"], days: [mon, tue, wed, thu, fri]}`"
    static let laneBudgetForm = "a number of US dollars per day, 0 or more, e.g. `lane_budget_daily: 10`"

    /// Reads a folder's `_defaults` file: its settings layer, and its own lane policy keys (see ``LanePolicy``).
    func defaultsLayer(from path: String, syntax: SettingsDocument.Syntax)
        -> (SettingsLayer?, FolderPolicy, [DropProblem])
    {
        let bytes: [UInt8]
        switch readSmallFile(path, field: "file", limit: options.limits.settingsBytes) {
        case .failure(let problem): return (nil, FolderPolicy(), [problem])
        case .success(let read): bytes = read
        }
        switch SettingsDocument.parse(bytes, syntax: syntax, file: label(path)) {
        case .failure(let problem): return (nil, FolderPolicy(), [problem])
        case .success(let pairs):
            let file = label(path)
            let (layer, extras, found) = Self.layer(from: pairs, source: file, file: file, extraKeys: LanePolicy.keys)
            var problems = found
            var policy = FolderPolicy(source: file)
            if let text = extras["lane_budget_daily"] {
                if let amount = Double(text.trimmingCharacters(in: .whitespaces)), amount >= 0, amount.isFinite {
                    policy.budgetDaily = amount
                } else {
                    problems.append(.wrongType(file: file, key: "lane_budget_daily", value: text, expected: Self.laneBudgetForm))
                }
            }
            if let text = extras["schedule"] {
                // A plain `schedule: "22:00-06:00"` lists windows only.
                let parsed = text.contains("=")
                    ? SubmissionSchedule.parse(compact: text)
                    : SubmissionSchedule.parse(windows: text.split(separator: ",").map(String.init), days: [])
                switch parsed {
                case .success(let schedule): policy.schedule = schedule
                case .failure(let error):
                    problems.append(.wrongType(file: file, key: "schedule", value: text, expected: "\(error); \(Self.scheduleForm)"))
                }
            }
            return (layer, policy, problems)
        }
    }

    /// Builds a layer from written pairs; names in `extraKeys` (manifest columns such as `first_frame`) are
    /// returned separately instead of being reported as unknown settings.
    ///
    /// A list or nested block where one value belongs is reported here, against the file that wrote it,
    /// and left out of the layer, so it is caught even when a more specific layer sets the same key.
    static func layer(from pairs: [SettingsDocument.Pair], source: String, file: String, extraKeys: Set<String>)
        -> (SettingsLayer, [String: String], [DropProblem])
    {
        var layer = SettingsLayer(source: source)
        var extras: [String: String] = [:]
        var problems: [DropProblem] = []
        let allKeys = SettingKey.allCases.map(\.rawValue) + extraKeys.sorted()
        for (name, value) in pairs {
            let normalized = SettingKey.normalize(name)
            if extraKeys.contains(normalized) {
                if case .scalar(let text) = value {
                    extras[normalized] = text
                } else {
                    let expected = switch normalized {
                    case "name": "one plain name, e.g. `\"name\": \"intro\"`"
                    case "schedule": Self.scheduleForm
                    case "lane_budget_daily": Self.laneBudgetForm
                    default: "one path relative to the manifest, e.g. `\"\(normalized)\": \"img/intro.png\"`"
                    }
                    problems.append(.wrongType(file: file, key: normalized, value: value.text, expected: expected))
                }
            } else if let key = SettingKey(written: name) {
                if value.fits(key) {
                    layer.values[key] = value
                } else {
                    problems.append(.wrongType(file: file, key: key.rawValue, value: value.text, expected: key.expectedForm))
                }
            } else {
                problems.append(.unknownKey(file: file, key: name, suggestion: SettingKey.suggestion(for: name, among: allKeys)))
            }
        }
        return (layer, extras, problems)
    }
}
