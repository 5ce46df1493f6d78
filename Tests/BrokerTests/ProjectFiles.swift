import Foundation

/// Files of this repository and of the build the tests run from.
enum ProjectFiles {
    /// The repository's root folder.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A file or folder under the root, by its path there (`README.md`, `Sources/Broker`).
    static func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    /// The text of a file under the root.
    static func text(_ path: String) throws -> String { try String(contentsOf: url(path), encoding: .utf8) }

    /// The folder of the build that made this test binary (debug, release, any triple or
    /// scratch path): SwiftPM puts the products of one build side by side.
    static var buildProducts: URL {
        #if os(Linux)
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        #else
        (Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") } ?? Bundle.main).bundleURL.deletingLastPathComponent()
        #endif
    }
}
