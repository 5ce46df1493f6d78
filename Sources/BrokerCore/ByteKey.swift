/// A map key that is a string's UTF-8 bytes.
///
/// Swift's `String` compares by canonical equivalence: `"\u{212A}im"` (KELVIN SIGN) equals
/// `"Kim"`, and NFD `"jose\u{301}"` equals NFC `"jos\u{E9}"`. The store and MX compare bytes, so
/// text a caller chooses (a token, its subject, a path or query built from a request) must never
/// share a map entry with other bytes: every map keyed by such text is keyed by this instead.
public struct ByteKey: Hashable, Sendable, CustomStringConvertible {
    /// The text, exactly as given.
    public let text: String

    public init(_ text: String) {
        self.text = text
    }

    public var description: String { text }

    public static func == (lhs: ByteKey, rhs: ByteKey) -> Bool {
        lhs.text.utf8.count == rhs.text.utf8.count && lhs.text.utf8.elementsEqual(rhs.text.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
