import BrokerCore
import Foundation

/// Typed, range-checked reads of environment variables, with `_FILE` variants for secrets.
///
/// It remembers every key it was asked for, so a test can hold the documentation's table of
/// keys equal to the keys the configuration reads.
final class EnvironmentReader {
    private let environment: [String: String]
    /// Every key asked for, in order (a key asked for twice is listed twice).
    private(set) var keysRead: [String] = []

    init(_ environment: [String: String]) { self.environment = environment }

    func string(_ key: String) -> String? {
        keysRead.append(key)
        guard let value = environment[key]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    /// A comma-separated list, blanks dropped.
    func list(_ key: String) -> [String] {
        (string(key) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func integer(_ key: String, default value: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        try optionalInteger(key, range: range) ?? value
    }

    /// A whole number in `range`, or `nil` when the key is not set.
    func optionalInteger(_ key: String, range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let text = string(key) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw ConfigurationError("\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound).")
        }
        return number
    }

    func number(_ key: String, default value: Double, range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
        guard let text = string(key) else { return value }
        guard let number = Double(text), range.contains(number) else {
            throw ConfigurationError("\(key) must be a number from \(range.lowerBound) to \(range.upperBound).")
        }
        return number
    }

    func boolean(_ key: String, default value: Bool) throws(ConfigurationError) -> Bool {
        switch string(key)?.lowercased() {
        case nil: return value
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw ConfigurationError("\(key) must be true or false.")
        }
    }

    /// A number of `unit`s (seconds by default) in `range`, as a duration.
    func duration(_ key: String, default value: Double, range: ClosedRange<Double>, unit: Double = 1) throws(ConfigurationError) -> Duration {
        .milliseconds(Int64((try number(key, default: value, range: range) * unit * 1000).rounded()))
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, default value: T) throws(ConfigurationError) -> T where T.RawValue == String {
        guard let text = string(key) else { return value }
        guard let choice = T(rawValue: text.lowercased()) ?? T(rawValue: text) else {
            throw ConfigurationError("\(key) must be one of: \(T.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return choice
    }

    /// The value of `key`, or the contents of the file named by `key_FILE`.
    func secret(_ key: String) throws(ConfigurationError) -> Secret? {
        keysRead.append("\(key)_FILE")
        if let value = string(key) { return Secret(value) }
        return try fileContents("\(key)_FILE").map { Secret($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Like ``secret(_:)``, refusing one shorter than `minimumLength` characters.
    func secret(_ key: String, minimumLength: Int) throws(ConfigurationError) -> Secret? {
        guard let secret = try secret(key) else { return nil }
        guard secret.value.utf8.count >= minimumLength else {
            throw ConfigurationError("\(key) must be at least \(minimumLength) characters long.")
        }
        return secret
    }

    func fileContents(_ key: String) throws(ConfigurationError) -> String? {
        guard let path = string(key) else { return nil }
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError("\(key) names a file that cannot be read: \(path)")
        }
        return contents
    }
}
