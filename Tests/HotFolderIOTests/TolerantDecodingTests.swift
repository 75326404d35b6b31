// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import NIOCore
import NIOHTTP1
import Testing

@testable import HotFolderIO

/// Recorded and plausible variants of the providers' answers.
@Suite struct TolerantDecodingTests {
    private func gatewayStatus(_ json: String) throws -> RemoteTaskStatus {
        let info = try JSONDecoder().decode(GatewayResponses.TaskInfo.self, from: Data(json.utf8))
        return try TaskStatusWord.status(
            word: info.status, progress: info.progress, videoURL: info.videoURL, expiresAt: info.expiresAt, error: info.error)
    }

    @Test func videoURLAsArrayOrString() throws {
        let array = #"{"code":200,"data":{"id":"task_01K8SGYNNNVBQTXNR4MM964S7K","status":"completed","progress":100,"result":{"videos":[{"url":["https://cdn/x.mp4"],"expires_at":1743436800}]},"extra":{"a":1}}}"#
        #expect(try gatewayStatus(array) == .succeeded(videoURL: "https://cdn/x.mp4", expiresAt: Date(timeIntervalSince1970: 1_743_436_800)))
        let string = #"{"code":200,"data":{"id":"t","status":"success","result":{"videos":[{"url":"https://cdn/y.mp4"}]}}}"#
        #expect(try gatewayStatus(string) == .succeeded(videoURL: "https://cdn/y.mp4", expiresAt: nil))
        let flat = #"{"code":"200","data":{"status":"SUCCEEDED","result":{"video_url":"https://cdn/z.mp4","expires_at":"1743436800000"}}}"#
        #expect(try gatewayStatus(flat) == .succeeded(videoURL: "https://cdn/z.mp4", expiresAt: Date(timeIntervalSince1970: 1_743_436_800)))
    }

    @Test func statusSynonyms() throws {
        for word in ["submitted", "pending", "queued"] {
            #expect(try gatewayStatus(#"{"data":{"status":"\#(word)"}}"#) == .queued)
        }
        #expect(try gatewayStatus(#"{"data":{"status":"processing","progress":"42%"}}"#) == .running(progress: 42))
        #expect(try gatewayStatus(#"{"data":{"status":"running","progress":12.6}}"#) == .running(progress: 13))
        #expect(try gatewayStatus(#"{"data":{"status":"in_progress"}}"#) == .running(progress: nil))
        #expect(try gatewayStatus(#"{"data":{"status":"canceled"}}"#) == .cancelled)
        #expect(try gatewayStatus(#"{"data":{"status":"expired"}}"#) == .expired)
    }

    @Test func successWithoutVideoIsAnError() {
        #expect(throws: VideoAPIError.self) { try gatewayStatus(#"{"code":200,"data":{"status":"completed","result":{}}}"#) }
        #expect(throws: VideoAPIError.self) { try gatewayStatus(#"{"code":200,"data":{"status":"completed","result":{"videos":[{"url":[]}]}}}"#) }
        #expect(throws: VideoAPIError.self) { try gatewayStatus(#"{"code":200,"data":{"status":"teleporting"}}"#) }
    }

    @Test func failures() throws {
        let moderated = #"{"data":{"status":"failed","error":{"code":"InputImageSensitiveContentDetected","message":"may contain sensitive information","type":"x"}}}"#
        guard case .failed(.moderation, let message) = try gatewayStatus(moderated) else {
            Issue.record("expected moderation")
            return
        }
        #expect(message.contains("InputImageSensitiveContentDetected"))
        guard case .failed(.transient, _) = try gatewayStatus(#"{"data":{"status":"error","error":"upstream exploded"}}"#) else {
            Issue.record("expected transient")
            return
        }
        guard case .failed(.invalidRequest, _) = try gatewayStatus(#"{"data":{"status":"failed","error":{"code":"model_not_support_first_last_frame"}}}"#) else {
            Issue.record("expected invalid request")
            return
        }
    }

    @Test func createVariants() throws {
        func id(_ json: String) throws -> String? { try JSONDecoder().decode(GatewayResponses.Created.self, from: Data(json.utf8)).taskID }
        #expect(try id(#"{"code":200,"data":[{"status":"submitted","task_id":"task_A"}]}"#) == "task_A")
        #expect(try id(#"{"code":200,"data":{"id":"task_B","status":"submitted"}}"#) == "task_B")
        #expect(try id(#"{"task_id":"task_C"}"#) == "task_C")
        #expect(try id(#"{"code":200,"data":[]}"#) == nil)
    }

    @Test func arkTask() throws {
        let json = #"{"id":"cgt-1","model":"m","status":"succeeded","error":null,"created_at":1,"updated_at":1743436800,"content":{"video_url":"https://ark/v.mp4","last_frame_url":"x"},"usage":{"completion_tokens":5}}"#
        let info = try JSONDecoder().decode(ArkTaskInfo.self, from: Data(json.utf8))
        #expect(info.videoURL == "https://ark/v.mp4" && info.error == nil && info.status == "succeeded")
        let failed = try JSONDecoder().decode(ArkTaskInfo.self, from: Data(#"{"id":"cgt-2","status":"failed","error":{"code":"OutputVideoSensitiveContentDetected","message":"m"}}"#.utf8))
        #expect(failed.error?.code == "OutputVideoSensitiveContentDetected")
    }

    @Test func errorBodies() {
        func classify(_ status: Int, _ body: String, retryAfter: String? = nil) -> APIErrorCategory {
            var headers = HTTPHeaders()
            if let retryAfter { headers.add(name: "Retry-After", value: retryAfter) }
            return ErrorClassifier.classify(status: status, headers: headers, body: ByteBuffer(string: body)).0
        }
        #expect(classify(429, #"{"error":{"message":"slow down"}}"#, retryAfter: "3") == .rateLimited(retryAfter: 3))
        #expect(classify(429, #"{"error":{"code":"insufficient_quota","message":"You exceeded your current quota"}}"#) == .quota)
        #expect(classify(403, #"{"error":{"code":"AccountOverdueError","message":"overdue"}}"#) == .quota)
        #expect(classify(403, #"{"error":{"code":"Forbidden","message":"no"}}"#) == .auth)
        #expect(classify(400, #"{"message":"The prompt contains sensitive words"}"#) == .moderation)
        #expect(classify(422, "not json at all") == .invalidRequest)
        #expect(classify(504, "") == .transient)
        #expect(classify(408, "") == .transient)
        let (_, message) = ErrorClassifier.classify(status: 400, headers: [:], body: ByteBuffer(string: #"{"error":{"code":1001,"msg":"bad duration"}}"#))
        #expect(message == "bad duration")
    }

    @Test func retryAfterAsHTTPDate() {
        var headers = HTTPHeaders()
        headers.add(name: "Retry-After", value: "Wed, 21 Oct 2015 07:28:00 GMT")
        #expect(ErrorClassifier.retryAfter(headers) == 0)
    }
}
