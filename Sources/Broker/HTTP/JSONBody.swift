import BrokerCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Reads a request's JSON body within a size limit, with the broker's errors for each failure.
enum JSONBody {
    /// The parsed body: 415 unless the content type is JSON, 413 past `limit` bytes, 400 when
    /// empty or malformed.
    static func read(_ request: Request, limit: Int) async throws -> JSONValue {
        try await readWithBytes(request, limit: limit).value
    }

    /// The parsed body together with the bytes it was parsed from.
    static func readWithBytes(_ request: Request, limit: Int) async throws -> (value: JSONValue, bytes: ByteBuffer) {
        guard let contentType = request.headers[.contentType], isJSON(contentType) else {
            throw BrokerError(.unsupportedMediaType, .unsupportedMediaType, "Send the body as JSON (Content-Type: application/json).")
        }
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw tooLarge(limit)
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw tooLarge(limit)
        }
        guard buffer.readableBytes > 0 else {
            throw BrokerError.badRequest(.emptyBody, "The request body is empty.")
        }
        guard let body = JSONValue.parse(buffer) else {
            throw BrokerError.badRequest(.malformedJSON, "The request body is not valid JSON.")
        }
        return (body, buffer)
    }

    /// `application/json`, or any `application/…+json`, with optional parameters.
    static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first?.trimmingOptionalWhitespace.lowercased() ?? ""
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }

    private static func tooLarge(_ limit: Int) -> BrokerError {
        BrokerError(.contentTooLarge, .bodyTooLarge, "The request body is larger than \(limit) bytes.")
    }
}
