import Foundation

/// A random secret generated once and kept in a file only the broker's user can read.
///
/// Used for development conveniences (the sandbox's token secret) and as the fallback key of MX
/// user ids when none is configured.
public enum LocalSecret {
    /// The secret in `file` under `directory`, created (64 hex digits) when missing.
    public static func loadOrCreate(_ file: String, in directory: String) throws -> String {
        let path = (directory as NSString).appendingPathComponent(file)
        if let existing = try? String(contentsOfFile: path, encoding: .utf8) {
            let trimmed = existing.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.utf8.count >= 32 { return trimmed }
        }
        try DataDirectory.prepare(directory)
        var generator = SystemRandomNumberGenerator()
        let secret = Hex.string((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        guard FileManager.default.createFile(atPath: path, contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError("Cannot write \(path): is DATA_DIR writable?")
        }
        return secret
    }

    /// The file holding the development token secret of sandbox mode.
    public static let developmentTokenSecretFile = "dev-jwt-secret"
    /// The file holding the generated key of MX user ids.
    public static let userIDSecretFile = "user-id-secret"
}

/// The broker's data folder (`DATA_DIR`): the SQLite file and generated secrets.
public enum DataDirectory {
    /// Creates the folder when it is missing, readable by the broker's user only (0700); an
    /// existing folder is left as its owner set it.
    public static func prepare(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
    }
}
