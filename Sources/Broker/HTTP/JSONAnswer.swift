import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// The broker's own JSON shapes as text: keys sorted, slashes unescaped. MX's bodies are never
/// re-encoded; they pass through as MX sent them.
enum BrokerJSON {
    static func data(of value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    static func text(of value: some Encodable) -> String {
        String(decoding: data(of: value), as: UTF8.self)
    }
}

/// The one way a JSON answer is made: its media type, its status and how long a client may
/// keep it. Every controller answers through it; reads go through ``CacheableAnswer`` for
/// their `ETag`, 304 and gzip.
enum JSONAnswer {
    /// How long a client or a cache between may keep an answer.
    enum Caching: Sendable {
        /// Kept only by the caller, and revalidated before each reuse (`private, no-cache`):
        /// reads of the caller's data.
        case revalidate
        /// Never stored (`no-store`): widget URLs, tokens, errors and answers to actions.
        case never

        var header: String {
            switch self {
            case .revalidate: "private, no-cache"
            case .never: "no-store"
            }
        }
    }

    static let mediaType = MediaType.applicationJson.description

    /// The headers of a JSON answer kept as `caching` says.
    static func headers(_ caching: Caching) -> HTTPFields {
        [.contentType: mediaType, .cacheControl: caching.header]
    }

    /// `value` in the broker's own shape.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, caching: Caching) -> Response {
        response(body: ByteBuffer(data: BrokerJSON.data(of: value)), status: status, caching: caching)
    }

    /// A body that is JSON already (MX's, passed through).
    static func response(body: ByteBuffer, status: HTTPResponse.Status = .ok, caching: Caching) -> Response {
        Response(status: status, headers: headers(caching), body: .init(byteBuffer: body))
    }

    /// A read of `value`: with `ETag` (304 on `If-None-Match`) and gzip when accepted.
    static func read(_ value: some Encodable, to request: Request) -> Response {
        read(body: ByteBuffer(data: BrokerJSON.data(of: value)), to: request)
    }

    /// A read of a body that is JSON already.
    static func read(body: ByteBuffer, to request: Request) -> Response {
        CacheableAnswer(body: body).response(to: request)
    }
}
