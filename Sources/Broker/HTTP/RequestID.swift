import Foundation
import HTTPTypes

/// Request ids, echoed as `X-Request-Id` and put in every error and log line of a request.
enum RequestID {
    /// A client-sent id is kept when it is short and plain (letters, digits, `-`, `_`, `.`).
    static func usable(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.utf8.count <= 128,
            value.utf8.allSatisfy({
                $0 < 128 && (Character(UnicodeScalar($0)).isLetter || Character(UnicodeScalar($0)).isNumber || $0 == 45 || $0 == 95 || $0 == 46)
            })
        else { return nil }
        return value
    }

    static func new() -> String {
        UUID().uuidString.lowercased()
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
}
