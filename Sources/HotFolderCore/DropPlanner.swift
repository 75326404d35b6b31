// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// Turns the contents of an inbox into jobs: the drop protocol of DESIGN §2.
///
/// The planner is pure: it sees the inbox only through a ``DropSource`` and the time only through `now`,
/// so the service, `hotfolder plan` and the tests all run the same rules.
///
/// ```swift
/// let planner = DropPlanner(options: PlannerOptions(config: ["model": "quality"], prices: prices))
/// let plan = try planner.plan(FileSystemDropSource(root: inbox), now: Date())
/// for job in plan.jobs where job.status == .valid { … }
/// ```
public struct DropPlanner: Sendable {
    /// Config layer, prices, timeouts and limits.
    public var options: PlannerOptions

    /// Creates a planner.
    public init(options: PlannerOptions = PlannerOptions()) {
        self.options = options
    }

    /// Reads the inbox once and returns every job, sorted by lane and name.
    ///
    /// Only the listing can throw (e.g. the inbox does not exist); a problem with any single file ends up
    /// in the errors of the job it belongs to.
    public func plan(_ source: some DropSource, now: Date) throws -> Plan {
        try plan(source, now: now, skipping: { _ in false })
    }

    /// Reads the inbox once and returns the jobs of every group that `skip` does not rule out.
    ///
    /// `skip` sees a would-be job's input files (relative paths, sorted) *before* any of them is read, so a
    /// caller that already knows the answer for some groups (the service: files that already belong to a
    /// job, or are still being written) does not pay for reading, hashing and validating them again.
    /// Manifests are still read, because the images their rows name must not become groups of their own.
    public func plan(_ source: some DropSource, now: Date, skipping skip: ([String]) -> Bool) throws -> Plan {
        var pass = PlanningPass(source: source, options: options, entries: try source.entries(), now: now)
        let jobs = pass.run(skipping: skip)
        return Plan(jobs: jobs, archives: pass.archives())
    }
}

/// What one folder's `_defaults` file says about spending and hours.
struct FolderPolicy: Sendable, Hashable {
    var budgetDaily: Double?
    var schedule: SubmissionSchedule?
    var source: String = ""
}

/// The state of one planning run over one listing.
struct PlanningPass {
    let source: any DropSource
    let options: PlannerOptions
    let now: Date
    /// Visible folder entries (no hidden or temporary component) by relative path; files are found in ``files``
    /// with ``entry(at:)``. Not one table of every entry: in an inbox of 100,000 files it would double the
    /// memory a pass needs, for lookups a search of the folder's sorted files answers as well.
    var folderEntries: [String: DropEntry] = [:]
    /// Visible non-folder entries by folder, sorted by path.
    var files: [String: [DropEntry]] = [:]
    /// Visible folders, "" included.
    var folders: Set<String> = [""]
    /// Parsed `_defaults` layers (or their problems) by folder.
    var defaultsByFolder: [String: (layers: [SettingsLayer], problems: [DropProblem])] = [:]
    /// What each folder's `_defaults` file says about spending and hours.
    var policyByFolder: [String: FolderPolicy] = [:]
    /// Files that belong to a manifest row and so never form a stem group.
    var claimed: Set<String> = []
    let configLayer: SettingsLayer
    let configProblems: [DropProblem]

    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "webp"]
    /// Images the API does not take but ffmpeg converts to PNG before they are sent.
    static let convertibleImageExtensions: Set<String> = ["gif", "bmp", "tif", "tiff", "heic", "heif", "avif"]
    /// Design documents: they get an error saying which export to use.
    static let unsupportedImageExtensions: Set<String> = ["psd", "psb", "ai", "eps", "svg", "pdf", "sketch", "fig", "xd"]
    /// Images a job can use, converted or not.
    static let usableImageExtensions = imageExtensions.union(convertibleImageExtensions)
    static let settingsExtensions: Set<String> = ["yaml", "yml", "json"]

    init(source: some DropSource, options: PlannerOptions, entries list: [DropEntry], now: Date) {
        self.source = source
        self.options = options
        self.now = now
        (configLayer, configProblems) = SettingsLayer.fromWritten(options.config, source: options.configSource)
        for entry in list {
            let components = entry.path.split(separator: "/")
            guard !components.isEmpty, !components.contains(where: { FileNameRules.isTemporaryOrHidden(String($0)) })
            else { continue }
            if entry.kind == .directory {
                folderEntries[entry.path] = entry
                folders.insert(entry.path)
            } else {
                files[entry.folder, default: []].append(entry)
            }
        }
        for folder in Array(files.keys) { files[folder]?.sort { $0.path < $1.path } }
    }

    /// The visible entry at `path` (relative to the inbox), nil when the listing has none.
    func entry(at path: String) -> DropEntry? {
        if let folder = folderEntries[path] { return folder }
        guard let list = files[Self.parent(path)] else { return nil }
        var (low, high) = (0, list.count)
        while low < high {
            let middle = (low + high) / 2
            if list[middle].path < path { low = middle + 1 } else { high = middle }
        }
        return low < list.count && list[low].path == path ? list[low] : nil
    }

    /// How a path is shown to people: prefixed with the inbox label.
    func label(_ path: String) -> String {
        options.inboxLabel.isEmpty ? path : options.inboxLabel + "/" + path
    }

    static func lastComponent(_ folder: String) -> String {
        folder.split(separator: "/").last.map(String.init) ?? folder
    }

    static func parent(_ folder: String) -> String {
        guard let slash = folder.lastIndex(of: "/") else { return "" }
        return String(folder[..<slash])
    }

    /// Splits `door.first.PNG` into the stem `door` and the lower-cased rest `first.png`.
    static func split(_ name: String) -> (stem: String, rest: String)? {
        FileNameRules.split(name)
    }

    mutating func run(skipping skip: ([String]) -> Bool = { _ in false }) -> [JobSpec] {
        for folder in folders {
            let (layers, policy, problems) = loadDefaults(in: folder)
            defaultsByFolder[folder] = (layers, problems)
            if policy.budgetDaily != nil || policy.schedule != nil { policyByFolder[folder] = policy }
        }
        var jobs: [JobSpec] = []
        var candidates: [JobCandidate] = []
        // Manifests first: the images they name must not also become orphan stem groups.
        for folder in folders.sorted() {
            for entry in files[folder] ?? [] {
                guard FileNameRules.isManifest(entry.name) else { continue }
                let (rows, failed) = manifestCandidates(entry)
                candidates += rows
                jobs += failed
            }
        }
        jobs.removeAll { skip($0.inputFiles) }
        // Each group is checked against `skip` (once) as soon as it is made: in an inbox of 100,000 files that already
        // are jobs, the groups skipped are never all held in memory at once.
        candidates.removeAll { skip($0.inputFiles) }
        for folder in folders.sorted() {
            if isStoryboard(folder) {
                jobs += storyboardJobs(folder, skipping: skip)  // already checked against `skip`
            } else if folder != "", let shot = shotFolderCandidate(folder) {
                if !skip(shot.inputFiles) { candidates.append(shot) }
            } else {
                candidates += stemCandidates(in: folder).filter { !skip($0.inputFiles) }
            }
        }
        for candidate in candidates { jobs += build(candidate) }
        return jobs.sorted { ($0.lane, $0.name) < ($1.lane, $1.name) }
    }

    /// The ZIP archives of this listing, read as the service reads them (it unpacks them before planning).
    func archives() -> [String: String]? {
        var found: [String: String] = [:]
        for entry in files.values.joined() where entry.name.lowercased().hasSuffix(".zip") && entry.name.count > 4 {
            let folder = String(entry.name.dropLast(4))
            found[entry.path] = "ZIP archive: the service unpacks it into \(label(entry.folder.isEmpty ? folder : entry.folder + "/" + folder))/ "
                + "(refusing unsafe entries) and plans that folder like any other; the archive then goes to the archive folder"
        }
        return found.isEmpty ? nil : found
    }

    // MARK: Folder defaults

    func loadDefaults(in folder: String) -> (layers: [SettingsLayer], policy: FolderPolicy, problems: [DropProblem]) {
        var layers: [SettingsLayer] = []
        var policy = FolderPolicy()
        var problems: [DropProblem] = []
        for entry in files[folder] ?? [] {
            guard let (stem, rest) = Self.split(entry.name), stem == "_defaults",
                Self.settingsExtensions.contains(rest)
            else { continue }
            let (layer, found, foundProblems) = defaultsLayer(from: entry.path, syntax: rest == "json" ? .json : .yaml)
            if let layer { layers.append(layer) }
            policy.budgetDaily = found.budgetDaily ?? policy.budgetDaily
            if found.schedule != nil { (policy.schedule, policy.source) = (found.schedule, found.source) }
            problems += foundProblems
        }
        return (layers, policy, problems)
    }

    /// The lane policy over a job in `folder`: every cap from the inbox down, and the nearest schedule.
    func lanePolicy(for folder: String) -> LanePolicy? {
        var chain = [""]
        var path = ""
        for component in folder.split(separator: "/") {
            path = path.isEmpty ? String(component) : path + "/" + component
            chain.append(path)
        }
        var policy = LanePolicy()
        for step in chain {
            guard let found = policyByFolder[step] else { continue }
            if let daily = found.budgetDaily { policy.budgets.append(LaneCap(folder: step, daily: daily)) }
            if let schedule = found.schedule { (policy.schedule, policy.scheduleSource) = (schedule, found.source) }
        }
        return policy.budgets.isEmpty && policy.schedule == nil ? nil : policy
    }

    /// The `_defaults` layers from the inbox root down to `folder`, with their problems.
    func defaultsChain(to folder: String) -> (layers: [SettingsLayer], problems: [DropProblem]) {
        var chain = [""]
        var path = ""
        for component in folder.split(separator: "/") {
            path = path.isEmpty ? String(component) : path + "/" + component
            chain.append(path)
        }
        var result: (layers: [SettingsLayer], problems: [DropProblem]) = ([], [])
        for step in chain {
            guard let found = defaultsByFolder[step] else { continue }
            result.layers += found.layers
            result.problems += found.problems
        }
        return result
    }

    // MARK: Grouping

    func shotFolderCandidate(_ folder: String) -> JobCandidate? {
        let children = files[folder] ?? []
        let roles: [String: ImageRole] = ["first_frame": .firstFrame, "last_frame": .lastFrame, "reference": .reference]
        let isShot = children.contains { entry in
            guard let (stem, rest) = Self.split(entry.name) else { return false }
            return (stem.lowercased() == "prompt" && rest == "txt")
                || (roles[stem.lowercased()] != nil && Self.usableImageExtensions.contains(rest))
        }
        guard isShot else { return nil }
        let name = Self.lastComponent(folder)
        var candidate = JobCandidate(name: name, lane: Self.parent(folder), folder: folder, shotFolder: true)
        candidate.storyboardLookalike = storyboardLookalike(folder)
        for entry in children where !claimed.contains(entry.path) {
            guard let (stem, rest) = Self.split(entry.name) else { continue }
            let lowerStem = stem.lowercased()
            if lowerStem == "prompt" && rest == "txt" {
                candidate.promptFiles.append(entry.path)
            } else if let role = roles[lowerStem] {
                if Self.usableImageExtensions.contains(rest) {
                    candidate.images.append((role, entry.path))
                } else if Self.unsupportedImageExtensions.contains(rest) {
                    candidate.problems.append(.imageExtension(file: label(entry.path)))
                    candidate.otherFiles.append(entry.path)
                }
            } else if lowerStem == "settings" && Self.settingsExtensions.contains(rest) {
                candidate.sidecars.append(entry.path)
            }
        }
        return candidate
    }

    func stemCandidates(in folder: String) -> [JobCandidate] {
        var groups: [String: JobCandidate] = [:]
        var scales: [String: Double] = [:]
        // Numbered frames with a prompt for their base: one first-and-last-frame job (see ``ImageSequence``).
        let entries = (files[folder] ?? []).filter { !claimed.contains($0.path) }
        let stems = Set(entries.compactMap { entry -> String? in
            guard let (stem, rest) = Self.split(entry.name), rest == "txt" || Self.settingsExtensions.contains(rest) else { return nil }
            return stem
        })
        var inSequence: Set<String> = []
        for sequence in ImageSequence.find(in: entries.map(\.name), imageExtensions: Self.imageExtensions, hasCompanion: stems.contains) {
            let paths = sequence.frames.map { folder.isEmpty ? $0 : folder + "/" + $0 }
            var group = JobCandidate(name: sequence.base, lane: folder, folder: folder, shotFolder: false)
            group.images = [(.firstFrame, paths[0]), (.lastFrame, paths[paths.count - 1])]
            group.otherFiles = Array(paths.dropFirst().dropLast())
            group.isSequence = true
            for (index, path) in paths.enumerated() {
                let role = index == 0 ? " (first frame)" : index == paths.count - 1 ? " (last frame)" : " (moves with the job)"
                group.readAs[path] = "frame \(index + 1) of \(paths.count) of the image sequence \(sequence.base)\(role)"
            }
            groups[sequence.base] = group
            inSequence.formUnion(paths)
        }
        let lookalike = storyboardLookalike(folder)
        for entry in entries where !inSequence.contains(entry.path) {
            guard var (stem, rest) = Self.split(entry.name), stem != "_defaults", !FileNameRules.isManifest(entry.name)
            else { continue }
            if options.exportNames == .auto, let scaled = ExportNames.scaleSuffix(entry.name) {
                (stem, rest) = (scaled.stem, scaled.rest)
                scales[entry.path] = scaled.scale
            }
            let parts = rest.split(separator: ".").map(String.init)
            let ext = parts.last ?? ""
            let isImage = Self.usableImageExtensions.contains(ext)
            let isUnsupportedImage = Self.unsupportedImageExtensions.contains(ext)
            let known = isImage || isUnsupportedImage || ext == "txt" || Self.settingsExtensions.contains(ext)
            guard known else { continue }  // videos, PDFs, notes: not ours
            var group = groups[stem] ?? JobCandidate(name: stem, lane: folder, folder: folder, shotFolder: false)
            let qualifier = parts.count == 2 ? parts[0] : nil
            let roles: [String: ImageRole] = ["first": .firstFrame, "last": .lastFrame, "ref": .reference]
            if parts.count == 1 && ext == "txt" {
                group.promptFiles.append(entry.path)
                group.readAs[entry.path] = "prompt of \(stem)"
                if StoryboardLayout.number(stem) != nil { group.storyboardLookalike = lookalike }
            } else if parts.count == 1 && Self.settingsExtensions.contains(ext) {
                group.sidecars.append(entry.path)
                group.readAs[entry.path] = "settings of \(stem)"
            } else if isImage, parts.count == 1 || (qualifier.flatMap { roles[$0] } != nil) {
                let role = qualifier.flatMap { roles[$0] } ?? .firstFrame
                let scale = scales[entry.path] ?? 1
                if let index = group.images.firstIndex(where: { $0.role == role }),
                    scales[group.images[index].path] != nil || scales[entry.path] != nil
                {
                    // The same picture exported at several scales: the larger is used, the other goes with the job.
                    let other = group.images[index].path
                    let otherScale = scales[other] ?? 1
                    let (kept, dropped) = scale > otherScale ? (entry.path, other) : (other, entry.path)
                    group.images[index].path = kept
                    group.otherFiles.append(dropped)
                    group.readAs[dropped] = "not used: \(label(kept)) is the same \(role.rawValue.replacingOccurrences(of: "_", with: " ")) exported larger"
                    group.readAs[kept] = "\(role.rawValue.replacingOccurrences(of: "_", with: " ")) of \(stem)"
                        + (scales[kept].map { " (scale suffix \(ExportNames.suffix($0)) ignored when grouping; the larger of \(label(kept)) and \(label(dropped)))" }
                            ?? " (the larger of \(label(kept)) and \(label(dropped)))")
                } else {
                    group.images.append((role, entry.path))
                    group.readAs[entry.path] = "\(role.rawValue.replacingOccurrences(of: "_", with: " ")) of \(stem)"
                        + (scales[entry.path].map { " (scale suffix \(ExportNames.suffix($0)) ignored when grouping)" } ?? "")
                }
            } else if isUnsupportedImage, parts.count == 1 || (qualifier.flatMap { roles[$0] } != nil) {
                group.problems.append(.imageExtension(file: label(entry.path)))
                group.otherFiles.append(entry.path)
            } else {
                group.problems.append(.unrecognizedName(file: label(entry.path), stem: stem))
                group.otherFiles.append(entry.path)
            }
            groups[stem] = group
        }
        return groups.keys.sorted().map { groups[$0]! }
    }
}

extension PlanningPass {
    /// For a folder (not the inbox) holding at least two numbered images (`01.png`, `02.png`) but no
    /// `storyboard.yaml` yet: the newest modification among its files. Nil otherwise.
    func storyboardLookalike(_ folder: String) -> Date? {
        guard folder != "" else { return nil }
        let children = files[folder] ?? []
        let numbered = children.filter { entry in
            FileNameRules.split(entry.name).map { StoryboardLayout.number($0.stem) != nil && Self.usableImageExtensions.contains($0.rest) } ?? false
        }
        guard numbered.count >= 2 else { return nil }
        return children.map(\.modified).max()
    }
}

/// The files of one would-be job, before anything is read.
struct JobCandidate {
    var name: String
    var lane: String
    /// The folder whose `_defaults` chain applies.
    var folder: String
    var shotFolder: Bool
    var promptFiles: [String] = []
    var images: [(role: ImageRole, path: String)] = []
    var sidecars: [String] = []
    /// Files that belong to the job but play no role (unsupported or misnamed), so they move with it.
    var otherFiles: [String] = []
    /// A manifest row's settings and the manifest's path.
    var row: SettingsLayer?
    var manifest: String?
    var problems: [DropProblem] = []
    /// How each file's name was read (inbox-relative path → words), for `plan`.
    var readAs: [String: String] = [:]
    /// Numbered frames (``ImageSequence``): the first and last are the job's frames.
    var isSequence = false
    /// Layers between the folder defaults and the sidecars (a storyboard's quality model).
    var extraLayers: [SettingsLayer] = []
    /// Set when the folder holds numbered keyframes and this group could be part of a storyboard whose
    /// `storyboard.yaml` is still being copied (`01.png` + `01.txt`, or `prompt.txt` alone): the newest file of the
    /// folder. The group waits `sequence_settle` after it, so a folder copied file by file is not paid for as jobs.
    var storyboardLookalike: Date?

    /// Every file the job would be made of, sorted: what moves with it to the outbox, `failed/` or the archive.
    var inputFiles: [String] {
        Set(promptFiles + images.map(\.path) + sidecars + otherFiles + (manifest.map { [$0] } ?? [])).sorted()
    }
}
