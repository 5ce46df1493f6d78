import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The demo front end: the files of a folder (`Public/`), read once at start and served from
/// memory, `index.html` at `/`.
///
/// The broker serves it only in development mode, where it also mints test tokens, so the page
/// can sign in as any sandbox user. Every file is sent with a content security policy that
/// allows scripts, styles and calls from the broker's own origin only, and frames from the
/// broker and the widget's origin.
struct DemoSite: Sendable {
    /// Files by the URL path they answer, e.g. `/app.js`.
    let files: [String: CacheableAnswer]

    /// Reads every regular file directly in `directory` (subfolders and hidden files are left
    /// out). Throws when the folder cannot be read or holds no `index.html`.
    init(directory: String, widgetOrigins: [String]) throws {
        let folder = URL(fileURLWithPath: directory, isDirectory: true)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }.sorted()
        guard names.contains("index.html") else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: folder.appendingPathComponent("index.html").path])
        }
        let policy = Self.contentSecurityPolicy(widgetOrigins: widgetOrigins)
        var files: [String: CacheableAnswer] = [:]
        for name in names {
            let url = folder.appendingPathComponent(name)
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
            let headers: HTTPFields = [
                .contentType: Self.contentType(ofFileNamed: name), .cacheControl: "no-cache", .contentSecurityPolicy: policy,
                HTTPField.Name("X-Content-Type-Options")!: "nosniff", HTTPField.Name("Referrer-Policy")!: "strict-origin-when-cross-origin",
            ]
            let answer = CacheableAnswer(body: ByteBuffer(bytes: try Data(contentsOf: url)), headers: headers)
            files[name == "index.html" ? "/" : "/" + name] = answer
        }
        self.files = files
    }

    /// Adds a `GET` route for each file.
    func addRoutes(to router: Router<BrokerRequestContext>) {
        for (path, answer) in files {
            router.get(RouterPath(path)) { request, _ in answer.response(to: request) }
        }
    }

    /// The page may run only its own scripts and styles, call only the broker, and frame only
    /// the broker and the origins the Connect widget is served from.
    static func contentSecurityPolicy(widgetOrigins: [String]) -> String {
        let frames = (["'self'"] + widgetOrigins).joined(separator: " ")
        return [
            "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
            "frame-src \(frames)", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'", "object-src 'none'",
        ].joined(separator: "; ")
    }

    /// The origin (`scheme://host[:port]`) of an absolute URL, or nil.
    static func origin(of urlText: String) -> String? {
        guard let components = URLComponents(string: urlText), let scheme = components.scheme?.lowercased(), let host = components.host, !host.isEmpty
        else { return nil }
        return components.port.map { "\(scheme)://\(host):\($0)" } ?? "\(scheme)://\(host)"
    }

    /// The demo's content types: text with `charset=utf-8`, which Hummingbird's extension table
    /// leaves out, and the web manifest's, which it does not know.
    static func contentType(ofFileNamed name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "html": "text/html; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        case "json": "application/json"
        case "webmanifest": "application/manifest+json"
        case "txt": "text/plain; charset=utf-8"
        default: "application/octet-stream"
        }
    }
}
