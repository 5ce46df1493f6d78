import NIOCore

extension JSONValue {
    /// Parses one JSON text (any value at the top level), or returns `nil` when `buffer` is not
    /// one (the grammar ``JSONSyntax`` checks, and no unpaired surrogate escapes).
    ///
    /// Numbers without a fraction or exponent that fit in 64 bits stay integers; others are doubles.
    public static func parse(_ buffer: ByteBuffer) -> JSONValue? {
        buffer.withUnsafeReadableBytes { parse($0) }
    }

    /// Parses one JSON text from the UTF-8 of `text`, or returns `nil` when it is not one.
    public static func parse(_ text: String) -> JSONValue? {
        var text = text
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// Parses one JSON text from `bytes`, or returns `nil` when they are not one.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> JSONValue? {
        var scanner = JSONScanner(bytes: bytes)
        scanner.skipWhitespace()
        guard let value = JSONValueParser.value(&scanner, depth: 0) else { return nil }
        scanner.skipWhitespace()
        return scanner.index == bytes.count ? value : nil
    }
}

/// Builds values over a ``JSONScanner``, which checks the grammar and finds where each ends.
private enum JSONValueParser {
    static func value(_ scanner: inout JSONScanner, depth: Int) -> JSONValue? {
        guard let byte = scanner.current else { return nil }
        switch byte {
        case UInt8(ascii: "{"):
            guard depth < JSONSyntax.maximumDepth else { return nil }
            var members: [String: JSONValue] = [:]
            let closed = scanner.elements(closedBy: UInt8(ascii: "}")) { scanner in
                guard scanner.current == UInt8(ascii: "\""), let key = string(&scanner) else { return false }
                scanner.skipWhitespace()
                guard scanner.current == UInt8(ascii: ":") else { return false }
                scanner.index += 1
                scanner.skipWhitespace()
                guard let member = value(&scanner, depth: depth + 1) else { return false }
                members[key] = member
                return true
            }
            return closed ? .object(members) : nil
        case UInt8(ascii: "["):
            guard depth < JSONSyntax.maximumDepth else { return nil }
            var elements: [JSONValue] = []
            let closed = scanner.elements(closedBy: UInt8(ascii: "]")) { scanner in
                guard let element = value(&scanner, depth: depth + 1) else { return false }
                elements.append(element)
                return true
            }
            return closed ? .array(elements) : nil
        case UInt8(ascii: "\""):
            return string(&scanner).map(JSONValue.string)
        case UInt8(ascii: "t"):
            return scanner.literal("true") ? .bool(true) : nil
        case UInt8(ascii: "f"):
            return scanner.literal("false") ? .bool(false) : nil
        case UInt8(ascii: "n"):
            return scanner.literal("null") ? .null : nil
        default:
            return number(&scanner)
        }
    }

    private static func number(_ scanner: inout JSONScanner) -> JSONValue? {
        let start = scanner.index
        guard scanner.number() else { return nil }
        let text = UnsafeRawBufferPointer(rebasing: scanner.bytes[start..<scanner.index])
        let isIntegral = !text.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
        let literal = String(decoding: text, as: UTF8.self)
        if isIntegral, let integer = Int64(literal) { return .integer(integer) }
        return Double(literal).map(JSONValue.number)
    }

    /// The text of the string at the scanner, its escapes resolved.
    private static func string(_ scanner: inout JSONScanner) -> String? {
        let start = scanner.index + 1
        guard scanner.string() else { return nil }
        let content = UnsafeRawBufferPointer(rebasing: scanner.bytes[start..<(scanner.index - 1)])
        guard content.contains(UInt8(ascii: "\\")) else { return String(decoding: content, as: UTF8.self) }
        return unescaped(content)
    }

    /// Resolves the escapes of string content the scanner has already checked.
    private static func unescaped(_ content: UnsafeRawBufferPointer) -> String? {
        var text = String.UnicodeScalarView()
        var utf8: [UInt8] = []
        var index = 0
        func flush() {
            text.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
            utf8.removeAll(keepingCapacity: true)
        }
        while index < content.count {
            let byte = content[index]
            guard byte == UInt8(ascii: "\\") else {
                utf8.append(byte)
                index += 1
                continue
            }
            let escaped = content[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var code = hexValue(content, at: index)
                index += 4
                if (0xD800...0xDBFF).contains(code) {
                    guard content.count - index >= 6, content[index] == UInt8(ascii: "\\"), content[index + 1] == UInt8(ascii: "u") else {
                        return nil
                    }
                    let low = hexValue(content, at: index + 2)
                    guard (0xDC00...0xDFFF).contains(low) else { return nil }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                guard let scalar = Unicode.Scalar(code) else { return nil }
                flush()
                text.append(scalar)
            default: utf8.append(escaped)
            }
        }
        flush()
        return String(text)
    }

    /// The four hex digits at `index`, which the scanner has checked are there.
    private static func hexValue(_ content: UnsafeRawBufferPointer, at index: Int) -> UInt32 {
        var value: UInt32 = 0
        for byte in content[index..<(index + 4)] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: digit = byte - UInt8(ascii: "A") + 10
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
