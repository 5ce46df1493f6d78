import BrokerCore
import HTTPTypes
import Hummingbird
import MXPlatform

/// The paging and date filters a client may put on a read, checked before MX sees them.
struct ReadQuery {
    var page: Int?
    var recordsPerPage: Int?
    var fromDate: CalendarDay?
    var toDate: CalendarDay?

    /// Reads `page` (1 to a million), `records_per_page` (1 to `maxRecordsPerPage`: 1000, or 100
    /// for institutions, as MX pages them) and, when `dates` is true, `from_date` / `to_date`
    /// (`YYYY-MM-DD`, from ≤ to). Anything else → 400.
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
    }

    /// The query to send to MX, dates written the way `version` expects them.
    func mxQuery(version: MXAPIVersion) -> [(String, String)] {
        var query: [(String, String)] = []
        if let page { query.append(("page", String(page))) }
        if let recordsPerPage { query.append(("records_per_page", String(recordsPerPage))) }
        if let fromDate { query.append(("from_date", version.transactionDateFilter(fromDate, bound: .from))) }
        if let toDate { query.append(("to_date", version.transactionDateFilter(toDate, bound: .to))) }
        return query
    }
}
