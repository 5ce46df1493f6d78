import Foundation

/// JSON as the sandbox writes it: keys in a fixed order, explicit nulls, money with two decimals.
///
/// The sandbox renders its own JSON so that MX's shapes (integers, nulls, fixed key order) come
/// out exactly as written here, independent of any encoder's choices.
enum SandboxJSON: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    /// An amount in cents, written as a decimal number (`1234.5` → `1234.50` is written `1234.5`).
    case money(cents: Int64)
    case string(String)
    case array([SandboxJSON])
    case object([(String, SandboxJSON)])

    static func string(_ value: String?) -> SandboxJSON {
        value.map { .string($0) } ?? .null
    }

    /// The JSON text.
    var text: String {
        var out = ""
        write(into: &out)
        return out
    }

    private func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .money(let cents):
            let sign = cents < 0 ? "-" : ""
            let magnitude = cents.magnitude
            let fraction = magnitude % 100
            out += "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
        case .string(let value): Self.writeString(value, into: &out)
        case .array(let values):
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += "," }
                value.write(into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { out += "," }
                Self.writeString(key, into: &out)
                out += ":"
                value.write(into: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ value: String, into out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
