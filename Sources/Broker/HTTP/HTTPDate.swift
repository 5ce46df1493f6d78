import Foundation
import Synchronization

/// The `Date` header's value (IMF-fixdate, RFC 9110 §5.6.7), written at most once a second.
final class HTTPDate: Sendable {
    private let latest = Mutex<(second: Int64, text: String)>((.min, ""))

    /// The value for the current second.
    func now() -> String {
        let second = Int64(Date().timeIntervalSince1970.rounded(.down))
        return latest.withLock { latest in
            if latest.second != second { latest = (second, Self.text(secondsSince1970: second)) }
            return latest.text
        }
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT` for a time given in seconds since 1970 (UTC).
    static func text(secondsSince1970 seconds: Int64) -> String {
        let (days, secondOfDay) = floorDivision(seconds, 86_400)
        let (year, month, day) = civilDate(daysSince1970: days)
        let weekday = Int(floorDivision(days + 4, 7).remainder)
        return "\(weekdays[weekday]), \(twoDigits(day)) \(months[month - 1]) \(year) "
            + "\(twoDigits(Int(secondOfDay / 3600))):\(twoDigits(Int(secondOfDay / 60 % 60))):\(twoDigits(Int(secondOfDay % 60))) GMT"
    }

    /// The proleptic Gregorian year, month (1–12) and day (1–31) of a day counted from 1970-01-01,
    /// counting in 400-year eras of 146,097 days that start on 1 March.
    private static func civilDate(daysSince1970 days: Int64) -> (year: Int64, month: Int, day: Int) {
        let (era, dayOfEra) = floorDivision(days + 719_468, 146_097)
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1)
        let month = Int(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9)
        return (era * 400 + yearOfEra + (month <= 2 ? 1 : 0), month, day)
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let remainder = (value % divisor + divisor) % divisor
        return ((value - remainder) / divisor, remainder)
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
}
