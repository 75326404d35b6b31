// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Maps an HTTP error answer, or a failed task's error, onto an ``APIErrorCategory`` and a message.
enum ErrorClassifier {
    /// The category and the server's message for an error status.
    static func classify(status: Int, headers: HTTPHeaders, body: ByteBuffer) -> (APIErrorCategory, String) {
        let detail = ErrorDetail.parse(body)
        let message = detail.message ?? HTTPResponseStatus(statusCode: status).reasonPhrase
        let words = [detail.code, detail.type, detail.message].compactMap { $0?.lowercased() }.joined(separator: " ")
        if isQuota(words) || status == 402 { return (.quota, message) }
        switch status {
        case 401, 403: return (.auth, message)
        case 429: return (.rateLimited(retryAfter: retryAfter(headers)), message)
        case 408, 500...599: return (.transient, message)
        default:
            return (isModeration(words) ? .moderation : .invalidRequest, message)
        }
    }

    /// The category of a task that the provider reports as failed.
    static func classifyTaskFailure(code: String?, message: String?) -> APIErrorCategory {
        let words = [code, message].compactMap { $0?.lowercased() }.joined(separator: " ")
        if isModeration(words) { return .moderation }
        if isQuota(words) { return .quota }
        if words.contains("invalid") || words.contains("not_support") || words.contains("unsupported") {
            return .invalidRequest
        }
        // Generation failures without a recognisable cause are usually server-side; failed tasks are not billed.
        return .transient
    }

    static func isModeration(_ words: String) -> Bool {
        words.contains("sensitive") || words.contains("moderation") || words.contains("risk")
    }

    static func isQuota(_ words: String) -> Bool {
        words.contains("insufficient") || words.contains("balance") || words.contains("overdue")
            || words.contains("quota_exceeded") || words.contains("insufficient_quota")
    }

    /// `Retry-After` as seconds: either delta-seconds or an HTTP date.
    static func retryAfter(_ headers: HTTPHeaders) -> Double? {
        guard let value = headers.first(name: "Retry-After")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(value) { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return max(0, date.timeIntervalSinceNow)
    }
}

/// The error fields the gateways and Ark put in bodies: `{"error":{"code","message","type"}}`,
/// a top-level `message`/`msg`, or `error` as a plain string.
struct ErrorDetail: Decodable, Sendable {
    var code: String?
    var message: String?
    var type: String?

    init(code: String? = nil, message: String? = nil, type: String? = nil) {
        self.code = code
        self.message = message
        self.type = type
    }

    /// Whether the body is the API's own JSON error (rather than a proxy's page or nothing).
    static func isAPIError(_ body: ByteBuffer) -> Bool {
        guard let detail = try? JSONDecoder().decode(ErrorDetail.self, from: body) else { return false }
        return detail.code != nil || detail.message != nil || detail.type != nil
    }

    static func parse(_ body: ByteBuffer) -> ErrorDetail {
        if let detail = try? JSONDecoder().decode(ErrorDetail.self, from: body) { return detail }
        let text = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
        return ErrorDetail(message: text.isEmpty ? nil : String(text.prefix(300)))
    }

    enum Keys: String, CodingKey { case error, message, msg, code, type }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        if let nested = try? container.nestedContainer(keyedBy: Keys.self, forKey: .error) {
            code = FlexibleString.decode(nested, .code)
            message = FlexibleString.decode(nested, .message) ?? FlexibleString.decode(nested, .msg)
            type = FlexibleString.decode(nested, .type)
        } else {
            code = FlexibleString.decode(container, .code)
            message = FlexibleString.decode(container, .error)
            type = FlexibleString.decode(container, .type)
        }
        message = message ?? FlexibleString.decode(container, .message) ?? FlexibleString.decode(container, .msg)
    }
}

/// Decodes a value that should be a string but may arrive as a number (error codes often do).
enum FlexibleString {
    static func decode<K: CodingKey>(_ container: KeyedDecodingContainer<K>, _ key: K) -> String? {
        if let string = try? container.decode(String.self, forKey: key) { return string }
        if let int = try? container.decode(Int.self, forKey: key) { return String(int) }
        if let double = try? container.decode(Double.self, forKey: key) { return String(double) }
        return nil
    }

    static func decodeNumber<K: CodingKey>(_ container: KeyedDecodingContainer<K>, _ key: K) -> Double? {
        if let double = try? container.decode(Double.self, forKey: key) { return double }
        if let string = try? container.decode(String.self, forKey: key) {
            return Double(string.trimmingCharacters(in: CharacterSet(charactersIn: " %")))
        }
        return nil
    }
}
