// SPDX-License-Identifier: GPL-2.0-or-later
import AsyncHTTPClient
import Foundation
import HotFolderCore
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix

/// The plumbing both API clients share: auth header, timeouts, size limits, error mapping, logging.
struct HTTPTransport: Sendable {
    let client: HTTPClient
    let configuration: VideoAPIConfiguration
    let logger: Logger
    let provider: String

    /// A successful answer: status, headers and the body read within the limit.
    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    /// Sends a request and reads the whole answer; throws ``VideoAPIError`` for any failure or non-2xx status.
    func send(
        _ operation: VideoAPIOperation, method: HTTPMethod, path: String,
        json: Data? = nil, body: HTTPClientRequest.Body? = nil, contentType: String? = nil,
        timeout: Double? = nil
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: configuration.baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: configuration.apiKey.bearerHeader)
        request.headers.add(name: "Accept", value: "application/json")
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: json))
        } else if let body {
            request.body = body
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        }
        let seconds = timeout ?? configuration.requestTimeout
        let started = ContinuousClock.now
        do {
            let answer = try await withTimeout(seconds) { [client, configuration, request] in
                let response = try await client.execute(request, timeout: .milliseconds(Int64(seconds * 1000)))
                let bytes = try await response.body.collect(upTo: configuration.maxResponseBytes)
                return Answer(status: Int(response.status.code), headers: response.headers, body: bytes)
            }
            log(operation, method, path, status: answer.status, started: started)
            guard (200..<300).contains(answer.status) else {
                // A create call answered by a 5xx that is not the API's own "unavailable, try later" may have
                // made a task: a proxy's 502/504 page, a 500 after the work began.
                if operation == .create, answer.status >= 500,
                    !(answer.status == 503 && ErrorDetail.isAPIError(answer.body))
                {
                    let detail = ErrorDetail.isAPIError(answer.body) ? (ErrorDetail.parse(answer.body).message ?? "") : "not the API's own answer"
                    throw VideoAPIError.answerLost(
                        operation: operation, status: answer.status, reason: configuration.apiKey.redact(detail))
                }
                let (category, message) = ErrorClassifier.classify(
                    status: answer.status, headers: answer.headers, body: answer.body)
                throw VideoAPIError.rejected(
                    operation: operation, status: answer.status, category: category,
                    message: configuration.apiKey.redact(message))
            }
            return answer
        } catch {
            let mapped = map(error, operation, seconds: seconds)
            logger.warning(
                "\(provider) API call failed",
                metadata: ["operation": "\(operation.rawValue)", "path": "\(path)", "error": "\(mapped)"])
            throw mapped
        }
    }

    /// Turns any error thrown by AsyncHTTPClient or NIO into a ``VideoAPIError`` with a redacted reason.
    func map(_ error: any Error, _ operation: VideoAPIOperation, seconds: Double) -> VideoAPIError {
        switch error {
        case let error as VideoAPIError:
            return error
        case is TimeoutError:
            return .timedOut(operation: operation, seconds: seconds)
        case is NIOTooManyBytesError:
            return .responseTooLarge(operation: operation, limit: configuration.maxResponseBytes)
        case let error as HTTPClientError where error == .connectTimeout:
            return .notSent(operation: operation, reason: "the connection could not be opened in time")
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout:
            return .timedOut(operation: operation, seconds: seconds)
        case let error where Self.neverConnected(error):
            return .notSent(operation: operation, reason: configuration.apiKey.redact(String(describing: error)))
        default:
            return .connectionFailed(operation: operation, reason: configuration.apiKey.redact(String(describing: error)))
        }
    }

    /// Whether the error happened while connecting, before any byte of the request was sent.
    static func neverConnected(_ error: any Error) -> Bool {
        if error is NIOConnectionError { return true }
        if let error = error as? IOError {
            return [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL].contains(error.errnoCode)
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return true }
        return false
    }

    private func log(_ operation: VideoAPIOperation, _ method: HTTPMethod, _ path: String, status: Int, started: ContinuousClock.Instant) {
        let elapsed = (ContinuousClock.now - started).components
        let milliseconds = elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000
        logger.debug(
            "\(provider) API \(method.rawValue) \(path) -> \(status)",
            metadata: ["operation": "\(operation.rawValue)", "ms": "\(milliseconds)"])
    }
}

/// Thrown by ``withTimeout(_:_:)`` when the operation took too long.
struct TimeoutError: Error {}

/// Runs `operation`, cancelling it and throwing ``TimeoutError`` after `seconds`.
///
/// AsyncHTTPClient's deadline ends when the response head arrives; this also bounds reading the body.
func withTimeout<T: Sendable>(_ seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw TimeoutError() }
        return value
    }
}
