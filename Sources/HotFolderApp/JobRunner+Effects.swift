// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Logging

/// What the runner holds about one job while it performs its lifecycle's effects.
struct JobWork: Sendable {
    var job: StoredJob
    /// Nil when the stored description cannot be read (the job is failed with that reason).
    var spec: JobSpec?
    var lifecycle: JobLifecycle
    var reservation: OutputReservation?
    /// Prepared image URLs by inbox-relative path.
    var urls: [String: String] = [:]
    /// The status call just answered, recorded with the next commit or schedule.
    var seen: RemoteTask?
    /// The downloaded video's size.
    var bytes: Int64 = 0
    /// The task an effect concerns when the store has none for the job (created after a cancel).
    var orphanTaskID: String?
    /// The lease this node works on the job under (nil: unfenced, such as a held job a reload releases).
    var lease: JobLease?
    /// Set when a write found the lease taken over: the work was dropped.
    var leaseLost = false
    /// The job's inputs as the check before leaving the queue read them (their planned hashes serve the upload).
    var inputs: [StoredInput]?
    /// Set when the job's task could not be read (the database away until the service stopped): nothing is done
    /// with it here, rather than take a task that exists for one that does not.
    var unreadable = false
}

extension JobRunner {
    /// Builds the work for a stored job: its description and its lifecycle from the stored state and task.
    nonisolated func work(for job: StoredJob) async -> JobWork {
        let spec = context.plannedSpecs.take(job) ?? job.spec
        // Only a job that has had a create call can have a task: a queued job costs no read. A read that fails is
        // never taken for "no task" (that would fail a job whose paid task runs): it is tried until the database
        // answers, and when it cannot be (the service stops), the work is marked unreadable and left alone.
        var task: StoredTask?
        var unreadable = false
        if job.state != .ready {
            let (store, id) = (context.store, job.id)
            do {
                task = try await untilTheStoreAnswers("job \(job.displayName): its task") { try await store.activeTask(ofJob: id) }
            } catch {
                unreadable = true
            }
        }
        var work = JobWork(
            job: job, spec: spec, lifecycle: job.lifecycle(spec: spec, task: task, policy: context.lifecyclePolicy),
            reservation: job.outputPath.flatMap { $0.hasPrefix(context.outbox.outbox) ? context.outbox.reservation(stemPath: $0) : nil })
        work.unreadable = unreadable
        return work
    }

    /// Tells the job's lifecycle about `event` and performs what it returns, feeding outcomes back as events.
    ///
    /// When a commit finds the job moved on (another process cancelled or retried it), the job is read again
    /// and the same event is told to its fresh lifecycle once: a task created after a cancel is then cancelled.
    nonisolated func drive(_ work: inout JobWork, _ first: JobLifecycle.Event) async {
        if work.unreadable {
            // Its lease ends and it is taken over (here or elsewhere) once the database answers.
            context.logger.warning("job \(work.job.displayName): its task could not be read; it resumes once its lease ends")
            work.lease = nil
            return
        }
        var events = [first]
        var reread = false
        let wasFinished = work.lifecycle.state.isTerminal
        defer {
            // The last clip of a storyboard to finish lets its film be joined (or failed, naming the clip).
            if !wasFinished, work.lifecycle.state.isTerminal, work.spec?.storyboard != nil {
                let context = self.context
                Task { await context.films.settleAll(context) }
            }
        }
        while !events.isEmpty {
            var event = events.removeFirst()
            if work.spec == nil, !work.lifecycle.state.isTerminal {
                // Fail loudly, by name, rather than skip the job and leak its slot.
                if case .brokenLocally = event {} else { event = .brokenLocally(message: unreadableSpecMessage(work.job)) }
            }
            let effects = work.lifecycle.handle(event, now: context.clock(), jitter: Double.random(in: 0...1))
            var movedOn = false
            var refused: JobLifecycle.Event?
            for effect in effects {
                let outcome = await perform(effect, &work)
                if case .next(let next) = outcome { events.append(next) }
                if case .movedOn = outcome {
                    movedOn = true
                    break
                }
                if case .refused(let instead) = outcome {
                    refused = instead
                    break
                }
                if case .storeFailed = outcome {
                    // Nothing was written and the job is as stored: this node lets its lease end rather than renew it
                    // for work nobody does, and the job is taken over (here or on another node) once it has.
                    if work.lease != nil {
                        context.logger.warning("job \(work.job.displayName): its work stops here; it resumes once its lease ends")
                    }
                    work.lease = nil
                    return
                }
                if case .leaseLost = outcome {
                    // Another node holds the job now: stop at once, touch nothing more.
                    if let lease = work.lease {
                        context.logger.warning("job \(work.job.displayName): this node lost its lease (generation \(lease.generation)) to another node; dropping its work")
                    }
                    work.lease = nil
                    work.leaseLost = true
                    context.observer(.leaseLost(name: work.job.name, id: work.job.id))
                    return
                }
            }
            if let refused {
                // Nothing was written: the job is as stored, and is told why instead (a budget holds it).
                guard let fresh = try? await context.store.job(id: work.job.id) else { return }
                let (reservation, lease) = (work.reservation, work.lease)
                work = await self.work(for: fresh)
                work.reservation = reservation ?? work.reservation
                work.lease = lease
                events = [refused]
            } else if movedOn {
                guard !reread, let fresh = try? await context.store.job(id: work.job.id) else { return }
                reread = true
                let (reservation, orphan, lease) = (work.reservation, work.orphanTaskID, work.lease)
                work = await self.work(for: fresh)
                work.reservation = reservation ?? work.reservation
                work.orphanTaskID = orphan
                work.lease = lease
                events = [event]
            }
        }
    }

    private nonisolated func unreadableSpecMessage(_ job: StoredJob) -> String {
        if job.specVersion > NewJob.currentSpecVersion {
            return "job \(job.displayName) was stored by a newer hotfolder (description version \(job.specVersion), this one reads \(NewJob.currentSpecVersion)); run the newer version or drop the files again"
        }
        return "the stored description of job \(job.displayName) could not be read back; drop its files again"
    }

    /// Performs one effect; returns the event it produced, if any.
    private nonisolated func perform(_ effect: JobLifecycle.Effect, _ work: inout JobWork) async -> EffectOutcome {
        switch effect {
        case .commit(let commit):
            return await performCommit(commit, &work)
        case .verifyInputs:
            // An indexed read and an lstat per input: cheap, and WAL readers never wait for a lock.
            return .next(await verifyInputs(&work))
        case .upload:
            return .next(await upload(&work))
        case .create:
            // The commit to `submitting` just checked the lease; a pause since then is caught here, before the money.
            if let lease = work.lease, !(await confirm(lease)) { return .leaseLost }
            return .next(await create(work))
        case .recordTask(let taskID, let from, let firstPoll):
            return await recordTask(taskID, from: from, firstPoll: firstPoll, &work)
        case .askStatus:
            return .next(await askStatus(&work))
        case .schedule(let at):
            let seen = work.seen
            work.seen = nil
            do {
                try await context.store.updateTask(forJob: work.job.id, lease: work.lease) { task in
                    Self.apply(seen, to: &task)
                    task.nextPollAt = at
                }
            } catch StateStoreError.leaseLost {
                return .leaseLost
            } catch {
                context.logger.warning("job \(work.job.displayName): cannot record its next status call: \(error)")
            }
            return .done
        case .download:
            return .next(await download(&work))
        case .writeOutbox:
            let snapshot = work
            let (store, id) = (context.store, snapshot.job.id)
            // Not read is not "no task" (that would fail the job with its video downloaded).
            let task: StoredTask?
            do {
                task = try await untilTheStoreAnswers("job \(snapshot.job.displayName): its task") { try await store.activeTask(ofJob: id) }
            } catch {
                return .storeFailed
            }
            let events = (try? await store.events(ofJob: snapshot.job.id)) ?? []
            let inputs = (try? await store.inputFiles(ofJob: snapshot.job.id)) ?? []
            return .next(
                (try? await Blocking.run { self.writeOutbox(snapshot, task: task, events: events, inputs: inputs) })
                    ?? .outboxFailed(message: "the service is stopping"))
        case .moveInputs(let disposal):
            await moveInputs(disposal, work)
            return .done
        case .cancelRemoteTask:
            await cancelRemoteTask(work)
            return .done
        case .searchLostTask:
            return .next(await searchLostTask(work))
        case .replan:
            await intake.release(jobID: work.job.id)
            await intake.replan(inputs: (try? await context.store.inputFiles(ofJob: work.job.id)) ?? [])
            return .done
        case .pauseQueue(let category, let message):
            await pauseQueue(category: category, message: message)
            return .done
        case .slowQueue(let seconds):
            await slowDown(seconds: seconds)
            return .done
        case .accountWorks:
            await accountWorks()
            return .done
        case .log(let message):
            if let reservation = work.reservation { log(reservation, message) }
            return .done
        case .notify(let notice):
            notify(notice, work)
            return .done
        }
    }

    // MARK: - Commits

    private nonisolated func performCommit(_ commit: JobLifecycle.Commit, _ work: inout JobWork) async -> EffectOutcome {
        // The output name is recorded with the first step that leaves the queue (a text job's with `submitting`:
        // one commit fewer per job in a burst), so the job's log has a place from then on.
        var outputPath: String?
        if commit.to == .submitting || commit.to == .uploading, work.job.outputPath == nil, let spec = work.spec {
            if work.reservation == nil { work.reservation = try? context.outbox.reserve(lane: work.job.lane, name: spec.outputName) }
            outputPath = work.reservation?.stemPath
        }
        let seen = work.seen
        work.seen = nil
        var recordSeen: (@Sendable (inout StoredTask) -> Void)?
        if let seen {
            recordSeen = { task in Self.apply(seen, to: &task) }
        }
        let output = outputPath
        let budget = commit.spend == .reserve ? work.spec.map(context.budgetRequest(for:)) : nil
        do {
            // On the database's writer queue: a lock held by another process never blocks a cooperative thread.
            let (store, id, lease) = (context.store, work.job.id, work.lease)
            work.job = try await untilTheStoreAnswers("job \(work.job.displayName): its move to \(commit.to.rawValue)") {
                try await store.commit(id, commit, lease: lease, outputPath: output, task: recordSeen, budget: budget)
            }
        } catch StateStoreError.leaseLost {
            // Another node claimed the job: nothing was written, and nothing more is done here.
            if output != nil, let reservation = work.reservation {
                context.outbox.release(reservation)
                work.reservation = nil
            }
            return .leaseLost
        } catch StateStoreError.budgetHold(let hold) {
            // The name reserved for this step was not recorded: give it back, or each hold would leave a log.
            if output != nil, let reservation = work.reservation {
                context.outbox.release(reservation)
                work.reservation = nil
            }
            // Told once per cap and period (the poller announces it).
            _ = try? await context.store.recordAlert(hold.alert)
            return .refused(.gateClosed(.budget, reason: hold.reason, until: hold.until))
        } catch StateStoreError.unexpectedState {
            // An earlier try may have been written with its answer lost (the connection dropped after COMMIT): the
            // job is where this commit moves it, under this node's lease, so the step is done.
            guard commit.from != commit.to, let fresh = try? await context.store.job(id: work.job.id), fresh.state == commit.to,
                await leaseStillMine(work)
            else { return .movedOn }
            work.job = fresh
        } catch {
            if output != nil, let reservation = work.reservation {
                context.outbox.release(reservation)
                work.reservation = nil
            }
            context.logger.error("job \(work.job.displayName): cannot record its move to \(commit.to.rawValue): \(error)")
            return .storeFailed
        }
        if commit.from != commit.to {
            // The create call logs its own, fuller line.
            if let reservation = work.reservation, !commit.message.isEmpty, commit.to != .submitting {
                log(reservation, commit.message)
            }
            if commit.to == .ready { jobsQueued() }
        }
        if let next = commit.nextPoll { wakePoller(for: next) }
        return .done
    }

    /// Writes what a status call said into the task row.
    static func apply(_ seen: RemoteTask?, to task: inout StoredTask) {
        guard let seen else { return }
        task.status = seen.status.name
        task.pollCount += 1
        if case .running(let progress) = seen.status, let progress { task.progress = progress }
        if let estimate = seen.estimatedSeconds { task.estimatedTime = estimate }
        if case .failed(_, let message) = seen.status { task.errorMessage = message }
        if let tokens = seen.completionTokens {
            task.resultJSON = try? JSONEncoder.sorted.encode(["completion_tokens": tokens])
        }
    }

    private nonisolated func recordTask(_ taskID: String, from: JobState, firstPoll: Date, _ work: inout JobWork) async -> EffectOutcome {
        do {
            // The task exists and may be billed: its id is recorded however long the database is away (a take-over
            // meanwhile makes this write fail with leaseLost, and the id goes into the history below).
            let (store, id, lease, provider) = (context.store, work.job.id, work.lease, context.api.providerName)
            _ = try await untilTheStoreAnswers("job \(work.job.displayName): task \(taskID)", evenWhenStopping: true) {
                try await store.recordTask(
                    id, lease: lease, provider: provider, taskID: taskID, status: "queued", nextPollAt: firstPoll, from: from,
                    message: nil)
            }
            work.job.state = .submitted
        } catch StateStoreError.leaseLost {
            // The node was paused during the call and another one took the job over (it is uncertain there): the
            // task exists and may be billed, so its id goes into the job's history for whoever resolves it.
            let note = "node \(node) created task \(taskID) after another node had taken the job over; it may be billed and its video is this job's"
            try? await context.store.appendNote(work.job.id, note, lease: nil)
            context.logger.error("job \(work.job.displayName): \(note)")
            return .leaseLost
        } catch StateStoreError.unexpectedState {
            if (try? await context.store.activeTask(ofJob: work.job.id))?.taskID == taskID {
                // An earlier try was written but its answer lost with the connection: recorded after all.
                work.job.state = .submitted
            } else {
                work.orphanTaskID = taskID
                return .movedOn
            }
        } catch {
            // The id is kept where a person finds it (the job's log and the service's), and the lease ends: the job
            // is taken over as uncertain, its history pointing at this line.
            let line = "task \(taskID) was created (it may be billed) but could not be recorded: \(error)"
            if let reservation = work.reservation { log(reservation, line) }
            context.logger.error("job \(work.job.displayName): \(line)")
            work.orphanTaskID = taskID
            return .storeFailed
        }
        if let reservation = work.reservation { log(reservation, "task \(taskID) created") }
        context.logger.info("job \(work.job.displayName): submitted as task \(taskID)", metadata: ["job": "\(work.job.id)"])
        wakePoller(for: firstPoll)
        return .done
    }

    /// Whether the job's lease in the store is still the one this work holds (always true for unfenced work).
    nonisolated func leaseStillMine(_ work: JobWork) async -> Bool {
        guard let lease = work.lease else { return true }
        guard let stored = try? await context.store.lease(ofJob: work.job.id) else { return false }
        return stored.owner == lease.owner && stored.generation == lease.generation
    }

    /// Runs a write of the job's steps, trying again while the database is away (PostgreSQL restarting, the network
    /// down) or locked by another process (SQLite busy past its timeout): every 0.5 s at first, then up to every 10 s, said once. It ends when the database answers (the write's
    /// own outcome, a lost lease included) or when the service stops (the last error: the job resumes at the next start,
    /// or on another node once its lease ends).
    ///
    /// With `evenWhenStopping` (a created task's id) it goes on after ``stop()`` until the shutdown's grace period
    /// cancels it. A cancelled task never loops.
    nonisolated func untilTheStoreAnswers<T: Sendable>(
        _ what: String, evenWhenStopping: Bool = false, _ write: () async throws -> T
    ) async throws -> T {
        var delay = 0.5
        var said = false
        while true {
            try Task.checkCancellation()
            do {
                let value = try await write()
                if said { context.logger.notice("\(what) is recorded: the state database answers again") }
                return value
            } catch let error as StateStoreError where error.isTransient {
                if Task.isCancelled { throw CancellationError() }
                if !evenWhenStopping, await isStopping { throw error }
                let reason = error.transientReason
                if !said {
                    context.logger.warning("\(what) waits for the state database, which does not answer (\(reason)); trying again until it does")
                    said = true
                }
                try? await Task.sleep(for: .seconds(delay))
                delay = min(10, delay * 2)
            }
        }
    }

    /// The poller sleeps until its next poll is due; it only needs waking for one due sooner.
    nonisolated func wakePoller(for due: Date) {
        // 0: it is awake, and a signal makes it look again before it sleeps.
        let sleepsUntil = pollerWakesAt.withLock { $0 }
        if sleepsUntil == 0 || due.timeIntervalSinceReferenceDate < sleepsUntil { pollWake.signal() }
    }

    // MARK: - Notices

    private nonisolated func notify(_ notice: JobLifecycle.Notice, _ work: JobWork) {
        let job = work.job
        switch notice {
        case .done:
            let video = work.reservation?.videoPath ?? ""
            context.logger.info("job \(job.displayName): done → \(video)", metadata: ["job": "\(job.id)"])
            context.observer(.done(name: job.name, id: job.id, video: video))
        case .failed(let category):
            context.logger.warning("job \(job.displayName): failed (\(category)): \(work.lifecycle.failure?.message ?? "")")
            context.observer(.failed(name: job.name, id: job.id, category: category))
        case .uncertain:
            context.logger.warning("job \(job.displayName): uncertain — \(work.lifecycle.failure?.message ?? "")")
            context.observer(.uncertain(name: job.name, id: job.id))
        case .resolved(let taskID):
            context.logger.notice("job \(job.displayName): no longer uncertain: its task \(taskID) was found")
            context.observer(.resolved(name: job.name, id: job.id, taskID: taskID))
        case .retrying:
            context.observer(.retrying(name: job.name, id: job.id))
        case .held(let reason):
            context.logger.info("job \(job.displayName): held — \(reason)")
            context.observer(.held(name: job.name, id: job.id, reason: reason))
        case .submitted(let taskID):
            context.observer(.submitted(name: job.name, id: job.id, taskID: taskID))
        case .cancelled:
            context.logger.info("job \(job.displayName): cancelled — \(work.lifecycle.failure?.message ?? "")")
            context.observer(.cancelled(name: job.name, id: job.id))
        }
    }
}

/// What performing an effect led to.
enum EffectOutcome: Sendable {
    /// Nothing to tell the lifecycle.
    case done
    /// An event to tell it next.
    case next(JobLifecycle.Event)
    /// The job is no longer in the state the lifecycle thought (another process moved it): stop.
    case movedOn
    /// The commit was refused and nothing was written (a budget cap): tell the stored job this event instead.
    case refused(JobLifecycle.Event)
    /// Another node holds the job's lease now: stop, and do nothing more with the job.
    case leaseLost
    /// The store refused the write for a reason other than the job's state or lease (a disk error, the database away
    /// past the service's stop): stop, and let the lease end so the job is taken over.
    case storeFailed
}
