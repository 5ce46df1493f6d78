import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// A body with its strong `ETag`, answered as 304 when the client already has it and gzipped
/// when the client accepts that and the body is large enough to gain from it.
final class CacheableAnswer: Sendable {
    let body: ByteBuffer
    let etag: String
    let madeAt: ContinuousClock.Instant
    /// Headers sent with every answer, besides `ETag`, `Vary` and `Content-Encoding`.
    private let headers: HTTPFields
    private let gzipped = Mutex<ByteBuffer?>(nil)

    /// The headers of a read: JSON, private to the caller, revalidated before reuse.
    static let readHeaders = JSONAnswer.headers(.revalidate)

    /// Bodies smaller than this are sent as they are.
    static let compressionThreshold = 1024

    init(body: ByteBuffer, headers: HTTPFields = CacheableAnswer.readHeaders, madeAt: ContinuousClock.Instant = .now) {
        self.body = body
        self.headers = headers
        self.madeAt = madeAt
        self.etag = "\"" + BodyFingerprint.hex(of: body) + "\""
    }

    /// Bytes this answer may hold: its body, and a compressed form no larger than the body.
    var size: Int { body.readableBytes * 2 }

    /// The response to `request`: 304, gzip or plain, with `ETag` and `Vary: Accept-Encoding`.
    func response(to request: Request) -> Response {
        reply(to: request).response
    }

    /// The response to `request`, with the bytes its body holds (none for a 304).
    func reply(to request: Request) -> (response: Response, body: ByteBuffer?) {
        var headers = self.headers
        headers[.eTag] = etag
        headers[.vary] = "Accept-Encoding"
        if Self.matches(request.headers[values: .ifNoneMatch], etag: etag) {
            return (Response(status: .notModified, headers: headers), nil)
        }
        var body = self.body
        if body.readableBytes >= Self.compressionThreshold, Self.acceptsGzip(request.headers[values: .acceptEncoding]), let compressed = gzip() {
            headers[.contentEncoding] = "gzip"
            body = compressed
        }
        return (Response(status: .ok, headers: headers, body: .init(byteBuffer: body)), body)
    }

    /// The body in gzip, compressed once and kept.
    private func gzip() -> ByteBuffer? {
        if let done = gzipped.withLock({ $0 }) { return done }
        guard let made = try? Gzip.compress(body) else { return nil }
        gzipped.withLock { $0 = made }
        return made
    }

    /// Whether an `If-None-Match` list names `etag` (weak comparison, as RFC 9110 asks for GET).
    static func matches(_ values: [String], etag: String) -> Bool {
        for value in values {
            for candidate in value.split(separator: ",") {
                var tag = String(candidate.trimmingOptionalWhitespace)
                if tag == "*" { return true }
                if tag.hasPrefix("W/") { tag.removeFirst(2) }
                if tag == etag { return true }
            }
        }
        return false
    }

    /// Whether `Accept-Encoding` allows gzip (by name or `*`, with a non-zero weight).
    static func acceptsGzip(_ values: [String]) -> Bool {
        for value in values {
            for item in value.split(separator: ",") {
                let parts = item.split(separator: ";").map { $0.trimmingOptionalWhitespace.lowercased() }
                guard let coding = parts.first, coding == "gzip" || coding == "x-gzip" || coding == "*" else { continue }
                let weight = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
                if weight > 0 { return true }
            }
        }
        return false
    }
}
