import Foundation
import Logging

/// Writes each log event as one line, as text or as a JSON object (`LOG_FORMAT`).
///
/// Metadata is rendered when a line is written, never when it is set, so requests that attach
/// metadata to their logger pay nothing for lines that are not written.
public struct LineLogHandler: LogHandler {
    /// How a line looks.
    public enum Format: Sendable {
        /// `<time> <level> <label>: <key=value …> [<source>] <message>`
        case text
        /// One JSON object: `ts`, `level`, `label`, `message`, `source`, and the metadata as strings.
        case json
    }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let format: Format
    private let output: @Sendable (String) -> Void

    /// A handler writing to standard error.
    public init(label: String, format: Format) {
        self.init(label: label, format: format) { line in FileHandle.standardError.write(Data(line.utf8)) }
    }

    /// A handler passing each finished line (ending in a newline) to `output`.
    public init(label: String, format: Format, output: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.format = format
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
        switch format {
        case .text:
            let fields = all.sorted { $0.key < $1.key }.map { Self.escaped("\($0.key)=\($0.value)") }.joined(separator: " ")
            let time = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .omitted))
            let message = Self.escaped(event.message.description)
            output("\(time) \(event.level) \(Self.escaped(label)):\(fields.isEmpty ? "" : " " + fields) [\(event.source)] \(message)\n")
        case .json:
            var fields = all.mapValues(\.description)
            fields["ts"] = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
            fields["level"] = event.level.rawValue
            fields["label"] = label
            fields["message"] = event.message.description
            fields["source"] = event.source
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            guard let data = try? encoder.encode(fields) else { return }
            output(String(decoding: data, as: UTF8.self) + "\n")
        }
    }

    /// `text` on one line: control characters (line breaks among them, Unicode's too) written as
    /// escapes, and backslashes doubled so an escape cannot be forged. A value a caller sent (a
    /// relayed event's type, say) can then never start a line of its own.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\\": result += "\\\\"
            case _ where needsEscape(scalar): result += "\\u{\(String(scalar.value, radix: 16))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\\" || scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}"
    }
}
