// SPDX-License-Identifier: GPL-2.0-or-later
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SeedanceEmulator

/// A plain HTTP client for checking the emulator's wire format without the service's API clients.
struct RawClient: Sendable {
    let http: HTTPClient
    let baseURL: String
    var key: String? = "test-key-MARKER-emulator"

    struct Answer: Sendable {
        var status: Int
        var headers: [String: String]
        var body: Data
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:] }
        var data: [String: Any] { json["data"] as? [String: Any] ?? [:] }
        var errorParam: String? { (json["error"] as? [String: Any])?["param"] as? String }
    }

    func send(_ method: HTTPMethod, _ path: String, json: Any? = nil, body: Data? = nil, contentType: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: path.hasPrefix("http") ? path : baseURL + path)
        request.method = method
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        } else if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        }
        let response = try await http.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        return Answer(status: Int(response.status.code), headers: headers, body: Data(bytes.readableBytesView))
    }

    /// A multipart body with one field.
    static func multipart(field: String = "file", fileName: String = "a.png", bytes: Data) -> (Data, String) {
        let boundary = "test-boundary-1234"
        var body = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n".utf8)
        body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field)\"; filename=\"\(fileName)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        body += bytes
        body += Data("\r\n--\(boundary)--\r\n".utf8)
        return (body, "multipart/form-data; boundary=\(boundary)")
    }

    static let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 7, count: 100))

    /// Runs `body` with an emulator on a free port (immediate tasks unless adjusted) and a raw client.
    static func with<T: Sendable>(
        _ adjust: (inout EmulatorConfiguration) -> Void = { _ in }, _ body: (SeedanceEmulator, RawClient) async throws -> T
    ) async throws -> T {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.apiKey = "test-key-MARKER-emulator"
        configuration.queueSeconds = 0
        configuration.runSeconds = 0
        configuration.videoSource = .bundled
        adjust(&configuration)
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let result = try await SeedanceEmulator.withRunning(configuration) { emulator in
                try await body(emulator, RawClient(http: http, baseURL: emulator.baseURL))
            }
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}
