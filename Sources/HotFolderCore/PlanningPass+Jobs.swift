// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

extension PlanningPass {
    /// Reads, resolves and validates one candidate, returning one job per variant.
    func build(_ candidate: JobCandidate) -> [JobSpec] {
        let inputFiles = candidate.inputFiles
        if let tooDeep = depthProblem(inputFiles) {
            // Nothing else is read: the files have to move before anything about them matters.
            return [failedJob(name: candidate.name, lane: candidate.lane, files: inputFiles, problems: [tooDeep])]
        }
        var problems = configProblems + candidate.problems
        let defaults = defaultsChain(to: candidate.folder)
        problems += defaults.problems
        var layers = [SettingsLayer.builtIn, configLayer] + defaults.layers + candidate.extraLayers
        for sidecar in candidate.sidecars {
            let syntax: SettingsDocument.Syntax = sidecar.lowercased().hasSuffix(".json") ? .json : .yaml
            let (layer, found) = settingsLayer(from: sidecar, syntax: syntax)
            if let layer { layers.append(layer) }
            problems += found
        }
        // A prompt file is more specific than a sidecar's `prompt:`, and a manifest row beats both.
        if candidate.promptFiles.count > 1 {
            problems.append(.badRow(file: label(candidate.promptFiles[1]),
                reason: "the job `\(candidate.name)` has \(candidate.promptFiles.count) prompt files; keep only one"))
        }
        if let promptFile = candidate.promptFiles.first {
            switch readSmallFile(promptFile, field: "prompt", limit: options.limits.promptBytes) {
            case .failure(let problem): problems.append(problem)
            case .success(let bytes):
                if let text = PromptText.decode(bytes) {
                    layers.append(SettingsLayer(source: label(promptFile), values: [.prompt: .scalar(text)]))
                } else {
                    problems.append(.promptNotText(file: label(promptFile)))
                }
            }
        }
        if let row = candidate.row { layers.append(row) }
        let (settings, settingProblems) = ResolvedSettings.resolve(layers)
        problems += settingProblems

        let newest = inputFiles.compactMap { entry(at: $0)?.modified }.max() ?? now

        // Prompt: missing entirely means "maybe still on its way"; present but empty is an error at once.
        let promptText = settings.prompt?.trimmingCharacters(in: .whitespacesAndNewlines)
        let hadPromptProblem = problems.contains { $0.field == "prompt" }
        var waiting = false
        if promptText == nil && !hadPromptProblem {
            let displayFiles = inputFiles.map(label)
            // An image sequence waits for its prompt and settings (`model: quality`) before its frames are judged.
            if now.timeIntervalSince(newest) < options.orphanTimeout && (problems.isEmpty || candidate.isSequence) {
                waiting = true
            } else {
                problems.append(.noPrompt(job: candidate.name, files: displayFiles, shotFolder: candidate.shotFolder))
            }
        } else if let promptText, promptText.isEmpty {
            problems.append(.promptEmpty(file: settings.source(of: .prompt)))
        }
        let finalPrompt = PromptText.compose(
            prefix: settings.promptPrefix, prompt: promptText ?? "", suffix: settings.promptSuffix)
        if let promptText, !promptText.isEmpty, finalPrompt.count > PromptText.maxCharacters {
            problems.append(.promptTooLong(file: settings.source(of: .prompt), characters: finalPrompt.count))
        }

        var images: [JobImage] = []
        for (role, path) in candidate.images {
            let (image, found) = inspectImage(path, role: role)
            images.append(image)
            problems += found
        }
        problems += roleProblems(candidate.images, settings: settings)
        let roles = Set(candidate.images.map(\.role))
        let mode: JobMode =
            roles.contains(.reference) ? .reference
            : roles.contains(.lastFrame) ? .firstLastFrame
            : roles.contains(.firstFrame) ? .firstFrame : .textToVideo
        let order: [ImageRole] = [.firstFrame, .lastFrame, .reference]
        let sortedImages = images.sorted { order.firstIndex(of: $0.role)! < order.firstIndex(of: $1.role)! }
        let placeholders = sortedImages.map { ImageWithRole(url: JobSpec.placeholderURL(for: $0.path), role: $0.role) }

        var effective: [String: EffectiveSetting] = [:]
        for (key, sourced) in settings.effective {
            effective[key.rawValue] = EffectiveSetting(value: sourced.value.text, source: sourced.source)
        }
        if let seeds = settings.seeds {
            // The seed list decides how many variants there are, whatever `variants` says further down.
            effective[SettingKey.variants.rawValue] = EffectiveSetting(value: String(seeds.count), source: settings.source(of: .seeds))
        }
        var estimate = options.prices.estimate(
            model: settings.model, resolution: settings.resolution, ratio: settings.aspectRatio,
            duration: settings.duration)
        if settings.serviceTier == "flex" { estimate.cost *= ResolvedSettings.flexPriceFactor }
        if options.provider != .ark {
            // Ark's own request fields: the gateway has no offline tier and would refuse or ignore them.
            for key in [SettingKey.serviceTier, .executionExpiresAfter] where settings.effective[key] != nil && (key != .serviceTier || settings.serviceTier != nil) {
                problems.append(.invalidValue(
                    file: settings.source(of: key), key: key, value: settings.effective[key]?.value.text ?? "",
                    expected: "remove it: it is an Ark setting (provider: ark); the gateway has no offline tier"))
            }
        }
        // A sequence still being written (a renderer adds frames) waits until no frame came for `sequence_settle`.
        var waitingFor = waiting ? "a prompt" : nil
        var lookAgain = waiting ? newest.addingTimeInterval(options.orphanTimeout) : nil
        if candidate.isSequence, now.timeIntervalSince(newest) < options.sequenceSettle {
            waiting = true
            waitingFor = "more frames of the sequence (it is made once none came for \(Int(options.sequenceSettle)) s)"
            lookAgain = newest.addingTimeInterval(options.sequenceSettle)
        }
        // Numbered keyframes beside this prompt: the folder may be a storyboard whose storyboard.yaml is still being
        // copied. Nothing is sent until the folder has been quiet for `sequence_settle`.
        if problems.isEmpty, let folderNewest = candidate.storyboardLookalike, now.timeIntervalSince(folderNewest) < options.sequenceSettle {
            waiting = true
            waitingFor = "the rest of the folder: its numbered images may be a storyboard whose storyboard.yaml is still on its way "
                + "(it is planned once the folder was quiet for \(Int(options.sequenceSettle)) s)"
            lookAgain = max(lookAgain ?? .distantPast, folderNewest.addingTimeInterval(options.sequenceSettle))
        }
        // A waiting image sequence is judged with its prompt and settings (`model: quality`), or when the wait ends.
        if waiting && candidate.isSequence { problems.removeAll() }
        let errors = problems.map(\.report)
        let status: JobStatus = !errors.isEmpty ? .invalid : waiting ? .waiting : .valid
        let seeds = settings.variantSeeds(jobName: candidate.name)
        let baseOutput = settings.outputName ?? candidate.name
        let seedSource = settings.source(of: settings.seeds != nil ? .seeds : .seed)

        return seeds.enumerated().map { index, seed in
            let many = seeds.count > 1
            var jobSettings = effective
            if many, let seed {
                let how = settings.seeds != nil ? seedSource
                    : settings.seed != nil ? (index == 0 ? "seed from \(seedSource)" : "seed from \(seedSource) + \(index)")
                    : "derived from the job name"
                jobSettings["seed"] = EffectiveSetting(value: String(seed), source: "variant \(index + 1) of \(seeds.count), \(how)")
            }
            var request = GenerationRequest(
                model: settings.model.rawValue, prompt: finalPrompt, duration: settings.duration,
                aspectRatio: settings.aspectRatio.rawValue, resolution: settings.resolution.rawValue, seed: seed,
                imageWithRoles: placeholders.isEmpty ? nil : placeholders)
            request.serviceTier = settings.serviceTier
            request.executionExpiresAfter = settings.executionExpiresAfter
            return JobSpec(
                name: many ? "\(candidate.name)-v\(index + 1)" : candidate.name, lane: candidate.lane, mode: mode,
                status: status, request: request, images: sortedImages, settings: jobSettings, inputFiles: inputFiles,
                priority: settings.priority, outputName: many ? "\(baseOutput)-v\(index + 1)" : baseOutput,
                variant: many ? index + 1 : nil, variantCount: seeds.count, estimate: estimate, errors: errors,
                waitingFor: waitingFor, newestModification: newest, lanePolicy: lanePolicy(for: candidate.folder),
                readAs: candidate.readAs.isEmpty ? nil : candidate.readAs, lookAgainAt: lookAgain)
        }
    }

    /// The problem with the most deeply nested of `paths`, when it lies below ``DropLimits/maxFolderDepth``.
    func depthProblem(_ paths: [String]) -> DropProblem? {
        let limit = options.limits.maxFolderDepth
        let deepest = paths.map { path in (path, path.utf8.count(where: { $0 == UInt8(ascii: "/") })) }.max { $0.1 < $1.1 }
        guard let (path, depth) = deepest, depth > limit else { return nil }
        return .nestedTooDeep(file: label(path), depth: depth, limit: limit)
    }

    /// Checks an image's file and header: readable, ≤ 20 MB, PNG/JPEG/WebP, complete, 300–6000 px,
    /// ratio 0.4–2.5.
    func inspectImage(_ path: String, role: ImageRole) -> (JobImage, [DropProblem]) {
        let entry = self.entry(at: path)
        var size = entry?.size ?? 0
        if case .inside(_, _, let targetSize)? = entry?.link { size = targetSize }
        var image = JobImage(role: role, path: path, header: nil, bytes: size)
        let file = label(path)
        if case .failure(let problem) = checkReadable(path, field: role.rawValue, limit: Int64.max) {
            return (image, [problem])
        }
        let ext = (path as NSString).pathExtension.lowercased()
        if Self.convertibleImageExtensions.contains(ext) {
            // Converted to PNG by ffmpeg before it is sent; its size and shape are checked then.
            image.preparation = ImagePreparation(convertFrom: ext, downscale: options.imageFit.scalesDown, reshape: options.imageFit.reshape)
            guard size <= options.limits.imageBytes * 10 else { return (image, [.imageBytes(file: file, role: role, size: size)]) }
            return (image, [])
        }
        let downscale = options.imageFit.scalesDown
        if size > options.limits.imageBytes {
            guard downscale, size <= options.limits.imageBytes * 10 else { return (image, [.imageBytes(file: file, role: role, size: size)]) }
            image.preparation = ImagePreparation(downscale: true)
        }
        let header: ImageHeader
        let head: [UInt8]
        switch readHeader(path, role: role, size: size) {
        case .failure(let problem): return (image, [problem])
        case .success(let read): (header, head) = read
        }
        image.header = header
        var problems: [DropProblem] = []
        // The header alone passes for a file cut off part way; its end tells whether all of it arrived.
        do {
            let tail = try source.readTail(path, maxBytes: options.limits.imageTailBytes)
            if !ImageHeader.looksComplete(header.format, head: head, tail: tail.bytes, fileSize: tail.size) {
                problems.append(.imageTruncated(file: file, role: role, format: header.format))
            }
        } catch {
            return (image, [readProblem(error, path: path, field: role.rawValue)])
        }
        if header.width > 6000 || header.height > 6000, downscale, header.width >= 300, header.height >= 300 {
            image.preparation = ImagePreparation(downscale: true)  // scaled down keeping its shape, never up
        } else if !(300...6000).contains(header.width) || !(300...6000).contains(header.height) {
            problems.append(.imageSize(file: file, role: role, width: header.width, height: header.height))
        }
        let ratio = Double(header.width) / Double(header.height)
        if ratio < 0.4 || ratio > 2.5 {
            // Padded or cropped before it is sent (each side must still be 300 px or more: nothing is scaled up).
            if let reshape = options.imageFit.reshape {
                image.preparation = ImagePreparation(downscale: true, reshape: reshape)
            } else {
                problems.append(.imageRatio(file: file, role: role, width: header.width, height: header.height))
            }
        }
        return (image, problems)
    }

    /// Reads an image header from the file's first bytes (returned with it); JPEGs with large metadata are
    /// read further, still bounded by the 20 MB image limit.
    private func readHeader(_ path: String, role: ImageRole, size: Int64)
        -> Result<(ImageHeader, [UInt8]), DropProblem>
    {
        var limit = options.limits.imageHeaderBytes
        while true {
            let bytes: [UInt8]
            do {
                bytes = try source.read(path, maxBytes: limit)
            } catch {
                return .failure(readProblem(error, path: path, field: role.rawValue))
            }
            let parsed = Result { () throws(ImageHeader.ParseError) -> ImageHeader in try ImageHeader.parse(bytes) }
            switch parsed {
            case .success(let header):
                return .success((header, bytes))
            case .failure(.sizeNotFound(.jpeg)) where Int64(bytes.count) < size && limit < Int(options.limits.imageBytes):
                limit = Int(options.limits.imageBytes)
            case .failure(.unsupportedFormat):
                return .failure(.imageFormat(file: label(path), role: role))
            case .failure(.damaged(let format)), .failure(.sizeNotFound(let format)):
                return .failure(.imageDamaged(file: label(path), role: role, format: format))
            }
        }
    }

    /// The rules about which images may go together, and with which settings.
    func roleProblems(_ images: [(role: ImageRole, path: String)], settings: ResolvedSettings) -> [DropProblem] {
        var problems: [DropProblem] = []
        let byRole = Dictionary(grouping: images, by: \.role)
        for role in [ImageRole.firstFrame, .lastFrame, .reference] {
            if let list = byRole[role], list.count > 1 {
                problems.append(.duplicateRole(role: role, files: list.map { label($0.path) }))
            }
        }
        let frames = (byRole[.firstFrame] ?? []) + (byRole[.lastFrame] ?? [])
        if let last = byRole[.lastFrame]?.first {
            if byRole[.firstFrame] == nil { problems.append(.lastFrameNeedsFirst(file: label(last.path))) }
            if settings.model != .quality {
                problems.append(.lastFrameNeedsQuality(
                    file: label(last.path), model: settings.model.shortName, modelSource: settings.source(of: .model)))
            }
        }
        if let reference = byRole[.reference]?.first {
            if !frames.isEmpty {
                problems.append(.referenceWithFrames(reference: label(reference.path), frames: frames.map { label($0.path) }))
            }
            if options.provider == .ark {
                problems.append(.referenceNotSupported(file: label(reference.path), provider: "Ark"))
            } else if settings.resolution == .p1080 {
                problems.append(.referenceAt1080p(file: label(reference.path), resolutionSource: settings.source(of: .resolution)))
            }
        }
        return problems
    }
}
