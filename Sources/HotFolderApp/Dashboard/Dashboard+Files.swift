// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Hummingbird

/// Videos, posters and input images, served only where the database names them: the request gives a job id and
/// which of its files, never a path. Videos answer range requests (a `<video>` seeks with them).
extension Dashboard {
    func addFileRoutes(_ router: Router<BasicRequestContext>) {
        router.get(path("/files/jobs/:id/video")) { request, requestContext in
            try await file(request, requestContext, kind: .video)
        }
        router.get(path("/files/jobs/:id/poster")) { request, requestContext in
            try await file(request, requestContext, kind: .poster)
        }
        router.get(path("/files/jobs/:id/inputs/:index")) { request, requestContext in
            try await file(request, requestContext, kind: .input(requestContext.parameters.get("index", as: Int.self) ?? -1))
        }
    }

    enum FileKind {
        case video, poster
        case input(Int)
    }

    func file(_ request: Request, _ requestContext: BasicRequestContext, kind: FileKind) async throws -> Response {
        let located: (path: String, type: String)?
        do {
            located = try await locate(try jobID(requestContext), kind)
        } catch {
            return Self.errorResponse(error)
        }
        guard let (path, type) = located, let stat = FileSystemProbe.lstat(path), stat.kind == .regular else {
            return DashboardResponses.error(.notFound, "This job has no such file (yet).")
        }
        let size = Int(stat.size)
        var headers: HTTPFields = [.contentType: type, .acceptRanges: "bytes", .cacheControl: "private, max-age=60"]
        guard size > 0 else { return Response(status: .ok, headers: headers) }
        var range = 0...(size - 1)
        var status = HTTPResponse.Status.ok
        if let header = request.headers[.range] {
            guard let requested = Self.byteRange(header, size: size) else {
                headers[.contentRange] = "bytes */\(size)"
                return Response(status: .rangeNotSatisfiable, headers: headers)
            }
            range = requested
            status = .partialContent
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
        }
        headers[.contentLength] = String(range.count)
        let body = try await FileIO().loadFile(path: path, range: range, context: requestContext)
        return Response(status: status, headers: headers, body: body)
    }

    /// The file's path and content type, from the database only; nil when the job has no such file.
    func locate(_ id: UUID, _ kind: FileKind) async throws -> (String, String)? {
        guard let job = try await store.job(id: id) else { return nil }
        switch kind {
        case .video:
            guard job.state == .done, let output = job.outputPath else { return nil }
            return (output + ".mp4", "video/mp4")
        case .poster:
            guard job.state == .done, let output = job.outputPath else { return nil }
            return (output + ".jpg", "image/jpeg")
        case .input(let index):
            let inputs = try await store.inputFiles(ofJob: id)
            guard inputs.indices.contains(index) else { return nil }
            let destinations = try await store.inputMoves(ofJob: id)
            return inputImage(job, inputs[index], movedTo: destinations.indices.contains(index) ? destinations[index] : nil)
        }
    }

    /// An input image's path now and its content type, from the database: where the archive or a failed folder
    /// put it when that was recorded, else the inbox (or, for a job that failed before v5 recorded it, its failed
    /// folder); nil when it is not an image or not there.
    func inputImage(_ job: StoredJob, _ input: StoredInput, movedTo: String?) -> (String, String)? {
        let path = input.path
        guard Self.isImage(path) else { return nil }
        let ext = (path as NSString).pathExtension.lowercased()
        let type = ext == "jpg" || ext == "jpeg" ? "image/jpeg" : "image/\(ext)"
        var candidates: [String] = []
        if let movedTo {
            candidates = [movedTo]
        } else {
            candidates = [path.hasPrefix("/") ? path : context.inbox + "/" + path]
            if let output = job.outputPath { candidates.append(output + "/" + (path as NSString).lastPathComponent) }
        }
        return candidates.first { FileSystemProbe.lstat($0)?.kind == .regular }.map { ($0, type) }
    }

    /// `bytes=A-B`, `bytes=A-` or `bytes=-N` within a file of `size` bytes; nil when not satisfiable.
    static func byteRange(_ header: String, size: Int) -> ClosedRange<Int>? {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst(6).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard spec.count == 2 else { return nil }
        let (first, last) = (Int(spec[0].trimmingCharacters(in: .whitespaces)), Int(spec[1].trimmingCharacters(in: .whitespaces)))
        switch (first, last) {
        case (let start?, let end?) where start <= end && start < size: return start...min(end, size - 1)
        case (let start?, nil) where start < size && spec[1].isEmpty: return start...(size - 1)
        case (nil, let count?) where spec[0].isEmpty && count > 0: return max(0, size - count)...(size - 1)
        default: return nil
        }
    }
}
