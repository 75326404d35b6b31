// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Logging

extension JobRunner {
    /// Moves one in-flight task forward: asks for its status, or downloads and finishes it.
    nonisolated func advance(_ item: InFlightTask) async {
        let keepsSlot = await advanceAndReport(item)
        await finished(item.task.jobID, leftSlot: !keepsSlot)
    }

    /// Returns whether the job still holds its slot afterwards.
    private nonisolated func advanceAndReport(_ item: InFlightTask) async -> Bool {
        guard let job = try? context.store.job(item.task.jobID),
            let spec = try? JSONDecoder.iso.decode(JobSpec.self, from: job.specJSON)
        else { return false }
        if job.state == .downloading, let url = item.task.videoURL {
            return await download(job: job, spec: spec, task: item.task, url: url)
        }
        let remote: RemoteTask
        do {
            remote = try await context.api.task(id: item.task.taskID)
        } catch let error as VideoAPIError {
            return await pollFailed(job: job, spec: spec, task: item.task, error: error)
        } catch {
            reschedule(job, task: item.task, after: 10)
            return true
        }
        switch remote.status {
        case .queued, .running:
            var progress: Int?
            if case .running(let value) = remote.status { progress = value }
            let next = PollSchedule.nextDelay(
                pollCount: item.task.pollCount + 1, progress: progress, estimatedTime: remote.estimatedSeconds.map(Double.init),
                submittedAt: item.task.submittedAt, configuration: context.configuration)
            do {
                if case .running = remote.status, job.state == .submitted {
                    try context.store.transition(job.id, from: .submitted, to: .running, message: "the task is running")
                }
                try context.store.updateTask(forJob: job.id) {
                    $0.status = remote.status.name
                    $0.progress = progress ?? $0.progress
                    $0.estimatedTime = remote.estimatedSeconds ?? $0.estimatedTime
                    $0.pollCount += 1
                    $0.nextPollAt = Date().addingTimeInterval(next)
                }
            } catch {
                context.logger.error("job \(job.name): \(error)")
            }
            return true
        case .succeeded(let url, let expiresAt):
            do {
                try context.store.transition(job.id, from: job.state, to: .downloading, message: "the video is ready") { _ in } task: {
                    $0.status = "succeeded"
                    $0.progress = 100
                    $0.videoURL = url
                    $0.expiresAt = expiresAt
                    $0.pollCount += 1
                }
            } catch {
                context.logger.error("job \(job.name): \(error)")
                return true
            }
            guard let updated = try? context.store.job(job.id), let task = try? context.store.task(forJob: job.id) else { return true }
            return await download(job: updated, spec: spec, task: task, url: url)
        case .failed(let category, let message):
            return await taskFailed(job: job, spec: spec, category: category, message: message)
        case .cancelled:
            do {
                try context.store.transition(job.id, from: job.state, to: .cancelled, message: "the task was cancelled")
            } catch {
                context.logger.error("job \(job.name): \(error)")
            }
            return false
        case .expired:
            await fail(job, from: job.state, category: "expired", message: "the task expired at the provider before its video could be fetched", spec: spec)
            return false
        }
    }

    /// A remote task ended in failure.
    private nonisolated func taskFailed(job: StoredJob, spec: JobSpec, category: APIErrorCategory, message: String) async -> Bool {
        switch category.action {
        case .failJob:
            await fail(job, from: job.state, category: category.name, message: message, spec: spec)
        case .retry, .pauseQueue:
            // The task failed on the provider's side; a new task is a new attempt (failed tasks are not billed).
            if category.pausesQueue { await pauseQueue(category: category, message: message) }
            let delay = context.backoff(attempt: job.attempts + 1)
            do {
                try context.store.transition(job.id, from: job.state, to: .ready, message: "the task failed (\(message)); queued again") {
                    $0.attempts += 1
                    $0.nextAttemptAt = Date().addingTimeInterval(delay)
                }
                jobsQueued()
            } catch {
                await fail(job, from: job.state, category: category.name, message: message, spec: spec)
            }
        }
        return false
    }

    /// A status call failed.
    private nonisolated func pollFailed(job: StoredJob, spec: JobSpec, task: StoredTask, error: VideoAPIError) async -> Bool {
        switch error.category {
        case .invalidRequest, .expired:
            await fail(job, from: job.state, category: error.category.name, message: "\(error)", spec: spec)
            return false
        case .rateLimited(let retryAfter):
            await slowDown(seconds: retryAfter ?? 5)
            reschedule(job, task: task, after: max(retryAfter ?? 5, 1))
        case .auth, .quota:
            await pauseQueue(category: error.category, message: "\(error)")
            reschedule(job, task: task, after: context.configuration.pauseProbeInterval.seconds)
        case .transient, .moderation:
            let attempt = min(task.pollCount + 1, 10)
            reschedule(job, task: task, after: context.backoff(attempt: attempt))
        }
        return true
    }

    /// Sets the task's next poll `seconds` from now.
    nonisolated func reschedule(_ job: StoredJob, task: StoredTask, after seconds: Double) {
        _ = try? context.store.updateTask(forJob: job.id) {
            $0.nextPollAt = Date().addingTimeInterval(seconds)
        }
    }

    /// Downloads the video into its reserved outbox name, writes the metadata and archives the inputs.
    private nonisolated func download(job: StoredJob, spec: JobSpec, task: StoredTask, url: String) async -> Bool {
        guard let reservation = job.outputPath.map({ context.outbox.reservation(stemPath: $0) }) else {
            await fail(job, from: .downloading, category: "internal", message: "no output name was reserved", spec: spec)
            return false
        }
        if let expiresAt = task.expiresAt, expiresAt < Date() {
            await fail(job, from: .downloading, category: "expired", message: "the video's download link expired at \(expiresAt.formatted(.iso8601)) before it could be fetched", spec: spec)
            return false
        }
        let started = Date()
        let bytes: Int64
        do {
            bytes = try await downloads.run { try await self.context.api.download(from: url, to: reservation.videoPath) }
        } catch let error as VideoAPIError {
            if case .expired = error.category {
                await fail(job, from: .downloading, category: "expired", message: "\(error)", spec: spec)
                return false
            }
            let attempt = task.pollCount + 1
            if attempt > context.configuration.maxAttempts * 3, !error.isDiskFull {
                await fail(job, from: .downloading, category: error.category.name, message: "\(error) (gave up after \(attempt) attempts)", spec: spec)
                return false
            }
            let delay = error.isDiskFull ? 15 : context.backoff(attempt: min(attempt, 8))
            log(reservation, "download failed, retrying in \(Int(delay)) s: \(error)")
            context.logger.warning("job \(job.displayName): download failed, retrying in \(Int(delay)) s: \(error)")
            _ = try? context.store.updateTask(forJob: job.id) {
                $0.pollCount += 1
                $0.nextPollAt = Date().addingTimeInterval(delay)
            }
            return true
        } catch {
            reschedule(job, task: task, after: 15)
            return true
        }
        log(reservation, "video downloaded: \(bytes) bytes in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        await complete(job: job, spec: spec, task: task, reservation: reservation, bytes: bytes)
        return false
    }

    /// Writes the metadata, marks the job done and applies the archive policy to its inputs.
    private nonisolated func complete(job: StoredJob, spec: JobSpec, task: StoredTask, reservation: OutputReservation, bytes: Int64) async {
        do {
            let events = (try? context.store.events(job.id)) ?? []
            let inputs = (try? context.store.inputs(ofJob: job.id)) ?? []
            let metadata = JobMetadata(job: job, spec: spec, task: task, events: events, inputs: inputs, videoBytes: bytes, videoPath: reservation.videoPath)
            try context.outbox.writeMetadata(try JSONEncoder.pretty.encode(metadata), for: reservation)
            try context.store.transition(job.id, from: .downloading, to: .done, message: "video at \(reservation.videoPath)")
        } catch {
            context.logger.error("job \(job.name): cannot finish: \(error)")
            reschedule(job, task: task, after: 15)
            return
        }
        log(reservation, "done: \(reservation.videoPath)")
        context.logger.info("job \(job.displayName): done → \(reservation.videoPath)", metadata: ["job": "\(job.id)"])
        defer { context.observer(.done(name: job.name, id: job.id, video: reservation.videoPath)) }
        let shared = Set((try? context.store.inputsSharedWithLiveJobs(job.id)) ?? [])
        let inputs = spec.inputFiles.filter { !shared.contains($0) }.map { context.inbox + "/" + $0 }
        do {
            let moved = try context.outbox.archiveInputs(inputs, lane: spec.lane, policy: context.configuration.archivePolicy, date: Date())
            if context.configuration.archivePolicy != .keep, !moved.isEmpty || inputs.isEmpty {
                log(reservation, "inputs \(context.configuration.archivePolicy == .move ? "archived" : "deleted"): \(inputs.count) file(s)")
            }
        } catch {
            context.logger.error("job \(job.name): cannot archive its inputs: \(error)")
        }
        // A shot folder emptied by the archive goes too (never the lane folder itself).
        if context.configuration.archivePolicy != .keep {
            let folders = Set(spec.inputFiles.map { ($0 as NSString).deletingLastPathComponent })
            for folder in folders where !folder.isEmpty && folder != spec.lane {
                rmdir(context.inbox + "/" + folder)
            }
        }
    }
}

/// When to ask for a task's status next: soon at first, then less often, guided by the provider's estimate.
enum PollSchedule {
    /// Seconds until the next status call.
    static func nextDelay(
        pollCount: Int, progress: Int?, estimatedTime: Double?, submittedAt: Date,
        configuration: ServiceConfiguration, jitter: Double = Double.random(in: 0.9...1.1)
    ) -> Double {
        let minimum = configuration.pollMinInterval.seconds
        let maximum = max(minimum, configuration.pollMaxInterval.seconds)
        var delay = minimum * pow(1.5, Double(max(0, pollCount - 1)))
        if let estimatedTime, estimatedTime > 0 {
            // Aim at the expected end: the remaining time, or half of it when far away.
            let elapsed = Date().timeIntervalSince(submittedAt)
            var remaining = estimatedTime - elapsed
            if let progress, progress > 0, progress < 100 {
                remaining = min(remaining, elapsed * Double(100 - progress) / Double(progress))
            }
            delay = remaining > 2 * minimum ? remaining / 2 : max(minimum, remaining)
        }
        return min(maximum, max(minimum, delay)) * jitter
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
