import BrokerCore
import Foundation

/// A version of the MX Platform API, chosen once per deployment.
///
/// The two versions differ in how the version is requested, in the content type MX answers with,
/// and in how date filters on transaction lists are written.
public enum MXAPIVersion: String, Sendable, CaseIterable {
    /// The original API, selected with `Accept: application/vnd.mx.api.v1+json`.
    case v20111101
    /// The dated API, selected with `Accept-Version: v20250224`.
    case v20250224

    /// Request headers that select this version.
    public var headers: [(name: String, value: String)] {
        switch self {
        case .v20111101:
            [("Accept", "application/vnd.mx.api.v1+json")]
        case .v20250224:
            [("Accept", "application/json"), ("Accept-Version", "v20250224")]
        }
    }

    /// The value MX expects for a `from_date` / `to_date` transaction filter on `day`.
    ///
    /// v20111101 takes `YYYY-MM-DD`; v20250224 takes a unix timestamp: the start of the day for
    /// `from_date`, its last second for `to_date`, so both bounds stay inclusive as in v20111101.
    public func transactionDateFilter(_ day: CalendarDay, bound: CalendarDay.Bound) -> String {
        switch self {
        case .v20111101:
            return day.description
        case .v20250224:
            let start = day.startOfDayUTC.timeIntervalSince1970
            let seconds = bound == .from ? start : start + 86_399
            return String(Int64(seconds))
        }
    }
}
