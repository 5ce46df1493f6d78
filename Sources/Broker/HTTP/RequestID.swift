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

    /// A random (version 4) UUID in lowercase, written without Foundation's formatter, which
    /// goes through `printf` on every request.
    static func new() -> String {
        var random = SystemRandomNumberGenerator()
        let high = (random.next() as UInt64) & 0xFFFF_FFFF_FFFF_0FFF | 0x0000_0000_0000_4000
        let low = (random.next() as UInt64) & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 36) { text in
            var position = 0
            for nibble in 0..<32 {
                if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 {
                    text[position] = UInt8(ascii: "-")
                    position += 1
                }
                let word = nibble < 16 ? high : low
                text[position] = Hex.digits[Int(truncatingIfNeeded: word >> UInt64(60 - 4 * (nibble % 16))) & 0xF]
                position += 1
            }
            return position
        }
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
}
