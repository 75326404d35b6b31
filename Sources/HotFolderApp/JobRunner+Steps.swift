// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Logging

/// The I/O of each effect: each step does one thing and reports what happened as a lifecycle event.
extension JobRunner {
    // MARK: - Entry points

    /// Takes a claimed queued job through its create call. Runs in a child task of the dispatcher.
    nonisolated func submit(_ leased: LeasedJob) async {
        var work = await self.work(for: leased.job)
        work.lease = leased.lease
        await drive(&work, .picked)
        await settled(work)
        await finishedSubmitting(work.job.id, leftSlot: work.lease == nil || !work.lifecycle.state.isInFlight)
    }

    /// Resumes a job claimed in a working state: this node's own after a restart, or one whose node died or gave it
    /// back. An upload starts over, a create call becomes uncertain, a task resumes polling here.
    nonisolated func resume(_ leased: LeasedJob) async {
        var work = await self.work(for: leased.job)
        work.lease = leased.lease
        if let previous = leased.previousOwner, previous != node {
            context.logger.notice("job \(leased.job.displayName): taken over from node \(previous), whose lease ended (\(leased.job.state.rawValue))")
            try? await context.store.appendNote(leased.job.id, "taken over by node \(node) from node \(previous), whose lease ended", lease: leased.lease)
            context.observer(.takenOver(name: leased.job.name, id: leased.job.id, from: previous))
        }
        await drive(&work, .recovered)
        await settled(work)
        await finished(work.job.id, leftSlot: work.lease == nil || !work.lifecycle.state.isInFlight)
    }

    /// Moves one in-flight task forward: a status call, or the download. Runs in a child task of the poller.
    nonisolated func advance(_ item: InFlightTask, lease: JobLease) async {
        guard let job = try? await context.store.job(id: item.task.jobID) else {
            await settled(item.task.jobID, keepLease: false)
            await finished(item.task.jobID, leftSlot: true)
            return
        }
        var work = await self.work(for: job)
        work.lease = lease
        await drive(&work, .due)
        await settled(work)
        await finished(job.id, leftSlot: work.lease == nil || !work.lifecycle.state.isInFlight)
    }

    /// Tells a job outside the slots (uncertain, held, or with inputs left to move) that its time came; `lease`
    /// when this node claimed it.
    nonisolated func wake(_ job: StoredJob, with event: JobLifecycle.Event, lease: JobLease? = nil) async {
        var work = await self.work(for: job)
        work.lease = lease
        await drive(&work, event)
        let holdsSlot = work.lifecycle.state.isInFlight && (lease == nil || work.lease != nil)
        if lease != nil { await settled(work) }
        await finished(job.id, leftSlot: false)
        if holdsSlot { await tookSlot() }
    }

    /// Keeps the job's lease while it is in a working state, forgets it otherwise.
    nonisolated func settled(_ work: JobWork) async {
        await settled(work.job.id, keepLease: work.lease != nil && work.lifecycle.state.isWorking)
    }

    /// Removes the files made for the job's images (a retry prepares them again).
    nonisolated func removePreparedImages(_ work: JobWork) {
        for image in work.spec?.images ?? [] where image.preparation != nil {
            for ext in ["png", "jpg"] {
                unlink(context.preparedImagesDirectory + "/\(work.job.id.lowercasedString)-\(image.role.rawValue).\(ext)")
            }
        }
    }

    // MARK: - Before the create call

    /// Whether the job may leave the queue now: its time window first, then that every input is still the file
    /// that was planned.
    nonisolated func verifyInputs(_ work: inout JobWork) async -> JobLifecycle.Event {
        if let spec = work.spec, let hold = context.windowHold(for: spec) { return hold }
        let inputs = (try? await context.store.inputFiles(ofJob: work.job.id)) ?? []
        work.inputs = inputs
        let changed = inputs.filter { input in
            FileSystemProbe.lstat(context.inbox + "/" + input.path).map { InputIdentity($0.identity) } != input.identity
        }
        return changed.isEmpty ? .inputsVerified : .inputsChanged(changed.map(\.path))
    }

    nonisolated func upload(_ work: inout JobWork) async -> JobLifecycle.Event {
        guard let spec = work.spec else { return .brokenLocally(message: unreadable) }
        // The hashes taken when the drop was planned (read by the check just before, or now for an upload resumed
        // after a restart): an image sent as dropped is then read once, hashed as it is sent (none when the store does
        // not answer: hashed first, then sent, as before).
        let inputs: [StoredInput]
        if let checked = work.inputs { inputs = checked } else { inputs = (try? await context.store.inputFiles(ofJob: work.job.id)) ?? [] }
        let planned = Dictionary(inputs.map { ($0.path, $0.sha256) }, uniquingKeysWith: { first, _ in first })
        do {
            for image in spec.images {
                var path = context.inbox + "/" + image.path
                if let preparation = image.preparation {
                    // Converted or scaled down on this machine; the file sent is removed after the create call.
                    let source = path
                    let directory = context.preparedImagesDirectory
                    let name = "\(work.job.id.lowercasedString)-\(image.role.rawValue)"
                    let made = try await Blocking.run {
                        try ImagePreparer.prepare(source: source, preparation: preparation, into: directory, name: name)
                    }
                    path = made.path
                    if let reservation = work.reservation { log(reservation, "image \(image.path): \(made.description)") }
                }
                let send = path
                let expected = image.preparation == nil ? planned[image.path] : nil
                let prepared = try await uploads.run { try await self.context.api.prepareImage(at: send, expectedSHA256: expected) }
                work.urls[image.path] = prepared.url
                if let reservation = work.reservation {
                    log(reservation, "image \(image.path) (\(image.role.rawValue)): \(prepared.reused ? "reused earlier upload" : "prepared")")
                }
            }
            return .uploaded
        } catch let error as VideoAPIError {
            return .uploadFailed(error.category, message: "\(error)")
        } catch {
            return .uploadFailed(.transient, message: "\(error)")
        }
    }

    nonisolated func create(_ work: JobWork) async -> JobLifecycle.Event {
        defer { removePreparedImages(work) }
        guard let request = work.spec?.request(uploadedURLs: work.urls).map({ identifiable($0, work) }) else {
            return .brokenLocally(message: "an image URL is missing after the upload")
        }
        if let reservation = work.reservation, let spec = work.spec {
            log(reservation, "creating the task: \(spec.mode.rawValue), \(request.model), \(request.duration ?? 5) s, \(request.resolution ?? "default") \(request.aspectRatio ?? "")")
        }
        do {
            return .created(taskID: try await context.api.createTask(request))
        } catch let error as VideoAPIError {
            return error.createdNothing ? .createRefused(error.category, message: "\(error)") : .createOutcomeUnknown(message: "\(error)")
        } catch {
            return .createOutcomeUnknown(message: "\(error)")
        }
    }

    // MARK: - After the create call

    nonisolated func askStatus(_ work: inout JobWork) async -> JobLifecycle.Event {
        guard let taskID = work.lifecycle.task?.taskID else { return .brokenLocally(message: "the job has no task on record") }
        do {
            let remote = try await context.api.task(id: taskID)
            work.seen = remote
            return .statusSeen(remote)
        } catch let error as VideoAPIError {
            return .statusFailed(error.category, message: "\(error)")
        } catch {
            return .statusFailed(.transient, message: "\(error)")
        }
    }

    nonisolated func download(_ work: inout JobWork) async -> JobLifecycle.Event {
        guard let reservation = work.reservation, let url = work.lifecycle.task?.videoURL else {
            return .brokenLocally(message: "no output name was reserved")
        }
        // A video already in place is this job's (the reserved name is only ever written by it): an earlier
        // attempt got it but could not write the metadata.
        if let size = FileSystemProbe.lstat(reservation.videoPath)?.size, size > 0 {
            work.bytes = size
            return .downloaded(bytes: size)
        }
        let started = Date()
        do {
            let bytes = try await downloads.run { try await self.context.api.download(from: url, to: reservation.videoPath) }
            work.bytes = bytes
            log(reservation, "video downloaded: \(bytes) bytes in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
            return .downloaded(bytes: bytes)
        } catch let error as VideoAPIError {
            return .downloadFailed(error.category, message: "\(error)", diskFull: error.isDiskFull)
        } catch {
            return .downloadFailed(.transient, message: "\(error)", diskFull: false)
        }
    }

    /// Writes the job's metadata next to its video; `task`, `events` and `inputs` were read from the store first.
    nonisolated func writeOutbox(_ work: JobWork, task: StoredTask?, events: [StoredEvent], inputs: [StoredInput]) -> JobLifecycle.Event {
        guard let reservation = work.reservation, let spec = work.spec, let task
        else { return .outboxFailed(message: "the job's task or output name is not on record") }
        do {
            var metadata = JobMetadata(
                job: work.job, spec: spec, task: task, events: events, inputs: inputs, videoBytes: work.bytes,
                videoPath: reservation.videoPath, sent: identifiable(spec.request, work),
                sentBody: context.api.recordedBody(for: identifiable(spec.request, work)))
            (metadata.poster, metadata.posterError) = makePoster(reservation, duration: spec.request.duration)
            try context.outbox.writeMetadata(try JSONEncoder.pretty.encode(metadata), for: reservation)
            log(reservation, "done: \(reservation.videoPath)")
            return .outboxWritten
        } catch {
            return .outboxFailed(message: "\(error)")
        }
    }

    /// Makes `<stem>.jpg` beside the video; returns its path, or why there is none. Never fails the job: a
    /// missing ffmpeg or an undecodable video only costs the poster (a line in the job's log says so).
    nonisolated func makePoster(_ reservation: OutputReservation, duration: Int?) -> (String?, String?) {
        let poster = reservation.stemPath + ".jpg"
        if FileSystemProbe.lstat(poster) != nil { return (poster, nil) }  // made before a crash
        do {
            try context.posters.makePoster(video: reservation.videoPath, poster: poster, durationHint: duration.map(Double.init) ?? 5)
            log(reservation, "poster: \(poster)")
            return (poster, nil)
        } catch {
            log(reservation, "no poster: \(error)")
            return (nil, "\(error)")
        }
    }

    // MARK: - Inputs

    /// Moves the job's inputs away (see ``InputDisposer``) and lets the intake know they are free again.
    nonisolated func moveInputs(_ disposal: JobLifecycle.InputDisposal, _ work: JobWork) async {
        let job = work.job
        let failure = work.lifecycle.failure
            ?? JobLifecycle.Failure(category: job.failureCategory ?? "internal", message: job.failureMessage ?? "")
        let text = work.spec.map {
            job.state == .invalid ? ErrorReport.invalidDrop(spec: $0, inboxLabel: context.planner.options.inboxLabel) :
            ErrorReport.failure(category: failure.category, message: failure.message, spec: $0, inboxLabel: context.planner.options.inboxLabel)
        } ?? ErrorReport.failure(category: failure.category, message: failure.message, jobName: job.displayName)
        let (disposer, name, reservation) = (context.disposer, work.spec?.outputName ?? job.name, work.reservation)
        do {
            let result = try await disposer.dispose(disposal, job: job, name: name, errorText: text, log: reservation, lease: work.lease)
            if let reservation = work.reservation, disposal == .archive {
                let policy = context.configuration.archivePolicy
                if policy != .keep { log(reservation, "inputs \(policy == .move ? "archived" : "deleted"): \(result.moved.count) file(s)") }
                if !result.changed.isEmpty {
                    log(reservation, "left in the inbox (changed since the job was planned): \(result.changed.joined(separator: ", "))")
                }
            }
            if result.released { await intake.release(jobID: job.id) }
        } catch {
            // The disposal stays pending in the store: the next start finishes it.
            context.logger.error("job \(job.displayName): cannot move its files: \(error)")
        }
    }

    // MARK: - Remote tasks

    nonisolated func cancelRemoteTask(_ work: JobWork) async {
        var taskID = work.orphanTaskID ?? work.lifecycle.task?.taskID
        if taskID == nil { taskID = (try? await context.store.activeTask(ofJob: work.job.id))?.taskID }
        guard let taskID else { return }
        do {
            try await context.api.cancelTask(id: taskID)
            try? await context.store.appendNote(work.job.id, "the provider cancelled task \(taskID)", lease: nil)
        } catch {
            try? await context.store.appendNote(work.job.id, "the provider could not cancel task \(taskID) (\(error)); it may still run and be billed", lease: nil)
            context.logger.warning("job \(work.job.displayName): task \(taskID) could not be cancelled at the provider: \(error)")
        }
    }

    nonisolated func searchLostTask(_ work: JobWork) async -> JobLifecycle.Event {
        guard let request = work.spec.map({ identifiable($0.request, work) }) else {
            return .lookedUp(.failed(message: "the job's request cannot be rebuilt"))
        }
        let sentAt = (try? await context.store.submittingTime(ofJob: work.job.id)) ?? work.job.updatedAt
        // A stalled call may be carried out late: every task made since the call began counts (the job's own seed tells it apart).
        let endedBy = max(sentAt, Date())
        let store = context.store
        let provider = context.api.providerName
        do {
            let found = try await context.api.findLostTask(for: request, createdBetween: sentAt...endedBy) { taskID in
                (try? await store.knowsTask(provider: provider, taskID: taskID)) ?? true
            }
            return .lookedUp(found, callStarted: sentAt)
        } catch {
            return .lookedUp(.failed(message: "\(error)"), callStarted: sentAt)
        }
    }

    /// On a provider whose task list is searched for lost create calls, a job without a seed of its own is sent
    /// with one derived from its id and attempt: its task is then told apart from another client's task with the
    /// same settings made at the same moment, and the same seed is known again after a restart.
    nonisolated func identifiable(_ request: GenerationRequest, _ work: JobWork) -> GenerationRequest {
        guard context.api.canSearchLostTasks, (request.seed ?? -1) < 0 else { return request }
        let counters = work.lifecycle.counters
        var request = request
        request.seed = Self.derivedSeed(job: work.job.id, attempt: counters.uploadFailures + counters.createFailures + counters.taskFailures)
        return request
    }

    /// FNV-1a of the job id and attempt, as a seed in 0…2^32−1 (stable across processes, unlike `Hasher`).
    static func derivedSeed(job: UUID, attempt: Int) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (job.uuidString.lowercased() + "/\(attempt)").utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return Int64(hash & 0xFFFF_FFFF)
    }

    private nonisolated var unreadable: String { "the job's stored description could not be read back" }

    /// Appends to the job's log in the outbox (best effort: a full disk must not stop the job).
    nonisolated func log(_ reservation: OutputReservation, _ message: String) {
        try? context.outbox.appendLog(message, at: Date(), for: reservation)
    }
}

extension StoredJob {
    /// `lane/name`, or `name` in the inbox root.
    var displayName: String { lane.isEmpty ? name : lane + "/" + name }
}

extension JSONDecoder {
    /// A decoder for the JSON the service writes (ISO 8601 dates).
    static var iso: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

extension JSONEncoder {
    /// Pretty, sorted, unescaped JSON for files people read.
    static var pretty: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}
