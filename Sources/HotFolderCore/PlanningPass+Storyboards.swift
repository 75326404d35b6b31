// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// Storyboards: a folder holding `storyboard.yaml` and numbered keyframes makes one first-and-last-frame clip per
/// pair of neighbours, joined into one film once all are made (see ``StoryboardLayout``).
extension PlanningPass {
    /// Whether a folder is a storyboard (it holds `storyboard.yaml`, `.yml` or `.json`).
    func isStoryboard(_ folder: String) -> Bool {
        folder != "" && (files[folder] ?? []).contains { StoryboardLayout.isMarker($0.name) }
    }

    /// The clips of a storyboard folder, each a valid or waiting job, or one invalid job named after the folder
    /// when anything about it is wrong: no clip is paid for when the film cannot be made.
    func storyboardJobs(_ folder: String, skipping skip: ([String]) -> Bool) -> [JobSpec] {
        let film = Self.lastComponent(folder)
        let lane = Self.parent(folder)
        let children = (files[folder] ?? []).filter { !claimed.contains($0.path) }
        let path = { (name: String) in folder + "/" + name }
        let layout = StoryboardLayout(names: children.map(\.name), imageExtensions: Self.usableImageExtensions)
        var readAs: [String: String] = [:]
        var problems: [DropProblem] = []
        var marker: [String] = []
        var sharedPrompt: String?
        var clipPrompts: [Int: String] = [:]
        var clipSettings: [Int: String] = [:]
        var members: [String] = []
        let numbers = Set(layout.keyframes.map(\.number))
        let last = layout.keyframes.last?.number
        for entry in children {
            guard let (stem, rest) = Self.split(entry.name), stem != "_defaults" else { continue }
            let number = StoryboardLayout.number(stem)
            if StoryboardLayout.isMarker(entry.name) {
                marker.append(entry.path)
                readAs[entry.path] = "storyboard settings of \(film) (every clip)"
            } else if stem.lowercased() == "prompt" && rest == "txt" {
                sharedPrompt = entry.path
                readAs[entry.path] = "prompt of every clip of \(film) without its own NN.txt"
            } else if let number, Self.usableImageExtensions.contains(rest) {
                let index = (layout.keyframes.firstIndex { $0.number == number } ?? 0) + 1
                readAs[entry.path] = layout.keyframes.contains { $0.name == entry.name }
                    ? "keyframe \(index) of \(layout.keyframes.count) of the storyboard \(film)"
                    : "not used: another keyframe has the number \(number)"
            } else if number != nil, Self.unsupportedImageExtensions.contains(rest) {
                problems.append(.imageExtension(file: label(entry.path)))
            } else if let number, rest == "txt" || Self.settingsExtensions.contains(rest) {
                let what = rest == "txt" ? "prompt" : "settings"
                if !numbers.contains(number) {
                    problems.append(.storyboard(file: label(entry.path), reason: "there is no keyframe \(stem) for this \(what); name it after the keyframe the clip starts on"))
                } else if number == last {
                    problems.append(.storyboard(file: label(entry.path), reason: "\(stem) is the last keyframe, so no clip starts on it; the \(what) of the clip from keyframe A to B is A.\(rest)"))
                } else if rest == "txt" {
                    clipPrompts[number] = entry.path
                } else {
                    clipSettings[number] = entry.path
                }
            } else {
                readAs[entry.path] = "not part of the storyboard \(film) (left where it is)"
                continue
            }
            members.append(entry.path)
        }
        if marker.count > 1 {
            problems.append(.storyboard(file: label(marker[1]), reason: "the folder has \(marker.count) storyboard files; keep one"))
        }
        for names in layout.duplicates {
            problems.append(.storyboard(file: label(path(names[1])), reason: "keyframes \(names.joined(separator: " and ")) have the same number; keep one"))
        }
        if layout.keyframes.count < 2 {
            problems.append(.storyboard(file: label(marker.first ?? folder),
                reason: "a storyboard needs at least two numbered keyframes (01.png, 02.png, …); it has \(layout.keyframes.count)"))
        }
        let inputs = members.sorted()
        if skip(inputs) { return [] }

        // The model every first-and-last-frame clip needs, unless storyboard.yaml or a clip's settings say otherwise.
        let quality = SettingsLayer(source: "storyboard (its clips end on a keyframe: quality model)", values: [.model: .scalar("quality")])
        var clips: [JobSpec] = []
        let pairs = layout.keyframes.count >= 2 ? Array(zip(layout.keyframes, layout.keyframes.dropFirst())) : []
        for (index, (from, to)) in pairs.enumerated() {
            // Built under the film's name, so a missing prompt is told as the folder's; named after its keyframes below.
            var candidate = JobCandidate(name: film, lane: lane, folder: folder, shotFolder: true)
            candidate.extraLayers = [quality]
            candidate.images = [(.firstFrame, path(from.name)), (.lastFrame, path(to.name))]
            candidate.sidecars = marker.prefix(1) + (clipSettings[from.number].map { [$0] } ?? [])
            if let prompt = clipPrompts[from.number] ?? sharedPrompt { candidate.promptFiles = [prompt] }
            candidate.otherFiles = inputs
            candidate.readAs = readAs
            candidate.problems = problems
            for var spec in build(candidate) {
                spec.name = "\(film)-\(from.stem)-\(to.stem)"
                spec.outputName = spec.name
                spec.storyboard = StoryboardClip(
                    film: film, folder: folder, index: index + 1, count: pairs.count, from: path(from.name), to: path(to.name))
                clips.append(spec)
            }
        }
        for (what, files) in [("prompt", clipPrompts), ("settings", clipSettings)] {
            for (number, file) in files {
                guard let at = layout.keyframes.firstIndex(where: { $0.number == number }), at + 1 < layout.keyframes.count else { continue }
                readAs[file] = "\(what) of the clip \(layout.keyframes[at].stem) → \(layout.keyframes[at + 1].stem) of \(film)"
            }
        }
        for index in clips.indices { clips[index].readAs = readAs }
        return settle(clips, film: film, lane: lane, folder: folder, inputs: inputs, problems: problems, readAs: readAs)
    }

    /// All clips valid, all waiting, or one invalid job for the whole storyboard.
    private func settle(
        _ clips: [JobSpec], film: String, lane: String, folder: String, inputs: [String], problems: [DropProblem],
        readAs: [String: String]
    ) -> [JobSpec] {
        var errors: [JobError] = []
        for clip in clips {
            for error in clip.errors where !errors.contains(error) { errors.append(error) }
        }
        if clips.contains(where: { $0.variantCount > 1 }) {
            errors.append(DropProblem.storyboard(file: label(folder),
                reason: "a storyboard makes one film, so `variants` and `seeds` cannot be used in it; set `seed` for a repeatable take").report)
        }
        if clips.isEmpty { errors += problems.map(\.report) }
        if !errors.isEmpty {
            var failed = clips.first ?? failedJob(name: film, lane: lane, files: inputs, problems: [])
            failed.name = film
            failed.outputName = film
            failed.status = .invalid
            failed.errors = errors
            failed.variant = nil
            failed.variantCount = 1
            failed.inputFiles = inputs
            failed.storyboard = nil
            failed.readAs = readAs
            failed.waitingFor = nil
            failed.lookAgainAt = nil
            return [failed]
        }
        if let waiting = clips.first(where: { $0.status == .waiting }) {
            // Nothing is sent until every clip can be: a film with a clip missing is money spent for nothing.
            let again = clips.compactMap(\.lookAgainAt).min()
            return clips.map { clip in
                var clip = clip
                clip.status = .waiting
                clip.waitingFor = clip.waitingFor ?? "the clip \(waiting.name) (\(waiting.waitingFor ?? "its prompt"))"
                clip.lookAgainAt = again
                return clip
            }
        }
        return clips
    }
}
