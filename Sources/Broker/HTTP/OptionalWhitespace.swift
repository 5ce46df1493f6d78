extension StringProtocol where SubSequence == Substring {
    /// The text without the spaces and tabs HTTP allows around header values and list items
    /// (RFC 9110, section 5.6.3).
    var trimmingOptionalWhitespace: Substring {
        let isOptionalWhitespace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isOptionalWhitespace($0) }), let last = lastIndex(where: { !isOptionalWhitespace($0) }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}
