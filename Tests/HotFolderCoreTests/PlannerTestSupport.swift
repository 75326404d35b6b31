// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

/// Shared helpers for planner tests: an in-memory inbox and a planning call.
enum Fixture {
    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    static func png(_ width: Int = 1280, _ height: Int = 720) -> [UInt8] {
        ImageHeader.minimalFile(.png, width: width, height: height)
    }

    /// Builds an inbox from `(path, text)` pairs; `*.png|jpg|webp` paths whose text is `WxH` become images.
    static func inbox(_ files: [(String, String)], modified: Date = t0) -> InMemoryDropSource {
        var source = InMemoryDropSource()
        for (path, text) in files {
            let lower = path.lowercased()
            let parts = text.split(separator: "x").compactMap { Int($0) }
            if parts.count == 2, [".png", ".jpg", ".jpeg", ".webp"].contains(where: lower.hasSuffix) {
                let format: ImageFormat = lower.hasSuffix(".png") ? .png : lower.hasSuffix(".webp") ? .webp : .jpeg
                source.add(path, bytes: ImageHeader.minimalFile(format, width: parts[0], height: parts[1]), modified: modified)
            } else {
                source.add(path, text: text, modified: modified)
            }
        }
        return source
    }

    static func plan(
        _ source: some DropSource, config: [String: String] = [:], now: Date = t0.addingTimeInterval(3600),
        orphanTimeout: TimeInterval = 600
    ) throws -> Plan {
        try DropPlanner(options: PlannerOptions(config: config, orphanTimeout: orphanTimeout)).plan(source, now: now)
    }

    static func plan(_ files: [(String, String)], config: [String: String] = [:]) throws -> Plan {
        try plan(inbox(files), config: config)
    }

    /// The only job of a plan (fails the test by crashing clearly if there is not exactly one).
    static func single(_ files: [(String, String)], config: [String: String] = [:]) throws -> JobSpec {
        let plan = try plan(files, config: config)
        guard plan.jobs.count == 1 else {
            throw FixtureError.expectedOneJob(plan.jobs.map(\.name))
        }
        return plan.jobs[0]
    }

    enum FixtureError: Error {
        case expectedOneJob([String])
    }
}
