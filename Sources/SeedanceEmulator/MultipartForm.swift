// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Just enough multipart/form-data parsing to find one file field, using `memchr` so a 20 MB body is cheap.
enum MultipartForm {
    /// A file field's name and byte range within the body.
    struct FilePart {
        var fileName: String?
        var range: Range<Int>
    }

    /// The boundary parameter of a `multipart/form-data` content type.
    static func boundary(contentType: String) -> String? {
        guard contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \t\"")) }
            if pair.count == 2, pair[0].lowercased() == "boundary", !pair[1].isEmpty { return pair[1] }
        }
        return nil
    }

    /// The part named `field` in `body`, or nil when there is none.
    static func filePart(named field: String, in body: [UInt8], boundary: String) -> FilePart? {
        let delimiter = Array("--\(boundary)".utf8)
        let nextDelimiter = Array("\r\n--\(boundary)".utf8)
        let headerEnd = Array("\r\n\r\n".utf8)
        var position = find(delimiter, in: body, from: 0)
        while let start = position {
            let headersStart = start + delimiter.count
            guard let headersEnd = find(headerEnd, in: body, from: headersStart) else { return nil }
            let headers = String(decoding: body[headersStart..<headersEnd], as: UTF8.self)
            let dataStart = headersEnd + headerEnd.count
            guard let dataEnd = find(nextDelimiter, in: body, from: dataStart) else { return nil }
            if let disposition = headers.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-disposition") }),
                parameter("name", in: String(disposition)) == field
            {
                return FilePart(fileName: parameter("filename", in: String(disposition)), range: dataStart..<dataEnd)
            }
            position = dataEnd + 2
        }
        return nil
    }

    private static func parameter(_ name: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \t\"")) }
            if pair.count == 2, pair[0].lowercased() == name { return pair[1] }
        }
        return nil
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from offset: Int) -> Int? {
        guard offset < haystack.count else { return nil }
        return haystack.withUnsafeBytes { hay in
            needle.withUnsafeBytes { pin in
                // memchr finds candidates for the first byte at C speed; memcmp confirms them.
                let base = hay.baseAddress!
                let first = Int32(needle[0])
                var start = offset
                while hay.count - start >= needle.count {
                    guard let hit = memchr(base + start, first, hay.count - start - needle.count + 1) else { return nil }
                    let index = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(hit, pin.baseAddress!, needle.count) == 0 { return index }
                    start = index + 1
                }
                return nil
            }
        }
    }
}
