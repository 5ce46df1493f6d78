import AsyncHTTPClient
import NIOCore

/// A file MX is sending (a statement's PDF): its length when MX gives one, and its bytes as
/// they arrive.
public struct MXDownload: Sendable {
    /// MX's content type for statements, in both API versions.
    public static let pdfContentType = "application/vnd.mx.api.v1+pdf"
    /// The bytes every PDF starts with.
    static let pdfMagic = Array("%PDF-".utf8)

    /// MX's `Content-Length`, when it sent one.
    public let contentLength: Int?
    public let body: Body

    /// The body: the bytes already read to check what it is, then the rest from the connection.
    /// It can be iterated once.
    public struct Body: AsyncSequence, Sendable {
        public typealias Element = ByteBuffer

        let prefix: ByteBuffer
        let rest: Rest

        public func makeAsyncIterator() -> Iterator { Iterator(prefix: prefix, rest: rest) }

        public struct Iterator: AsyncIteratorProtocol {
            var prefix: ByteBuffer?
            let rest: Rest

            public mutating func next() async throws -> ByteBuffer? {
                if let first = prefix {
                    prefix = nil
                    return first
                }
                return try await rest.next()
            }
        }
    }

    /// The connection's iterator, taken over from the check of the first bytes. A response body
    /// is written by one task, so the iterator is only ever advanced by one at a time.
    final class Rest: @unchecked Sendable {
        private var iterator: HTTPClientResponse.Body.AsyncIterator

        init(_ iterator: HTTPClientResponse.Body.AsyncIterator) {
            self.iterator = iterator
        }

        func next() async throws -> ByteBuffer? {
            try await iterator.next()
        }
    }
}
