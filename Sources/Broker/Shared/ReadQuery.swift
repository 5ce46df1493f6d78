import BrokerCore
import Foundation
import HTTPTypes
import Hummingbird
import MXPlatform

/// The paging and filters a client may put on a read, checked before MX sees them.
struct ReadQuery {
    var page: Int?
    var recordsPerPage: Int?
    var fromDate: CalendarDay?
    var toDate: CalendarDay?
    var fromUpdatedAt: UpdateBound?
    var toUpdatedAt: UpdateBound?
    /// MX's transaction enhancements, in the order asked, each once.
    var includes: [String] = []

    /// The enhancements MX adds to transactions when `includes` names them.
    static let enhancements: Set<String> = ["repeating_transactions", "merchants", "classifications", "geolocations"]

    /// Reads `page` (1 to a million), `records_per_page` (1 to `maxRecordsPerPage`: 1000, or 100
    /// for institutions, as MX pages them) and, when `dates` is true (transaction lists),
    /// `from_date` / `to_date` (`YYYY-MM-DD`, from ≤ to), `from_updated_at` / `to_updated_at`
    /// (`YYYY-MM-DD` or unix seconds) and `includes` (a comma list of MX's enhancements).
    /// Anything else → 400.
    init(_ request: Request, dates: Bool, maxRecordsPerPage: Int = 1000) throws(BrokerError) {
        let query = request.uri.queryParameters
        if let text = query.get("page") {
            guard let page = Int(text), page >= 1, page <= 1_000_000 else {
                throw BrokerError.badRequest(.invalidPage, "page must be a whole number from 1 to 1000000.")
            }
            self.page = page
        }
        if let text = query.get("records_per_page") {
            guard let size = Int(text), (1...maxRecordsPerPage).contains(size) else {
                throw BrokerError.badRequest(.invalidRecordsPerPage, "records_per_page must be a whole number from 1 to \(maxRecordsPerPage).")
            }
            recordsPerPage = size
        }
        guard dates else { return }
        for (name, keyPath) in [("from_date", \ReadQuery.fromDate), ("to_date", \ReadQuery.toDate)] {
            if let text = query.get(name) {
                guard let day = CalendarDay(text) else {
                    throw BrokerError.badRequest(.invalidDate, "\(name) must be a date written YYYY-MM-DD.")
                }
                self[keyPath: keyPath] = day
            }
        }
        if let fromDate, let toDate, fromDate > toDate {
            throw BrokerError.badRequest(.invalidDateRange, "from_date must not be after to_date.")
        }
        for (name, keyPath) in [("from_updated_at", \ReadQuery.fromUpdatedAt), ("to_updated_at", \ReadQuery.toUpdatedAt)] {
            if let text = query.get(name) {
                guard let bound = UpdateBound(text) else {
                    throw BrokerError.badRequest(.invalidDate, "\(name) must be a date written YYYY-MM-DD or unix seconds.")
                }
                self[keyPath: keyPath] = bound
            }
        }
        if let fromUpdatedAt, let toUpdatedAt, fromUpdatedAt.earliest > toUpdatedAt.latest {
            throw BrokerError.badRequest(.invalidDateRange, "from_updated_at must not be after to_updated_at.")
        }
        if let text = query.get("includes") {
            for name in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
                guard Self.enhancements.contains(name) else {
                    throw BrokerError.badRequest(
                        .invalidIncludes,
                        "includes must be a comma list of \(Self.enhancements.sorted().joined(separator: ", ")), without spaces."
                    )
                }
                if !includes.contains(name) { includes.append(name) }
            }
        }
    }

    /// The query to send to MX, dates written the way `version` expects them.
    func mxQuery(version: MXAPIVersion) -> [(String, String)] {
        var query: [(String, String)] = []
        if let page { query.append(("page", String(page))) }
        if let recordsPerPage { query.append(("records_per_page", String(recordsPerPage))) }
        if let fromDate { query.append(("from_date", version.transactionDateFilter(fromDate, bound: .from))) }
        if let toDate { query.append(("to_date", version.transactionDateFilter(toDate, bound: .to))) }
        if let fromUpdatedAt { query.append(("from_updated_at", fromUpdatedAt.mxFilter(version: version, bound: .from))) }
        if let toUpdatedAt { query.append(("to_updated_at", toUpdatedAt.mxFilter(version: version, bound: .to))) }
        if !includes.isEmpty { query.append(("includes", includes.joined(separator: ","))) }
        return query
    }
}

/// One end of an update-time filter: a day, or an instant in unix seconds. MX's v20111101 filters
/// by day, so an instant is sent as its UTC day there (a client sees some older changes again,
/// never misses one); v20250224 takes seconds.
enum UpdateBound: Equatable {
    case day(CalendarDay)
    case instant(Int64)

    /// The seconds after the year 9999 begins are refused before any arithmetic.
    private static let latestSecond: Int64 = 253_402_300_799

    init?(_ text: String) {
        if let day = CalendarDay(text) {
            self = .day(day)
        } else if !text.isEmpty, text.utf8.count <= 12, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let seconds = Int64(text), seconds <= Self.latestSecond
        {
            self = .instant(seconds)
        } else {
            return nil
        }
    }

    /// The first and last second the bound can stand for.
    var earliest: Int64 {
        switch self {
        case .day(let day): Int64(day.startOfDayUTC.timeIntervalSince1970)
        case .instant(let seconds): seconds
        }
    }

    var latest: Int64 {
        switch self {
        case .day(let day): Int64(day.startOfDayUTC.timeIntervalSince1970) + 86_399
        case .instant(let seconds): seconds
        }
    }

    func mxFilter(version: MXAPIVersion, bound: CalendarDay.Bound) -> String {
        switch (self, version) {
        case (.day(let day), _): version.transactionDateFilter(day, bound: bound)
        case (.instant(let seconds), .v20111101): CalendarDay(date: Date(timeIntervalSince1970: TimeInterval(seconds))).description
        case (.instant(let seconds), .v20250224): String(seconds)
        }
    }
}
