// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO

/// Joins a storyboard's clips into its film once they are all finished, or fails the film naming the clip that
/// failed (README "Storyboards"). Films are settled one at a time; the state in the store (`open` → `joining` →
/// `joined`/`failed`) makes it safe to call again after a restart or from any clip that finishes.
actor FilmAssembler {
    private var running = false
    private var again = false

    /// Settles every film whose clips have all finished.
    func settleAll(_ context: ServiceContext) async {
        if running {
            again = true
            return
        }
        running = true
        defer { running = false }
        repeat {
            again = false
            let films: [StoredFilm]
            do {
                films = try await context.store.filmsToSettle()
            } catch {
                context.logger.warning("cannot read the storyboard films: \(error)")
                return
            }
            for film in films {
                await settle(film, context)
            }
        } while again
    }

    private func settle(_ film: StoredFilm, _ context: ServiceContext) async {
        let clips: [(job: StoredJob, clip: StoryboardClip)]
        do {
            clips = try context.store.filmClips(film.id)
                .compactMap { job in job.spec?.storyboard.map { (job, $0) } }
                .sorted { $0.clip.index < $1.clip.index }
        } catch {
            context.logger.warning("film \(film.name): cannot read its clips: \(error)")
            return
        }
        let stem = film.lane.isEmpty ? film.name : film.lane + "/" + film.name
        if film.state == .open {
            if let reason = Self.whyNot(film, clips: clips, context: context) {
                fail(film, reason: reason, context)
                return
            }
            do {
                let reservation = try context.outbox.reserve(lane: film.lane, name: film.name)
                guard try context.store.updateFilm(film.id, from: [.open], to: .joining, outputPath: reservation.stemPath, message: nil)
                else { return context.outbox.release(reservation) }
            } catch {
                context.logger.error("film \(stem): cannot reserve its name in the outbox: \(error)")
                return
            }
        }
        guard let stemPath = try? context.store.film(film.id)?.outputPath else { return }
        let reservation = context.outbox.reservation(stemPath: stemPath)
        let videos = clips.map { ($0.job.outputPath ?? "") + ".mp4" }
        let joiner = VideoJoiner(ffmpeg: context.posters)
        do {
            let method = try await Blocking.run { try joiner.join(videos, into: reservation.videoPath) }
            try writeMetadata(film, clips: clips, method: method, reservation: reservation, context: context)
            try context.outbox.appendLog(
                "joined \(clips.count) clips (\(method.rawValue)) into \(reservation.stem).mp4: "
                    + clips.map { ($0.job.outputPath.map { ($0 as NSString).lastPathComponent } ?? $0.job.name) + ".mp4" }.joined(separator: ", "),
                at: context.clock(), for: reservation)
            try context.store.updateFilm(film.id, from: [.joining], to: .joined, outputPath: nil, message: "joined \(clips.count) clips")
            removeStaleErrors(film, context)
            context.logger.info("film \(stem): \(clips.count) clips joined into \(reservation.videoPath)")
            context.observer(.filmJoined(name: film.name, video: reservation.videoPath))
        } catch {
            fail(film, reason: "its \(clips.count) clips were made, but joining them failed: \(error). The clips are in the outbox; "
                + "dropping the storyboard again joins them again without paying for them.", context)
            context.outbox.release(reservation)
        }
    }

    /// Why the film cannot be joined (a clip failed or its video is gone); nil when it can.
    private static func whyNot(_ film: StoredFilm, clips: [(job: StoredJob, clip: StoryboardClip)], context: ServiceContext) -> String? {
        guard clips.count == film.clips else {
            return "only \(clips.count) of its \(film.clips) clips are known (the history was pruned or damaged); drop the storyboard again"
        }
        let label = context.planner.options.inboxLabel
        let shown = { (path: String) in label.isEmpty ? path : label + "/" + path }
        let made = clips.filter { $0.job.state == .done }
        var lines: [String] = []
        for (job, clip) in clips where job.state != .done {
            lines.append("clip \(clip.index) of \(clip.count) (\(shown(clip.from)) → \((clip.to as NSString).lastPathComponent), job \(job.name)) "
                + "\(job.state.rawValue): \(job.failureMessage ?? "no reason recorded")")
        }
        for (job, clip) in made where !FileManager.default.fileExists(atPath: (job.outputPath ?? "") + ".mp4") {
            lines.append("the video of clip \(clip.index) (\(job.name)) is no longer in the outbox")
        }
        guard !lines.isEmpty else { return nil }
        let failed = clips.filter { $0.job.state != .done }.map(\.job.name)
        var text = lines.joined(separator: "\n")
        if !made.isEmpty {
            text += "\n\nThe clips already made are kept in the outbox and are not paid for again: "
                + made.map { (($0.job.outputPath ?? $0.job.name) as NSString).lastPathComponent + ".mp4" }.joined(separator: ", ") + "."
        }
        if !failed.isEmpty {
            text += "\nTo finish the film: hotfolder retry \(failed.joined(separator: " ")) (or move that clip's files from the failed folder "
                + "back into \(shown(film.folder))/). The storyboard is planned again; clips made before from the same keyframes, "
                + "prompt and settings are reused, only the others are made (and paid for)."
        }
        return text
    }

    private func fail(_ film: StoredFilm, reason: String, _ context: ServiceContext) {
        let text = "The film \(film.name) (storyboard \(film.folder)) was not made:\n\(reason)\n"
        var errorFile: String?
        do {
            errorFile = try context.outbox.moveToFailed(inputs: [], lane: film.lane, name: film.name, errorText: text).errorFile
        } catch {
            context.logger.error("film \(film.name): cannot write its error file: \(error)")
        }
        _ = try? context.store.updateFilm(film.id, from: [.open, .joining], to: .failed, outputPath: errorFile, message: reason)
        context.logger.warning("film \(film.lane.isEmpty ? "" : film.lane + "/")\(film.name): not made — \(reason.split(separator: "\n").first ?? "")")
        context.observer(.filmFailed(name: film.name, reason: reason))
    }

    /// Removes the error files of earlier attempts at the same storyboard once its film is made.
    private func removeStaleErrors(_ film: StoredFilm, _ context: ServiceContext) {
        for earlier in (try? context.store.failedFilms(lane: film.lane, folder: film.folder)) ?? [] {
            guard let errorFile = earlier.outputPath, errorFile.hasPrefix(context.outbox.failed) else { continue }
            unlink(errorFile)
            rmdir((errorFile as NSString).deletingLastPathComponent)
        }
    }

    private func writeMetadata(
        _ film: StoredFilm, clips: [(job: StoredJob, clip: StoryboardClip)], method: VideoJoiner.Method,
        reservation: OutputReservation, context: ServiceContext
    ) throws {
        let object: [String: Any] = [
            "film": film.name,
            "storyboard": film.folder,
            "joined": method.rawValue,
            "joined_at": context.clock().formatted(.iso8601),
            "clips": clips.map { job, clip -> [String: Any] in
                var entry: [String: Any] = [
                    "index": clip.index, "job": job.id.uuidString.lowercased(), "name": job.name,
                    "from": clip.from, "to": clip.to,
                    "video": ((job.outputPath ?? "") as NSString).lastPathComponent + ".mp4",
                ]
                if let earlier = clip.reusedFrom { entry["reused_from_job"] = earlier.uuidString.lowercased() }
                return entry
            },
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try context.outbox.writeMetadata(data, for: reservation)
    }
}
