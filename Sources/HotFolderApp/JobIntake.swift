// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Logging
import Synchronization

/// Turns ready files into recorded jobs: plans the folders that changed with the drop protocol, skips
/// inputs that already belong to a job, records valid jobs in the queue and moves invalid drops to
/// `failed/` with an error file.
actor JobIntake {
    let context: ServiceContext
    private let wake = WakeSignal()
    /// Folders (relative to the inbox) to plan as a whole at the next pass.
    private var dirty: Set<String> = []
    /// Groups (stems by folder) to plan at the next pass: a drop costs its own group, not its folder.
    private var dirtyStems: [String: Set<String>] = [:]
    /// Folders holding jobs that wait for a prompt, with the time they should be planned again.
    private var waiting: [String: Date] = [:]
    /// Inputs that belong to jobs (by identity) and so never start another one. One input can belong to many
    /// jobs (a manifest and its rows, an image shared by variants): releasing one of them must not release the
    /// input for the others.
    private var held = InputHolders()
    /// Ready files the watcher handed over since the last pass, and when the latest came. Kept outside the
    /// actor: the watcher must never wait for a planning pass, or every pass would see only the one or two
    /// files that arrived while the previous one ran, and a burst would cost a pass per file.
    private nonisolated let arrivals = Mutex(Arrivals())
    /// Files the watcher reported complete, by relative path: a job is only planned from files that are
    /// all complete (a sibling still being written must not be read half-way).
    private var complete = PathMap<FileIdentity>()
    /// ZIP archives reported ready since the last pass, unpacked before planning.
    var archives: [ReadyFile] = []
    private var lastLoad = Date.distantPast
    /// Planning passes that failed in a row (their scopes wait for the next one, with a backoff).
    private var failedPasses = 0
    private var stopping = false

    init(context: ServiceContext) {
        self.context = context
    }

    /// Loads the inputs that already belong to jobs (after a restart nothing is made into a job twice).
    ///
    /// Also called now and then while running: `hotfolder cancel` and `retry`, run from another process,
    /// release inputs in the database only.
    func load() async throws {
        let inputs = try await context.store.heldInputs()
        held = InputHolders()
        lastLoad = Date()
        for (jobID, identity) in inputs { held.insert(jobID, holding: identity.fileIdentity) }
    }

    /// Notes a ready file from the watcher; returns at once, the next planning pass takes it.
    nonisolated func noteReady(_ file: ReadyFile) {
        // Never planned itself: its folder, once unpacked, is reported by the watcher like any drop.
        let isArchive = file.stat.kind == .regular && ZipUnpacker.isArchive((file.relativePath as NSString).lastPathComponent)
        arrivals.withLock { arrivals in
            if isArchive { arrivals.archives.append(file) } else { arrivals.files[file.relativePath] = file.stat }
            arrivals.latest = Date()
        }
        wake.signal()
    }

    /// Moves the files that arrived since the last pass into the planning state.
    private func takeArrivals() {
        let (files, newArchives) = arrivals.withLock { arrivals in
            defer { (arrivals.files, arrivals.archives) = (PathMap(), []) }
            return (arrivals.files, arrivals.archives)
        }
        archives += newArchives
        files.forEach { relativePath, stat in
            complete[relativePath] = stat.identity
            let folder = FileNameRules.folder(of: relativePath)
            let name = (relativePath as NSString).lastPathComponent
            if let stem = FileNameRules.split(name)?.stem, !FileNameRules.concernsWholeFolder(name), stem != "_defaults" {
                dirtyStems[folder, default: []].formUnion(FileNameRules.groupKeys(name))
            } else {
                dirty.insert(folder)  // a manifest, defaults or shot-folder file concerns the whole folder
            }
            // A manifest one level up may name images in this folder (listed only if there is one).
            if !folder.isEmpty { dirtyStems[FileNameRules.folder(of: folder), default: []].formUnion([]) }
        }
    }

    private var lastReady: Date { arrivals.withLock { $0.latest } }

    /// Notes that a job gave its inputs back (failed, invalid, cancelled: moved to `failed/`), so the
    /// same files dropped again make a new job.
    func release(jobID: UUID) {
        held.release(jobID: jobID)
    }

    /// Plans the groups of a job's inputs again at the next pass (the job gave them back because some changed: the
    /// new content is a new drop). Only files the watcher reported complete are read: those still as they were when
    /// the job was made count as complete again (the watcher reported them then and has no reason to again: a prompt
    /// beside a re-exported image), the changed ones wait for the watcher.
    func replan(inputs: [StoredInput]) {
        for input in inputs {
            // A released input's stored device and inode are cleared (it holds nothing any more): size and time say
            // whether the file is still as it was.
            guard let stat = FileSystemProbe.lstat(context.inbox + "/" + input.path), stat.kind == .regular,
                stat.size == input.identity.size, stat.mtimeNanoseconds == input.identity.mtimeNs, !held.isHeld(stat.identity)
            else { continue }
            complete[input.path] = stat.identity
        }
        replan(paths: inputs.map(\.path))
    }

    /// Plans the groups of these inbox-relative paths again at the next pass. Only files the watcher reported
    /// complete are read.
    private func replan(paths: [String]) {
        for path in paths {
            let folder = FileNameRules.folder(of: path)
            let name = (path as NSString).lastPathComponent
            if let stem = FileNameRules.split(name)?.stem, !FileNameRules.concernsWholeFolder(name), stem != "_defaults" {
                dirtyStems[folder, default: []].formUnion(FileNameRules.groupKeys(name))
            } else {
                dirty.insert(folder)
            }
        }
        wake.signal()
    }

    /// Stops planning new jobs (graceful shutdown).
    func stop() {
        stopping = true
        wake.signal()
    }

    /// Plans changed folders until stopped.
    func run() async {
        while !stopping, !Task.isCancelled {
            let nextOrphanCheck = waiting.values.min().map { max(0.05, $0.timeIntervalSinceNow) } ?? 30
            let nextRetry = failedPasses > 0 ? min(30, 0.5 * pow(2, Double(failedPasses - 1))) : 30
            await wake.wait(timeout: min(30, nextOrphanCheck, nextRetry))
            if stopping || Task.isCancelled { break }
            // Files that belong together arrive within moments of each other: let the group settle.
            let quiet = context.groupSettle
            while quiet > 0, Date().timeIntervalSince(lastReady) < quiet, !Task.isCancelled {
                try? await Task.sleep(for: .seconds(quiet - Date().timeIntervalSince(lastReady) + 0.01))
            }
            takeArrivals()
            if !archives.isEmpty { await unpackArchives() }
            let now = Date()
            if now.timeIntervalSince(lastLoad) > 60 {
                // No full reload of the inputs in use (it grew with every job ever made): an input released by
                // another process (`hotfolder cancel`, `retry`) is confirmed in the database when it shows up again.
                lastLoad = now
                complete.removeAll { path, identity in FileSystemProbe.lstat(context.inbox + "/" + path)?.identity != identity }
            }
            for (folder, due) in waiting where due <= now {
                dirty.insert(folder)
                waiting[folder] = nil
            }
            guard !dirty.isEmpty || !dirtyStems.isEmpty else { continue }
            let scopes = dirty.map { ListingScope(folder: $0) } + dirtyStems.map { ListingScope(folder: $0.key, stems: $0.value) }
            dirty = []
            dirtyStems = [:]
            if await planOnce(scopes: scopes, now: now) {
                failedPasses = 0
            } else {
                // A pass that failed (a listing error, the database busy while the CLI writes) is not forgotten:
                // its folders are planned again after a backoff.
                failedPasses += 1
                requeue(scopes)
            }
        }
    }

    /// Puts scopes back to be planned at the next pass.
    private func requeue(_ scopes: [ListingScope]) {
        for scope in scopes {
            if let stems = scope.stems { dirtyStems[scope.folder, default: []].formUnion(stems) } else { dirty.insert(scope.folder) }
        }
    }

    /// What one planning pass found, computed away from the actor (it lists folders, reads and hashes files).
    private struct PassResult: Sendable {
        var released: Set<FileIdentity> = []
        /// Folders to plan again at these times (jobs waiting for a prompt, manifests waiting for images).
        var waiting: [String: Date] = [:]
        var newJobs: [(NewJob, JobSpec)] = []
        var invalid: [(NewJob, JobSpec)] = []
        /// Storyboard clips made before from the same request and keyframes: recorded as done, nothing sent.
        var reused: [(NewJob, JobSpec)] = []
        var films: [NewFilm] = []
        /// Files of this pass that other nodes' jobs hold (recorded there first, or still running there), with those
        /// jobs: held here too, so they are not planned again while the jobs may run.
        var heldElsewhere: [(job: UUID, path: String, identity: FileIdentity)] = []
        /// Nil when the pass could not be done; the error otherwise.
        var failure: String?
    }

    /// Plans the given folders once and records what came out; false when the pass could not be done.
    ///
    /// The blocking part (listing, reading, hashing, the database) runs on a thread pool, never on the
    /// cooperative threads the runner's network calls share.
    @discardableResult
    func planOnce(scopes: [ListingScope]?, now: Date) async -> Bool {
        let context = self.context
        let result: PassResult
        do {
            result = try await Self.passOffActor(context: context, scopes: scopes, now: now, held: held, complete: complete)
        } catch {
            context.logger.error("cannot plan the inbox (trying again shortly): \(error)")
            return false
        }
        for identity in result.released { held.remove(identity) }
        for (job, path, identity) in result.heldElsewhere {
            held.insert(job, holding: identity)
            complete[path] = nil
        }
        for (folder, due) in result.waiting { waiting[folder] = min(waiting[folder] ?? due, due) }
        if let failure = result.failure {
            context.logger.error("\(failure) (trying again shortly)")
            return false
        }
        let newJobs = result.newJobs
        let invalid = result.invalid
        guard !newJobs.isEmpty || !invalid.isEmpty || !result.reused.isEmpty else { return true }
        for (job, _) in newJobs + invalid + result.reused {
            for input in job.inputs {
                held.insert(job.id, holding: input.identity.fileIdentity)
                complete[input.path] = nil
            }
        }
        for (job, spec) in newJobs {
            context.plannedSpecs.add(job.id, json: job.specJSON, spec: spec)
            context.observer(.queued(name: spec.name, id: job.id))
            context.logger.info("job \(spec.lane.isEmpty ? "" : spec.lane + "/")\(spec.name): queued (\(spec.mode.rawValue), \(spec.estimate.map { "\($0.tokens) tokens" } ?? "no estimate"))", metadata: ["job": "\(job.id)"])
        }
        if !newJobs.isEmpty { context.jobsQueued() }
        for (job, spec) in invalid {
            context.logger.warning("job \(spec.lane.isEmpty ? "" : spec.lane + "/")\(spec.name): invalid — \(spec.errors.first?.message ?? "see the error file")")
            await failInvalid(job: job, spec: spec)
            context.observer(.invalid(name: spec.name, id: job.id))
        }
        for (job, spec) in result.reused { await finishReused(job: job, spec: spec) }
        if !result.films.isEmpty {
            context.logger.info("storyboard films planned: \(result.films.map { $0.lane.isEmpty ? $0.name : $0.lane + "/" + $0.name }.joined(separator: ", "))")
        }
        if !result.reused.isEmpty { await context.films.settleAll(context) }
        return true
    }

    /// Runs ``pass(context:scopes:now:held:complete:)`` on the blocking pool with copies of the maps that live only as
    /// long as this call: once it returns, the actor's maps (an entry per file of the inbox) are changed in place again
    /// instead of being copied whole by their first change.
    private static func passOffActor(
        context: ServiceContext, scopes: [ListingScope]?, now: Date, held: InputHolders, complete: PathMap<FileIdentity>
    ) async throws -> PassResult {
        var result = try await Blocking.run {
            Self.pass(context: context, scopes: scopes, now: now, held: held, complete: complete)
        }
        await record(&result, context: context)
        return result
    }

    /// A store lookup from the planning pass (a thread of the blocking pool): SQLite's synchronous call on this very
    /// thread, another store's async call waited for. Never SQLite's async call: it needs a second thread of the
    /// pool, which on a one-core machine is this one, and the pass would wait for itself forever.
    private static func ask<T: Sendable>(
        _ store: any ServiceStore, _ sqlite: (SQLiteStateStore) throws -> T, _ other: @escaping @Sendable () async throws -> T
    ) throws -> T {
        if let local = store as? SQLiteStateStore { return try sqlite(local) }
        return try Blocking.wait(for: other)
    }

    /// One planning pass over `scopes`: plans, skips groups already held or still arriving, hashes the inputs
    /// of new jobs and records them (all or none).
    private static func pass(
        context: ServiceContext, scopes: [ListingScope]?, now: Date, held heldNow: InputHolders,
        complete completeNow: PathMap<FileIdentity>
    ) -> PassResult {
        var result = PassResult()
        let source = ScopedDropSource(
            base: FileSystemDropSource(root: context.inbox), scopes: scopes, excluded: context.excludedRelative)
        let plan: Plan
        let inbox = context.inbox
        let store = context.store
        var incomplete: [[String]] = []
        var released: Set<FileIdentity> = []
        /// Files of finished jobs that a new drop shares (a kept prompt beside a re-exported image).
        var unchangedInputs: Set<FileIdentity> = []
        do {
            // Groups that already belong to a job, or whose files are not all complete yet, are skipped
            // before anything is read: the loop below would skip them anyway, and in a folder of
            // thousands of kept inputs reading them again is what would make every drop slow.
            plan = try context.planner.plan(source, now: now) { files in
                var arriving = false
                var holders: Set<UUID> = []
                var held: [FileIdentity] = []
                var changed = false
                for path in files {
                    guard let identity = FileSystemProbe.lstat(inbox + "/" + path)?.identity else {
                        arriving = true
                        continue
                    }
                    if heldNow.isHeld(identity), !released.contains(identity) {
                        // Reported again after it became a job (moved back from failed/, renamed): the database
                        // says whether some job still holds it. Otherwise the memory is enough.
                        if completeNow[path] == identity, (try? Self.ask(store, { try $0.isHeld(InputIdentity(identity)) }, { try await store.isInputHeld(InputIdentity(identity)) })) == false {
                            released.insert(identity)
                        } else {
                            // A manifest is held by the jobs of all its rows: only the row's own files say whether
                            // this row is part of a job that may still run.
                            if !FileNameRules.isManifest((path as NSString).lastPathComponent) {
                                holders.formUnion(heldNow.jobs(holding: identity))
                            }
                            held.append(identity)
                            continue
                        }
                    } else if !FileNameRules.isManifest((path as NSString).lastPathComponent) {
                        changed = true
                    }
                    if completeNow[path] != identity { arriving = true }
                }
                if !held.isEmpty {
                    // Part of a job: skipped while it may still run. Once every job holding these files has finished
                    // (`archive_policy: keep` leaves them in the inbox), a group with a new or re-exported file is a new
                    // drop: an image exported again beside its unchanged prompt must not be lost. A manifest's row
                    // whose image was exported again is one too, whatever its other rows' jobs are doing. (An edited
                    // manifest alone does not run again the rows already made.)
                    guard changed, holders.allSatisfy({ holder in (try? Self.ask(store, { try $0.job(holder) }, { try await store.job(id: holder) }))??.state.isTerminal ?? false }) else { return true }
                    unchangedInputs.formUnion(held)
                }
                if arriving { incomplete.append(files) }
                return arriving
            }
        } catch {
            result.failure = "cannot read the inbox: \(error)"
            return result
        }
        result.released = released
        // A job that shares a file with one still arriving waits for it: the rows of a manifest whose images
        // are still being copied are all recorded together, or the first rows would hold the manifest and
        // the later ones would never be made. Their folders are looked at again shortly.
        let arriving = Set(incomplete.joined())
        for path in arriving where FileNameRules.isManifest((path as NSString).lastPathComponent) {
            let folder = FileNameRules.folder(of: path)
            result.waiting[folder] = min(result.waiting[folder] ?? now.addingTimeInterval(2), now.addingTimeInterval(2))
        }
        var digests: [String: String] = [:]  // a manifest is an input of every one of its rows
        var films: [String: NewFilm] = [:]  // by storyboard folder
        var keysThisPass: [String: Int] = [:]
        for var spec in plan.jobs where !spec.inputFiles.contains(where: arriving.contains) {
            let inputs = spec.inputFiles.map { context.inbox + "/" + $0 }
            let stats = inputs.map { FileSystemProbe.lstat($0) }
            let identities = stats.compactMap { $0?.identity }
            // Already a job (or part of one).
            if identities.contains(where: { heldNow.isHeld($0) && !released.contains($0) && !unchangedInputs.contains($0) }) { continue }
            // Only files the watcher reported complete, unchanged since: the rest are still arriving.
            let allComplete = zip(spec.inputFiles, stats).allSatisfy { path, stat in
                stat.map { completeNow[path] == $0.identity || unchangedInputs.contains($0.identity) } ?? false
            }
            if !allComplete { continue }
            if spec.status == .waiting {
                let folder = spec.lane
                let due = (spec.lookAgainAt ?? spec.newestModification.addingTimeInterval(context.planner.options.orphanTimeout))
                    .addingTimeInterval(0.5)
                result.waiting[folder] = min(result.waiting[folder] ?? due, due)
                continue
            }
            guard stats.allSatisfy({ $0 != nil }) else { continue }  // a file vanished meanwhile
            var stored: [StoredInput] = []
            for (path, stat) in zip(spec.inputFiles, stats) {
                guard let stat else { continue }
                let digest = digests[path] ?? (try? FileDigest.sha256(ofFile: context.inbox + "/" + path)) ?? ""
                digests[path] = digest
                stored.append(StoredInput(path: path, identity: InputIdentity(stat.identity), sha256: digest))
            }
            var film: (id: UUID, key: String, reused: String?)?
            if let clip = spec.storyboard, spec.status == .valid {
                let new = films[clip.folder] ?? NewFilm(name: clip.film, lane: spec.lane, folder: clip.folder, clips: clip.count)
                films[clip.folder] = new
                let key = Self.reuseKey(spec, digests: digests)
                let earlier = ((try? Self.ask(store, { try $0.clipsMadeBefore(reuseKey: key) }, { try await store.clipsMade(reuseKey: key) })) ?? []).first { FileSystemProbe.lstat($0.outputPath + ".mp4") != nil }
                spec.storyboard?.reusedFrom = earlier?.id
                film = (new.id, key, earlier?.outputPath)
            }
            let specJSON = (try? JSONEncoder.sorted.encode(spec)) ?? Data()
            let state: JobState = spec.status != .valid ? .invalid : film?.reused != nil ? .done : .ready
            let message = spec.status != .valid ? spec.errors.map(\.message).joined(separator: "; ")
                : film?.reused != nil ? "the same clip was made before (job \(spec.storyboard?.reusedFrom?.uuidString.lowercased() ?? "")): reused, nothing sent"
                : "planned as \(spec.mode.rawValue)"
            var job = NewJob(
                name: spec.name, lane: spec.lane, state: state, priority: spec.priority, specJSON: specJSON,
                inputs: stored, message: message)
            (job.filmID, job.reuseKey, job.reusedOutput) = (film?.id, film?.key, film?.reused)
            if film == nil {
                // (A storyboard's clips get their film's key once the pass is planned: keyStoryboards.)
                // The same on every node that sees these files (paths, sizes, times and contents; not the inode):
                // the first node to record it makes the job, the others skip it.
                var key = DropKey(job: spec.lane + "/" + spec.name, files: stored.map {
                    DropKey.File(relativePath: $0.path, size: $0.identity.size, mtimeNs: $0.identity.mtimeNs, sha256: $0.sha256)
                })
                // Two jobs of one pass with one name and the same files (in planning order, as on every node).
                let seen = keysThisPass[key.value, default: 0]
                keysThisPass[key.value] = seen + 1
                if seen > 0 { key = DropKey(value: key.value + "#\(seen + 1)") }
                job.dropKey = key
            }
            switch state {
            case .ready: result.newJobs.append((job, spec))
            case .done: result.reused.append((job, spec))
            default: result.invalid.append((job, spec))
            }
        }
        result.films = films.values.sorted { $0.folder < $1.folder }
        Self.keyStoryboards(&result)
        return result
    }

    /// Gives the clips of each storyboard one drop key, its film's (the storyboard folder and every file of its
    /// clips): the node that records a storyboard first makes its film and all its clips, another node none.
    private static func keyStoryboards(_ result: inout PassResult) {
        var files: [UUID: [String: StoredInput]] = [:]
        for (job, _) in result.newJobs + result.reused + result.invalid {
            guard let film = job.filmID else { continue }
            for input in job.inputs { files[film, default: [:]][input.path] = input }
        }
        var keys: [UUID: DropKey] = [:]
        for film in result.films {
            let inputs = (files[film.id] ?? [:]).values
            keys[film.id] = DropKey(job: "storyboard:" + film.lane + "/" + film.folder, files: inputs.map {
                DropKey.File(relativePath: $0.path, size: $0.identity.size, mtimeNs: $0.identity.mtimeNs, sha256: $0.sha256)
            })
        }
        func key(_ jobs: inout [(NewJob, JobSpec)]) {
            for index in jobs.indices { if let film = jobs[index].0.filmID { jobs[index].0.dropKey = keys[film] } }
        }
        key(&result.newJobs)
        key(&result.reused)
        key(&result.invalid)
    }

    /// Records the jobs a pass made (all or none); drops another node recorded first are left out of `result`.
    private static func record(_ result: inout PassResult, context: ServiceContext) async {
        guard !result.newJobs.isEmpty || !result.invalid.isEmpty || !result.reused.isEmpty else { return }
        func files(_ job: NewJob) -> [DropKey.File] {
            job.inputs.map { DropKey.File(relativePath: $0.path, size: $0.identity.size, mtimeNs: $0.identity.mtimeNs, sha256: $0.sha256) }
        }
        /// Notes the jobs holding `job`'s files as holding them here too.
        func holdElsewhere(_ job: NewJob, _ holders: [FileHolder]) {
            for input in job.inputs {
                for holder in holders where holder.path == input.path {
                    result.heldElsewhere.append((holder.job, input.path, input.identity.fileIdentity))
                }
            }
        }
        do {
            // A file another node's job still runs with (a manifest whose rows it made, a prompt with variants) is
            // that job's until it ends, as this node's own would be: a row planned again here, its image already
            // archived there, must not become a second (invalid) job. A valid row with an image of its own that no
            // live job holds (exported again while its old job waited, which was cancelled for it) is a new drop
            // even while the manifest's other rows run: its drop key (new content) keeps it from being made twice.
            let candidates = result.newJobs + result.invalid + result.reused
            let live = Set(try await context.store.holders(of: candidates.flatMap { files($0.0) }).filter(\.live).map(\.path))
            if !live.isEmpty {
                let isManifest = { (path: String) in FileNameRules.isManifest((path as NSString).lastPathComponent) }
                var busy: Set<UUID> = []
                for (job, _) in result.newJobs {
                    let ownFiles = job.inputs.filter { !isManifest($0.path) }
                    let blocked = ownFiles.isEmpty ? job.inputs.contains { live.contains($0.path) } : ownFiles.contains { live.contains($0.path) }
                    if blocked { busy.insert(job.id) }
                }
                for (job, _) in result.invalid + result.reused where job.inputs.contains(where: { live.contains($0.path) }) { busy.insert(job.id) }
                let holders = try await context.store.holders(of: candidates.filter { busy.contains($0.0.id) }.flatMap { files($0.0) })
                for (job, _) in candidates where busy.contains(job.id) { holdElsewhere(job, holders.filter(\.live)) }
                result.newJobs.removeAll { busy.contains($0.0.id) }
                result.invalid.removeAll { busy.contains($0.0.id) }
                result.reused.removeAll { busy.contains($0.0.id) }
                guard !result.newJobs.isEmpty || !result.invalid.isEmpty || !result.reused.isEmpty else { return }
            }
            let inbox = context.inbox
            let inserted = Set(try await context.store.recordJobs(
                result.newJobs.map(\.0) + result.invalid.map(\.0) + result.reused.map(\.0), films: result.films,
                stillThere: { job in
                    job.inputs.allSatisfy { input in
                        FileSystemProbe.lstat(inbox + "/" + input.path).map { InputIdentity($0.identity) } == input.identity
                    }
                }
            ).map(\.id))
            let made = { (job: (NewJob, JobSpec)) in inserted.contains(job.0.id) }
            let skipped = (result.newJobs + result.invalid).filter { !made($0) }
            if !skipped.isEmpty {
                // Another node sharing the inbox and the database recorded these drops first (or an earlier job of
                // the very same files still holds them): they are that job's.
                context.logger.info("\(skipped.count) drop(s) already made into jobs (by another node, or earlier from the same files): \(skipped.prefix(5).map { $0.1.lane.isEmpty ? $0.1.name : $0.1.lane + "/" + $0.1.name }.joined(separator: ", "))")
            }
            let taken = (result.newJobs + result.invalid + result.reused).filter { !made($0) }
            if !taken.isEmpty {
                let holders = try await context.store.holders(of: taken.flatMap { files($0.0) })
                for (job, _) in taken { holdElsewhere(job, holders) }
            }
            result.newJobs = result.newJobs.filter(made)
            result.invalid = result.invalid.filter(made)
            result.reused = result.reused.filter(made)
        } catch {
            result.failure = "cannot record \(result.newJobs.count + result.invalid.count) new jobs: \(error)"
        }
    }

    /// What makes a storyboard clip the same as one made before: its request (model, prompt, settings, seed) with
    /// each keyframe named by its content's SHA-256 instead of its path.
    static func reuseKey(_ spec: JobSpec, digests: [String: String]) -> String {
        var request = spec.request
        request.imageWithRoles = request.imageWithRoles?.map { image in
            let path = String(image.url.dropFirst("local:".count))
            return ImageWithRole(url: "sha256:" + (digests[path] ?? path), role: image.role)
        }
        let data = (try? JSONEncoder.sorted.encode(request)) ?? Data()
        return SHA256.hex(of: data)
    }

    /// A storyboard clip made before: recorded as done with the earlier video, its files archived like any done job.
    private func finishReused(job: NewJob, spec: JobSpec) async {
        context.logger.info("job \(spec.lane.isEmpty ? "" : spec.lane + "/")\(spec.name): the same clip was made before; reused, nothing sent", metadata: ["job": "\(job.id)"])
        context.observer(.done(name: spec.name, id: job.id, video: (job.reusedOutput ?? "") + ".mp4"))
        do {
            guard let stored = try await context.store.job(id: job.id) else { return }
            let result = try await context.disposer.dispose(.archive, job: stored, name: spec.name, errorText: "", log: nil)
            if result.released { release(jobID: job.id) }
        } catch {
            context.logger.error("job \(spec.name): cannot archive its files: \(error)")
        }
    }

    /// Moves an invalid drop's files into `failed/` with an error file that says what to fix.
    private func failInvalid(job: NewJob, spec: JobSpec) async {
        let text = ErrorReport.invalidDrop(spec: spec, inboxLabel: context.planner.options.inboxLabel)
        do {
            guard let stored = try await context.store.job(id: job.id) else { return }
            let result = try await context.disposer.dispose(.failed, job: stored, name: spec.name, errorText: text, log: nil)
            release(jobID: job.id)
            if let folder = result.folder { try? await context.store.appendNote(job.id, "moved to \(folder)", lease: nil) }
        } catch {
            context.logger.error("job \(spec.name): cannot move its files to the failed folder: \(error)")
        }
    }
}

/// Ready files handed over by the watcher, waiting for the next planning pass.
private struct Arrivals: Sendable {
    /// `lstat` of each ready file by inbox-relative path (a file reported twice counts once, as it is now). Kept
    /// compact: the start-up scan hands over every file of the inbox before the first pass takes any.
    var files = PathMap<FileStat>()
    /// ZIP archives, in the order they came.
    var archives: [ReadyFile] = []
    var latest = Date.distantPast
}

extension InputIdentity {
    init(_ identity: FileIdentity) {
        self.init(device: identity.device, inode: identity.inode, size: identity.size, mtimeNs: identity.mtimeNanoseconds)
    }

    var fileIdentity: FileIdentity {
        FileIdentity(device: device, inode: inode, size: size, mtimeNanoseconds: mtimeNs)
    }
}

extension JSONEncoder {
    /// An encoder with sorted keys and no escaped slashes: stable, readable JSON.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}
