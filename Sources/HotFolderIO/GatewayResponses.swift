// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// Tolerant decodings of the gateway's answers (`spec/seedance-api.md` §3–4): unknown fields are ignored,
/// `data` may be an array or an object, `url` a string or an array, numbers may arrive as strings.
enum GatewayResponses {
    enum Keys: String, CodingKey {
        case code, data, taskID = "task_id", id, status, progress, result, error, videos, url
        case videoURL = "video_url", expiresAt = "expires_at", estimatedTime = "estimated_time", filename
    }

    /// `{"code":200,"data":[{"status":"submitted","task_id":"task_…"}]}` (or `data` as one object).
    struct Created: Decodable, Sendable {
        var code: Int?
        var taskID: String?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            code = FlexibleString.decode(container, .code).flatMap { Int(Double($0) ?? -1) }
            if var list = try? container.nestedUnkeyedContainer(forKey: .data), !list.isAtEnd {
                let first = try list.nestedContainer(keyedBy: Keys.self)
                taskID = FlexibleString.decode(first, .taskID) ?? FlexibleString.decode(first, .id)
            } else if let object = try? container.nestedContainer(keyedBy: Keys.self, forKey: .data) {
                taskID = FlexibleString.decode(object, .taskID) ?? FlexibleString.decode(object, .id)
            } else {
                taskID = FlexibleString.decode(container, .taskID) ?? FlexibleString.decode(container, .id)
            }
        }
    }

    /// `{"code":200,"data":{"id","status","progress","result":{"videos":[{"url":[…],"expires_at":…}]},…}}`.
    struct TaskInfo: Decodable, Sendable {
        var code: Int?
        var id: String?
        var status: String?
        var progress: Double?
        var estimatedTime: Double?
        var videoURL: String?
        var expiresAt: Date?
        var error: ErrorDetail?

        init(from decoder: any Decoder) throws {
            let outer = try decoder.container(keyedBy: Keys.self)
            code = FlexibleString.decode(outer, .code).flatMap { Int(Double($0) ?? -1) }
            let data = (try? outer.nestedContainer(keyedBy: Keys.self, forKey: .data)) ?? outer
            id = FlexibleString.decode(data, .id) ?? FlexibleString.decode(data, .taskID)
            status = FlexibleString.decode(data, .status)
            progress = FlexibleString.decodeNumber(data, .progress)
            estimatedTime = FlexibleString.decodeNumber(data, .estimatedTime)
            if let detail = try? data.decode(ErrorDetail.self, forKey: .error), detail.message != nil || detail.code != nil {
                error = detail
            } else if let text = FlexibleString.decode(data, .error) {
                error = ErrorDetail(message: text)
            }
            if let result = try? data.nestedContainer(keyedBy: Keys.self, forKey: .result) {
                if var videos = try? result.nestedUnkeyedContainer(forKey: .videos), !videos.isAtEnd,
                    let video = try? videos.nestedContainer(keyedBy: Keys.self)
                {
                    videoURL = (try? video.decode(URLList.self, forKey: .url))?.urls.first
                    expiresAt = FlexibleDate.decode(video, .expiresAt)
                }
                videoURL = videoURL ?? (try? result.decode(URLList.self, forKey: .videoURL))?.urls.first
                videoURL = videoURL ?? (try? result.decode(URLList.self, forKey: .url))?.urls.first
                expiresAt = expiresAt ?? FlexibleDate.decode(result, .expiresAt)
            }
            videoURL = videoURL ?? (try? data.decode(URLList.self, forKey: .videoURL))?.urls.first
        }
    }

    /// `{"url","filename","content_type","bytes","created_at"}`, possibly inside `{"code":200,"data":{…}}`.
    struct Uploaded: Decodable, Sendable {
        var url: String?
        var expiresAt: Date?

        init(from decoder: any Decoder) throws {
            let outer = try decoder.container(keyedBy: Keys.self)
            let data = (try? outer.nestedContainer(keyedBy: Keys.self, forKey: .data)) ?? outer
            url = (try? data.decode(URLList.self, forKey: .url))?.urls.first
            expiresAt = FlexibleDate.decode(data, .expiresAt)
        }
    }
}
