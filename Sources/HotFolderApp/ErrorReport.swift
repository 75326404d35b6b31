// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

/// The plain-language text of `NAME.error.txt`: what happened, why, and what to do.
enum ErrorReport {
    /// For a drop that could not become a valid request (nothing was spent).
    static func invalidDrop(spec: JobSpec, inboxLabel: String) -> String {
        var lines = [
            "Job: \(display(spec))",
            "Category: invalid — the files could not be turned into a video request. Nothing was sent or paid.",
            "",
            "What is wrong:",
        ]
        for error in spec.errors {
            lines.append("  • \(error.file) (\(error.field)): \(error.message)")
        }
        lines += [
            "",
            "What to do: fix the points above, then move this folder (or its files) back into the inbox;",
            "the service picks them up again by itself.",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// For a ZIP archive dropped into the inbox that was not unpacked (nothing was written, nothing was spent).
    static func refusedArchive(name: String, refusal: ZipRefusal) -> String {
        [
            "Archive: \(name)",
            "Category: refused — the archive was not unpacked. Nothing was written or paid.",
            "",
            "What is wrong: \(refusal)",
            "",
            "What to do: \(refusal.advice)",
        ].joined(separator: "\n") + "\n"
    }

    /// For a job that failed after validation (API refusal, moderation, expired link, repeated errors).
    static func failure(category: String, message: String, spec: JobSpec, inboxLabel: String) -> String {
        failure(category: category, message: message, jobName: display(spec))
    }

    /// For a failed job known by its name (also one whose stored description cannot be read).
    static func failure(category: String, message: String, jobName: String) -> String {
        let (meaning, advice) = explain(category)
        return [
            "Job: \(jobName)",
            "Category: \(category) — \(meaning)",
            "",
            "What happened: \(message)",
            "",
            "What to do: \(advice)",
            "Then move this folder (or its files) back into the inbox to try again.",
        ].joined(separator: "\n") + "\n"
    }

    private static func display(_ spec: JobSpec) -> String {
        spec.lane.isEmpty ? spec.name : spec.lane + "/" + spec.name
    }

    /// What a person should do about a job that failed with `category` (the morning report shows it).
    static func advice(for category: String) -> String {
        if category == "invalid" {
            return "Fix what the error file in the failed folder names, then move the files back into the inbox."
        }
        return explain(category).1 + " Then move its files from the failed folder back into the inbox to try again."
    }

    private static func explain(_ category: String) -> (String, String) {
        switch category {
        case "moderation":
            return ("the provider's content filter rejected the prompt, an image or the generated video.",
                    "Rephrase the prompt or change the images; sending the same input again would be rejected again.")
        case "invalid_request":
            return ("the API refused the request.", "Read the API's message above and change the setting it names.")
        case "expired":
            return ("the finished video's download link expired before it could be fetched.",
                    "Nothing is wrong with your files; the video has to be generated again.")
        case "transient", "rate_limited":
            return ("the API kept failing or was overloaded, and the retries ran out.",
                    "Nothing is wrong with your files; try again later.")
        case "provider":
            return ("the provider's generation kept failing for the same input, with an error it did not explain.",
                    "Failed tasks are not billed. Try a different prompt or settings, or try again later.")
        case "cancelled":
            return ("the job was cancelled (by an operator or at the provider).", "Nothing more runs for it.")
        case "auth", "quota":
            return ("the API account refused the job (key or balance).", "Ask the operator to check the API key and balance.")
        default:
            return ("the service could not finish the job.", "Ask the operator to look at the service log.")
        }
    }
}
