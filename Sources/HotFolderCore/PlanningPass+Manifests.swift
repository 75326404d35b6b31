// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

extension PlanningPass {
    /// Manifest columns/keys that are not settings.
    static let manifestColumns: [String: ImageRole?] = [
        "name": nil, "first_frame": .firstFrame, "last_frame": .lastFrame, "reference": .reference,
    ]

    /// One candidate per manifest row, or a single failed job when the manifest as a whole is unusable.
    ///
    /// A bad row fails only that row; the images rows name are claimed so they never become orphans.
    mutating func manifestCandidates(_ manifest: DropEntry) -> ([JobCandidate], [JobSpec]) {
        let stem = Self.split(manifest.name)?.stem ?? manifest.name
        let file = label(manifest.path)
        func failed(_ problems: [DropProblem]) -> ([JobCandidate], [JobSpec]) {
            ([], [failedJob(name: stem, lane: manifest.folder, files: [manifest.path], problems: problems)])
        }
        if let tooDeep = depthProblem([manifest.path]) { return failed([tooDeep]) }
        let bytes: [UInt8]
        switch readSmallFile(manifest.path, field: "file", limit: options.limits.manifestBytes) {
        case .failure(let problem): return failed([problem])
        case .success(let read): bytes = read
        }
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        guard let text = String(validating: body, as: UTF8.self) else {
            return failed([.wrongShape(file: file, field: "file", reason: "is not UTF-8 text; export it as CSV UTF-8")])
        }
        let extraKeys = Set(Self.manifestColumns.keys)
        var rows: [(line: Int, pairs: [SettingsDocument.Pair]?, problem: DropProblem?)] = []
        if manifest.name.lowercased().hasSuffix(".csv") {
            let table: CSVTable
            do {
                table = try CSVTable.parse(text)
            } catch {
                switch error {
                case .unterminatedQuote(let line, let column):
                    return failed([.parseFailed(file: file, line: line, column: column, reason: "a quoted cell is never closed")])
                case .strayQuote(let line, let column):
                    return failed([.parseFailed(file: file, line: line, column: column,
                        reason: "a quote mark inside a cell that does not start with one; double it (\"\") or quote the whole cell")])
                case .empty:
                    return failed([.badRow(file: file, reason: "the manifest is empty; the first row must name the columns, e.g. `name,prompt`")])
                }
            }
            let unknown = table.header.filter { !$0.isEmpty && SettingKey(written: $0) == nil && !extraKeys.contains(SettingKey.normalize($0)) }
            if !unknown.isEmpty {
                let allKeys = SettingKey.allCases.map(\.rawValue) + extraKeys.sorted()
                return failed(unknown.map {
                    .unknownKey(file: file + " line 1", key: $0, suggestion: SettingKey.suggestion(for: $0, among: allKeys))
                })
            }
            for row in table.rows {
                let extra = row.cells.dropFirst(table.header.count).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
                if !extra.isEmpty {
                    rows.append((row.line, nil, .badRow(file: "\(file) line \(row.line)",
                        reason: "the row has \(row.cells.count) cells but the header has \(table.header.count) columns; "
                            + "put cells that contain commas in double quotes")))
                    continue
                }
                var pairs: [SettingsDocument.Pair] = []
                for (column, cell) in zip(table.header, row.cells) where !column.isEmpty {
                    let value = cell.trimmingCharacters(in: .whitespacesAndNewlines)
                    if !value.isEmpty { pairs.append((column, .scalar(value))) }
                }
                rows.append((row.line, pairs, nil))
            }
        } else {
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if line.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { continue }
                switch SettingsDocument.parseJSON(String(line), file: file, lineOffset: index) {
                case .success(let pairs): rows.append((index + 1, pairs, nil))
                case .failure(let problem): rows.append((index + 1, nil, problem))
                }
            }
        }
        var candidates: [JobCandidate] = []
        var failedRows: [JobSpec] = []
        for (line, pairs, problem) in rows {
            let source = "\(file) line \(line)"
            let fallbackName = "\(stem)-\(line)"
            guard let pairs else {
                failedRows.append(failedJob(name: fallbackName, lane: manifest.folder, files: [manifest.path],
                    problems: [problem!]))
                continue
            }
            let (layer, extras, problems) = Self.layer(from: pairs, source: source, file: source, extraKeys: extraKeys)
            var candidate = JobCandidate(name: fallbackName, lane: manifest.folder, folder: manifest.folder, shotFolder: false)
            candidate.row = layer
            candidate.manifest = manifest.path
            candidate.problems = problems
            if let name = extras["name"] {
                if name.contains("/") || name.contains("\\") || name.hasPrefix(".") {
                    candidate.problems.append(.badRow(file: source, reason: "the name `\(name)` must be a plain name without `/`, `\\` or a leading dot"))
                } else {
                    candidate.name = name
                }
            }
            for column in ["first_frame", "last_frame", "reference"] {
                guard let written = extras[column], let role = Self.manifestColumns[column] ?? nil else { continue }
                guard let path = Self.resolve(written, from: manifest.folder) else {
                    candidate.problems.append(.pathOutsideInbox(file: source, field: column, path: written))
                    continue
                }
                guard entry(at: path) != nil else {
                    candidate.problems.append(.missingFile(file: source, field: column, path: written))
                    continue
                }
                claimed.insert(path)
                candidate.images.append((role, path))
            }
            candidates.append(candidate)
        }
        return (candidates, failedRows)
    }

    /// Resolves a manifest-relative path (with `.` and `..`) to an inbox-relative one; nil when it leaves the inbox.
    static func resolve(_ written: String, from folder: String) -> String? {
        guard !written.hasPrefix("/") else { return nil }
        var parts = folder.split(separator: "/").map(String.init)
        for component in written.split(separator: "/") {
            switch component {
            case ".": continue
            case "..":
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            default: parts.append(String(component))
            }
        }
        return parts.isEmpty ? nil : parts.joined(separator: "/")
    }

    /// A job that failed before its settings could be resolved (an unreadable manifest or row).
    func failedJob(name: String, lane: String, files: [String], problems: [DropProblem]) -> JobSpec {
        JobSpec(
            name: name, lane: lane, mode: .textToVideo, status: .invalid,
            request: GenerationRequest(model: SeedanceModel.fast.rawValue, prompt: ""), images: [], settings: [:],
            inputFiles: files, priority: 0, outputName: name, estimate: nil, errors: (configProblems + problems).map(\.report),
            newestModification: files.compactMap { entry(at: $0)?.modified }.max() ?? now)
    }
}
