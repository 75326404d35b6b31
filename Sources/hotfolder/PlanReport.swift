// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

/// The human-readable form of a plan: one block per job, then the totals.
enum PlanReport {
    static func text(_ plan: Plan, inbox: String) -> String {
        var out = "Plan for \(inbox): \(plan.jobs.count) job\(plan.jobs.count == 1 ? "" : "s")\n"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for job in plan.jobs {
            let mark = job.status == .valid ? "OK     " : job.status == .waiting ? "WAITING" : "INVALID"
            out += "\n\(mark) \(job.lane.isEmpty ? "" : job.lane + "/")\(job.name)  (\(job.mode.rawValue))\n"
            if let clip = job.storyboard {
                out += "  film:     clip \(clip.index) of \(clip.count) of \(job.lane.isEmpty ? "" : job.lane + "/")\(clip.film).mp4 (storyboard \(clip.folder))\n"
            }
            if job.status != .invalid || !job.request.prompt.isEmpty,
                let body = try? encoder.encode(job.request)
            {
                out += "  request:  \(String(decoding: body, as: UTF8.self))\n"
            }
            for image in job.images {
                let size = image.header.map { " (\($0.width)×\($0.height) \($0.format.rawValue.uppercased()))" } ?? ""
                out += "  image:    \(image.role.rawValue) \(image.path)\(size)\n"
                if let preparation = image.preparation { out += "            \(preparation.summary)\n" }
            }
            if !job.settings.isEmpty {
                out += "  settings:\n"
                let width = job.settings.keys.map(\.count).max() ?? 0
                for key in job.settings.keys.sorted() {
                    let setting = job.settings[key]!
                    var value = setting.value.replacingOccurrences(of: "\n", with: " ")
                    if value.count > 60 { value = String(value.prefix(57)) + "..." }
                    let paddedKey = key.padding(toLength: width, withPad: " ", startingAt: 0)
                    let paddedValue = value.count < 12 ? value.padding(toLength: 12, withPad: " ", startingAt: 0) : value
                    out += "    \(paddedKey)  \(paddedValue)  [\(setting.source)]\n"
                }
            }
            if let estimate = job.estimate, job.status == .valid {
                out += "  estimate: \(grouped(estimate.tokens)) tokens, \(dollars(estimate.cost))\n"
            }
            for (path, reading) in (job.readAs ?? [:]).sorted(by: { $0.key < $1.key }) where reading.contains("scale") || reading.hasPrefix("not used") {
                out += "  read as:  \(path): \(reading)\n"
            }
            if let waiting = job.waitingFor { out += "  waiting for \(waiting)\n" }
            for error in job.errors {
                out += "  error:    \(error.message)\n"
            }
        }
        for (path, reading) in (plan.archives ?? [:]).sorted(by: { $0.key < $1.key }) {
            out += "\nARCHIVE \(path)\n  read as:  \(reading)\n"
        }
        let totals = plan.totals
        out += "\nTotals: \(totals.jobs) jobs: \(totals.valid) valid, \(totals.invalid) invalid"
        if totals.waiting > 0 { out += ", \(totals.waiting) waiting" }
        out += "; \(grouped(totals.tokens)) tokens, estimated \(dollars(totals.cost)) for the valid jobs\n"
        return out
    }

    static func grouped(_ number: Int) -> String {
        let digits = Array(String(number))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return out
    }

    static func dollars(_ amount: Double) -> String {
        String(format: amount < 1 ? "US$ %.4f" : "US$ %.2f", amount)
    }
}
