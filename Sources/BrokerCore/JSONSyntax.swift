import NIOCore

/// Checks that bytes are one JSON text (RFC 8259, any value at the top level) in one pass,
/// without building anything from them.
///
/// Strings must be valid UTF-8 with valid escapes; nesting deeper than ``maximumDepth`` is
/// refused rather than followed.
public enum JSONSyntax {
    /// The deepest nesting of arrays and objects that is accepted.
    public static let maximumDepth = 512

    /// Whether `buffer`'s readable bytes are one JSON text.
    public static func isValid(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { isValid($0) }
    }

    /// Whether `bytes` are one JSON text.
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var scanner = JSONScanner(bytes: bytes)
        scanner.skipWhitespace()
        guard scanner.value(depth: 0) else { return false }
        scanner.skipWhitespace()
        return scanner.index == bytes.count
    }
}

/// A cursor over the bytes; each method consumes one grammar element and says whether it was one.
struct JSONScanner {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    @inline(__always)
    mutating func skipWhitespace() {
        while index < bytes.count, bytes[index] <= 0x20 {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) -> Bool {
        guard let byte = current else { return false }
        switch byte {
        case UInt8(ascii: "{"): return depth < JSONSyntax.maximumDepth && object(depth: depth + 1)
        case UInt8(ascii: "["): return depth < JSONSyntax.maximumDepth && array(depth: depth + 1)
        case UInt8(ascii: "\""): return string()
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
        default: return false
        }
    }

    private mutating func object(depth: Int) -> Bool {
        elements(closedBy: UInt8(ascii: "}")) { scanner in
            guard scanner.current == UInt8(ascii: "\""), scanner.string() else { return false }
            scanner.skipWhitespace()
            guard scanner.current == UInt8(ascii: ":") else { return false }
            scanner.index += 1
            scanner.skipWhitespace()
            return scanner.value(depth: depth)
        }
    }

    private mutating func array(depth: Int) -> Bool {
        elements(closedBy: UInt8(ascii: "]")) { $0.value(depth: depth) }
    }

    /// A comma-separated list after its opening bracket, up to and including `closing`.
    @inline(__always)
    mutating func elements(closedBy closing: UInt8, _ element: (inout JSONScanner) -> Bool) -> Bool {
        index += 1
        skipWhitespace()
        if current == closing {
            index += 1
            return true
        }
        while true {
            guard element(&self) else { return false }
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                index += 1
                skipWhitespace()
            } else if current == closing {
                index += 1
                return true
            } else {
                return false
            }
        }
    }

    mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        let expected = word.utf8Start
        for offset in 1..<count where bytes[index + offset] != expected[offset] {
            return false
        }
        index += count
        return true
    }

    mutating func number() -> Bool {
        if current == UInt8(ascii: "-") { index += 1 }
        guard let first = current, isDigit(first) else { return false }
        if first == UInt8(ascii: "0") {
            index += 1
        } else {
            skipDigits()
        }
        if current == UInt8(ascii: ".") {
            index += 1
            guard isDigit(current) else { return false }
            skipDigits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard isDigit(current) else { return false }
            skipDigits()
        }
        return true
    }

    private mutating func skipDigits() {
        while isDigit(current) { index += 1 }
    }

    private func isDigit(_ byte: UInt8?) -> Bool {
        guard let byte else { return false }
        return byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// A string from its opening quote to its closing one; plain ASCII is skipped eight bytes at a time.
    mutating func string() -> Bool {
        var position = index + 1
        let end = bytes.count
        defer { index = position }
        while true {
            while end - position >= 8 {
                let special = Self.specialBytes(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self)))
                if special != 0 {
                    position += special.trailingZeroBitCount / 8
                    break
                }
                position += 8
            }
            guard position < end else { return false }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return true
            } else if byte == UInt8(ascii: "\\") {
                index = position
                guard escape() else { return false }
                position = index
            } else if byte < 0x20 {
                return false
            } else if byte < 0x80 {
                position += 1
            } else {
                index = position
                guard multiByteCharacter(lead: byte) else { return false }
                position = index
            }
        }
    }

    /// The high bit of each of eight bytes (first byte lowest) that is a quote, a backslash, a
    /// control character or not ASCII. Above the first such byte, other bits may be set wrongly.
    private static func specialBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        func zeroBytes(_ value: UInt64) -> UInt64 { (value &- ones) & ~value }
        return (zeroBytes(word ^ (ones &* 0x22)) | zeroBytes(word ^ (ones &* 0x5C)) | ((word &- ones &* 0x20) & ~word) | word) & highBits
    }

    private mutating func escape() -> Bool {
        index += 1
        guard let byte = current else { return false }
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
            UInt8(ascii: "r"), UInt8(ascii: "t"):
            return true
        case UInt8(ascii: "u"):
            guard bytes.count - index >= 4 else { return false }
            for _ in 0..<4 {
                switch bytes[index] {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"):
                    index += 1
                default:
                    return false
                }
            }
            return true
        default:
            return false
        }
    }

    /// One UTF-8 sequence of two to four bytes (no overlong forms, surrogates or code points past U+10FFFF).
    private mutating func multiByteCharacter(lead: UInt8) -> Bool {
        let continuations: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: continuations = 1
        case 0xE0:
            continuations = 2
            secondRange = 0xA0...0xBF
        case 0xED:
            continuations = 2
            secondRange = 0x80...0x9F
        case 0xE1...0xEF: continuations = 2
        case 0xF0:
            continuations = 3
            secondRange = 0x90...0xBF
        case 0xF4:
            continuations = 3
            secondRange = 0x80...0x8F
        case 0xF1...0xF3: continuations = 3
        default: return false
        }
        guard bytes.count - index > continuations, secondRange.contains(bytes[index + 1]) else { return false }
        for offset in stride(from: 2, through: continuations, by: 1) where !(0x80...0xBF).contains(bytes[index + offset]) {
            return false
        }
        index += continuations + 1
        return true
    }
}
