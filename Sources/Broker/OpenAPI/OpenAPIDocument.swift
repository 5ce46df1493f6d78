import NIOCore

/// The broker's own API, described in OpenAPI 3.0 (`openapi.yaml` beside this file, embedded in
/// the binary) and served at `GET /openapi.yaml`.
///
/// Tests keep it true: every route the broker registers is described, every operation described
/// is registered, and its error codes are ``ErrorCode``'s.
enum OpenAPIDocument {
    /// The document's bytes, as the file holds them.
    static let yaml = ByteBuffer(bytes: PackageResources.openapi_yaml)
}
