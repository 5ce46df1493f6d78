/// Lowercase hexadecimal text of bytes: the one encoder behind digests, keys and ids.
enum Hex {
    static let digits = Array("0123456789abcdef".utf8)

    /// Two digits per byte, most significant first.
    static func string(_ bytes: some Collection<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { text in
            var position = 0
            for byte in bytes {
                text[position] = digits[Int(byte >> 4)]
                text[position + 1] = digits[Int(byte & 0x0f)]
                position += 2
            }
            return position
        }
    }

    /// Sixteen digits of `value`, most significant first.
    static func string(_ value: UInt64) -> String {
        withUnsafeBytes(of: value.bigEndian) { string($0) }
    }
}
