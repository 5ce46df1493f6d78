import CompressNIO
import NIOCore

/// gzip compression of response bodies (zlib).
enum Gzip {
    /// `buffer`'s readable bytes in gzip format, at a level that favours speed.
    static func compress(_ buffer: ByteBuffer) throws -> ByteBuffer {
        var input = buffer
        return try input.compress(with: .gzip(configuration: .init(compressionLevel: .compressionLevel4)))
    }
}
