// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Logging

extension JobRunner {
    /// Uploads a job's images and creates its task. Runs in a child task of the dispatcher.
    nonisolated func submit(_ job: StoredJob) async {
        let keepsSlot = await submitAndReport(job)
        await finishedSubmitting(job.id, leftSlot: !keepsSlot)
    }

    /// Returns whether the job still holds its slot (it has a remote task now).
    private nonisolated func submitAndReport(_ job: StoredJob) async -> Bool {
        let store = context.store
        guard let spec = try? JSONDecoder.iso.decode(JobSpec.self, from: job.specJSON) else {
            await fail(job, from: .ready, category: "internal", message: "its stored description could not be read back", spec: nil)
            return false
        }
        let reservation: OutputReservation
        do {
            reservation = try reserveOutput(job, spec: spec, record: !spec.images.isEmpty)
        } catch {
            await retry(job, from: .ready, category: .transient, message: "the outbox is not writable: \(error)", spec: spec)
            return false
        }
        log(reservation, "picked up from the queue: \(spec.mode.rawValue), \(spec.request.model), \(spec.request.duration ?? 5) s, \(spec.request.resolution ?? "default") \(spec.request.aspectRatio ?? "")")

        // Upload images first (reused for the same content until the upload expires).
        var state = JobState.ready
        var urls: [String: String] = [:]
        if !spec.images.isEmpty {
            do {
                try store.transition(job.id, from: .ready, to: .uploading, message: "uploading \(spec.images.count) image(s)")
                state = .uploading
                for image in spec.images {
                    let path = context.inbox + "/" + image.path
                    let prepared = try await uploads.run { try await self.context.api.prepareImage(at: path) }
                    urls[image.path] = prepared.url
                    log(reservation, "image \(image.path) (\(image.role.rawValue)): \(prepared.reused ? "reused earlier upload" : "uploaded")")
                }
            } catch let error as VideoAPIError {
                await handle(error, job: job, from: state, spec: spec, reservation: reservation)
                return false
            } catch {
                await retry(job, from: state, category: .transient, message: "\(error)", spec: spec)
                return false
            }
        }
        guard let request = spec.request(uploadedURLs: urls) else {
            await fail(job, from: state, category: "internal", message: "an image URL is missing after upload", spec: spec)
            return false
        }

        // Write-ahead: `submitting` is committed before the call, so a crash during it is known.
        do {
            // A text job's output name is recorded with this step: one commit fewer per job in a burst.
            let newOutput = job.outputPath == nil && spec.images.isEmpty ? reservation.stemPath : nil
            try store.transition(job.id, from: state, to: .submitting, message: "creating the task") { stored in
                if let newOutput { stored.outputPath = newOutput }
            }
        } catch {
            context.logger.error("job \(job.name): \(error)")
            return false
        }
        let taskID: String
        do {
            taskID = try await context.api.createTask(request)
        } catch let error as VideoAPIError {
            if error.outcomeUnknown {
                await markUncertain(job, reason: "\(error)", reservation: reservation)
                return false
            }
            await handle(error, job: job, from: .submitting, spec: spec, reservation: reservation)
            return false
        } catch {
            await markUncertain(job, reason: "\(error)", reservation: reservation)
            return false
        }
        let firstPoll = Date().addingTimeInterval(context.configuration.pollFirstDelay.seconds)
        do {
            try store.recordTask(job.id, provider: context.api.providerName, taskID: taskID, status: "queued", nextPollAt: firstPoll)
        } catch {
            context.logger.error("job \(job.name): task \(taskID) was created but could not be recorded: \(error)")
            return false
        }
        log(reservation, "task \(taskID) created")
        context.logger.info("job \(job.displayName): submitted as task \(taskID)", metadata: ["job": "\(job.id)"])
        await accountWorks()
        context.observer(.submitted(name: job.name, id: job.id, taskID: taskID))
        // The poller sleeps until its next poll is due; it only needs waking if this one is due sooner.
        // (0: it is awake, and a signal makes it look again before it sleeps.)
        let pollerSleepsUntil = pollerWakesAt.withLock { $0 }
        if pollerSleepsUntil == 0 || firstPoll.timeIntervalSinceReferenceDate < pollerSleepsUntil { pollWake.signal() }
        return true
    }

    /// Reserves the job's output name in the outbox (once; kept in the job for restarts).
    ///
    /// With `record: false` the caller records the name with its next state change.
    nonisolated func reserveOutput(_ job: StoredJob, spec: JobSpec, record: Bool = true) throws -> OutputReservation {
        if let stem = job.outputPath { return context.outbox.reservation(stemPath: stem) }
        let reservation = try context.outbox.reserve(lane: job.lane, name: spec.outputName)
        if record { try context.store.updateJob(job.id, in: job.state) { $0.outputPath = reservation.stemPath } }
        return reservation
    }

    /// The create call's outcome is unknown: the task may exist and be billed. Never resubmitted silently.
    nonisolated func markUncertain(_ job: StoredJob, reason: String, reservation: OutputReservation?) async {
        let message = ErrorReport.uncertainMessage(reason: reason)
        do {
            try context.store.transition(job.id, from: .submitting, to: .uncertain, message: message)
            if context.configuration.resubmitUncertain {
                try context.store.transition(job.id, from: .uncertain, to: .ready, message: "resubmitting (resubmit_uncertain: true)")
                jobsQueued()
            }
        } catch {
            context.logger.error("job \(job.name): \(error)")
        }
        if let reservation { log(reservation, message) }
        context.logger.warning("job \(job.displayName): uncertain — \(message)")
        context.observer(.uncertain(name: job.name, id: job.id))
    }

    /// Acts on an API error according to its category.
    nonisolated func handle(_ error: VideoAPIError, job: StoredJob, from state: JobState, spec: JobSpec, reservation: OutputReservation?) async {
        let category = error.category
        if let reservation { log(reservation, "\(error)") }
        switch category.action {
        case .pauseQueue:
            do {
                try context.store.transition(job.id, from: state, to: .ready, message: "waiting: \(error)")
            } catch {
                context.logger.error("job \(job.name): \(error)")
            }
            await pauseQueue(category: category, message: "\(error)")
        case .retry(let notBefore):
            if case .rateLimited = category {
                let pause = notBefore ?? context.backoff(attempt: 1)
                await slowDown(seconds: pause)
            }
            await retry(job, from: state, category: category, message: "\(error)", spec: spec, notBefore: notBefore)
        case .failJob:
            await fail(job, from: state, category: category.name, message: "\(error)", spec: spec)
        }
    }

    /// Puts a job back into the queue after a delay, or fails it when its attempts are used up.
    nonisolated func retry(
        _ job: StoredJob, from state: JobState, category: APIErrorCategory, message: String, spec: JobSpec?,
        notBefore: Double? = nil
    ) async {
        let attempts = (try? context.store.job(job.id)?.attempts) ?? job.attempts
        guard attempts + 1 < context.configuration.maxAttempts else {
            await fail(job, from: state, category: category.name, message: "\(message) (gave up after \(attempts + 1) attempts)", spec: spec)
            return
        }
        var delay = context.backoff(attempt: attempts + 1)
        if let notBefore { delay = max(delay, notBefore) }
        do {
            try context.store.transition(job.id, from: state, to: .ready, message: "retrying in \(Int(delay.rounded())) s: \(message)") {
                $0.attempts = attempts + 1
                $0.nextAttemptAt = Date().addingTimeInterval(delay)
            }
        } catch {
            context.logger.error("job \(job.name): \(error)")
        }
        context.observer(.retrying(name: job.name, id: job.id))
        context.logger.info("job \(job.displayName): retrying in \(Int(delay.rounded())) s (\(category.name)): \(message)")
    }

    /// Fails a job: its inputs go to `failed/<lane>/<name>/` with an error file that says what to do.
    nonisolated func fail(_ job: StoredJob, from state: JobState, category: String, message: String, spec: JobSpec?) async {
        do {
            try context.store.transition(job.id, from: state, to: .failed, message: message) {
                $0.failureCategory = category
                $0.failureMessage = message
            }
        } catch {
            context.logger.error("job \(job.name): \(error)")
            return
        }
        context.logger.warning("job \(job.displayName): failed (\(category)): \(message)")
        defer { context.observer(.failed(name: job.name, id: job.id, category: category)) }
        guard let spec else { return }
        let reservation = (try? context.store.job(job.id)?.outputPath).flatMap { $0 }.map { context.outbox.reservation(stemPath: $0) }
        let text = ErrorReport.failure(category: category, message: message, spec: spec, inboxLabel: context.planner.options.inboxLabel)
        await fileAway(jobID: job.id, spec: spec, errorText: text, log: reservation)
    }

    /// Moves a job's inputs (copies of those other live jobs still need) into `failed/` and releases them.
    nonisolated func fileAway(jobID: UUID, spec: JobSpec, errorText: String, log: OutputReservation?) async {
        let shared = Set((try? context.store.inputsSharedWithLiveJobs(jobID)) ?? [])
        do {
            let folder = try context.outbox.moveToFailed(
                inputs: spec.inputFiles.filter { !shared.contains($0) }.map { context.inbox + "/" + $0 },
                lane: spec.lane, name: spec.outputName, errorText: errorText, log: log)
            for path in shared {
                try? FileManager.default.copyItem(
                    atPath: context.inbox + "/" + path, toPath: folder.path + "/" + (path as NSString).lastPathComponent)
            }
            try context.store.releaseInputs(ofJob: jobID)
            try context.store.updateJob(jobID, in: .failed) { $0.outputPath = folder.path }
            await intake.release(jobID: jobID)
        } catch {
            context.logger.error("job \(spec.name): cannot move its files to the failed folder: \(error)")
        }
    }

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
