import NIOCore

/// A 128-bit fingerprint of a body, quick to compute: two multiply-rotate lanes over 8-byte
/// words, finished with the length and an avalanche step.
///
/// It tells versions of a body apart for `ETag`s, where a collision would only make one
/// client keep a copy it already had; it is no defence against bodies crafted to collide.
enum BodyFingerprint {
    /// The fingerprint of `buffer`'s readable bytes as 32 lowercase hex digits.
    static func hex(of buffer: ByteBuffer) -> String {
        let (high, low) = buffer.withUnsafeReadableBytes { of($0) }
        return Hex.string(high) + Hex.string(low)
    }

    static func of(_ bytes: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        var first: UInt64 = 0x9E37_79B9_7F4A_7C15
        var second: UInt64 = 0xC2B2_AE3D_27D4_EB4F
        var offset = 0
        while offset + 16 <= bytes.count {
            first = mix(first ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            second = mix(second ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)))
            offset += 16
        }
        var tail: (UInt64, UInt64) = (0, 0)
        for index in offset..<bytes.count {
            let shift = UInt64((index - offset) % 8 * 8)
            if index - offset < 8 {
                tail.0 |= UInt64(bytes[index]) << shift
            } else {
                tail.1 |= UInt64(bytes[index]) << shift
            }
        }
        first = mix(first ^ tail.0 ^ UInt64(bytes.count))
        second = mix(second ^ tail.1 ^ UInt64(bytes.count).byteSwapped)
        return (avalanche(first &+ second), avalanche(second &+ (first << 1)))
    }

    private static func mix(_ value: UInt64) -> UInt64 {
        let product = value &* 0x87C3_7B91_1142_53D5
        return ((product << 31) | (product >> 33)) &* 0x4CF5_AD43_2745_937F
    }

    /// The finishing step of MurmurHash3's 64-bit variant: every input bit flips about half the output bits.
    private static func avalanche(_ value: UInt64) -> UInt64 {
        var value = value
        value ^= value >> 33
        value &*= 0xFF51_AFD7_ED55_8CCD
        value ^= value >> 33
        value &*= 0xC4CE_B9FE_1A85_EC53
        value ^= value >> 33
        return value
    }
}
