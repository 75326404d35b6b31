// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore

/// The status names providers use, folded onto ``RemoteTaskStatus`` (the spec lists the synonyms).
enum TaskStatusWord: Sendable {
    case queued, running, succeeded, failed, cancelled, expired

    init?(_ word: String) {
        switch word.lowercased().trimmingCharacters(in: .whitespaces) {
        case "submitted", "pending", "queued", "queueing", "queuing", "waiting", "created", "not_start", "not_started":
            self = .queued
        case "processing", "running", "in_progress", "in-progress", "generating", "started":
            self = .running
        case "completed", "complete", "success", "succeeded", "succeed", "successful", "done", "finished":
            self = .succeeded
        case "failed", "failure", "fail", "error", "errored":
            self = .failed
        case "cancelled", "canceled", "cancel":
            self = .cancelled
        case "expired", "timeout", "timed_out":
            self = .expired
        default:
            return nil
        }
    }

    /// Builds the provider-neutral status; a success needs a video URL.
    static func status(
        word: String?, progress: Double?, videoURL: String?, expiresAt: Date?, error: ErrorDetail?
    ) throws(VideoAPIError) -> RemoteTaskStatus {
        guard let word else {
            throw .malformedResponse(operation: .status, reason: "the task has no status.")
        }
        guard let kind = TaskStatusWord(word) else {
            throw .malformedResponse(operation: .status, reason: "the task status \"\(word.prefix(40))\" is unknown.")
        }
        switch kind {
        case .queued:
            return .queued
        case .running:
            return .running(progress: progress.map { min(100, max(0, Int($0.rounded()))) })
        case .succeeded:
            guard let videoURL, !videoURL.isEmpty else {
                throw .malformedResponse(operation: .status, reason: "the task succeeded but carries no video URL.")
            }
            return .succeeded(videoURL: videoURL, expiresAt: expiresAt)
        case .failed:
            let category = ErrorClassifier.classifyTaskFailure(code: error?.code, message: error?.message)
            let message = [error?.code, error?.message].compactMap { $0 }.joined(separator: ": ")
            return .failed(category: category, message: message.isEmpty ? "the task failed without a reason." : message)
        case .cancelled:
            return .cancelled
        case .expired:
            return .expired
        }
    }
}

/// A URL field that arrives as a string or as an array of strings.
struct URLList: Decodable, Sendable {
    var urls: [String]

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let one = try? container.decode(String.self) {
            urls = [one]
        } else {
            urls = try container.decode([String].self)
        }
    }
}

/// A point in time given as unix seconds, unix milliseconds, a numeric string or an ISO 8601 string.
enum FlexibleDate {
    static func decode<K: CodingKey>(_ container: KeyedDecodingContainer<K>, _ key: K) -> Date? {
        if let number = try? container.decode(Double.self, forKey: key) { return fromNumber(number) }
        guard let string = try? container.decode(String.self, forKey: key) else { return nil }
        if let number = Double(string) { return fromNumber(number) }
        return ISO8601DateFormatter().date(from: string)
    }

    private static func fromNumber(_ number: Double) -> Date? {
        guard number > 0 else { return nil }
        return Date(timeIntervalSince1970: number > 1e11 ? number / 1000 : number)
    }
}
