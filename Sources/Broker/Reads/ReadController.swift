import BrokerCore
import BrokerStore
import Foundation
import HTTPTypes
import Hummingbird
import MXPlatform
import NIOCore

/// Caller-scoped reads of accounts, transactions, statements and investment holdings, proxied
/// to MX.
///
/// Every MX path starts with the caller's own `/users/{user_guid}` from the store, so a guid of
/// another user's object can only ever be looked up inside the caller's own data (and is not
/// found). MX's bodies pass through unaltered, kept a short while in the ``ReadCache``, with an
/// `ETag` (304 on `If-None-Match`) and gzip when the client accepts it.
struct ReadController {
    let provisioner: UserProvisioner
    let mx: MXClient
    let cache: ReadCache
    let products: EnabledProducts
    /// Identical misses in flight share one MX read and one fingerprint of its body.
    private let misses = InFlightCalls<CacheableAnswer>()

    init(provisioner: UserProvisioner, mx: MXClient, cache: ReadCache, products: EnabledProducts) {
        self.provisioner = provisioner
        self.mx = mx
        self.cache = cache
        self.products = products
    }

    /// One read route: its path below the API's mount point, which is also the MX path below
    /// `/users/{guid}`, and what it lists.
    struct Route: Sendable {
        let segments: [Segment]
        /// The collection key of a list (`accounts`), or `nil` for a single object.
        let listKey: String?
        /// Whether it is a transaction list, which takes date and update filters and `includes`.
        let hasDates: Bool
        /// The premium product whose data it serves, which the operator must have enabled.
        var product: MXProduct? = nil

        enum Segment: Sendable {
            case literal(String)
            case parameter(String)
        }

        /// The path as the router takes it (`accounts/:account_guid`).
        var routerPath: String {
            segments.map { segment in
                switch segment {
                case .literal(let text): text
                case .parameter(let name): ":" + name
                }
            }
            .joined(separator: "/")
        }

        /// The parameters of `components` (a path's, below the mount point) when they are
        /// exactly this route's; `nil` when they are not.
        func parameters(matching components: ArraySlice<Substring>) -> [String: Substring]? {
            guard components.count == segments.count else { return nil }
            var parameters: [String: Substring] = [:]
            for (segment, component) in zip(segments, components) {
                switch segment {
                case .literal(let text):
                    guard component == text else { return nil }
                case .parameter(let name):
                    parameters[name] = component
                }
            }
            return parameters
        }
    }

    static let routes: [Route] = [
        Route(segments: [.literal("accounts")], listKey: "accounts", hasDates: false),
        Route(segments: [.literal("accounts"), .parameter("account_guid")], listKey: nil, hasDates: false),
        Route(segments: [.literal("members"), .parameter("member_guid"), .literal("accounts")], listKey: "accounts", hasDates: false),
        Route(segments: [.literal("transactions")], listKey: "transactions", hasDates: true),
        Route(
            segments: [.literal("accounts"), .parameter("account_guid"), .literal("transactions")],
            listKey: "transactions",
            hasDates: true
        ),
        Route(
            segments: [.literal("members"), .parameter("member_guid"), .literal("transactions")],
            listKey: "transactions",
            hasDates: true
        ),
        Route(
            segments: [.literal("members"), .parameter("member_guid"), .literal("statements")],
            listKey: "statements",
            hasDates: false,
            product: .statements
        ),
        Route(
            segments: [.literal("members"), .parameter("member_guid"), .literal("statements"), .parameter("statement_guid")],
            listKey: nil,
            hasDates: false,
            product: .statements
        ),
        Route(segments: [.literal("investment_holdings")], listKey: "investment_holdings", hasDates: false, product: .investments),
        Route(
            segments: [.literal("investment_holdings"), .parameter("holding_guid")],
            listKey: nil,
            hasDates: false,
            product: .investments
        ),
        Route(
            segments: [.literal("members"), .parameter("member_guid"), .literal("investment_holdings")],
            listKey: "investment_holdings",
            hasDates: false,
            product: .investments
        ),
        Route(
            segments: [.literal("accounts"), .parameter("account_guid"), .literal("investment_holdings")],
            listKey: "investment_holdings",
            hasDates: false,
            product: .investments
        ),
    ]

    /// What every read spends; the early answer for cached reads spends it too.
    static let budget = Budget.reads

    func addRoutes(to routes: UserRoutes) {
        let group = routes.spending(Self.budget)
        for route in Self.routes {
            group.get(RouterPath(route.routerPath)) { request, context in
                try await read(route, request: request, context: context)
            }
        }
    }

    /// What a read asks of MX below the user's own path, and the query it sends.
    private struct Target {
        let path: [String]
        let query: ReadQuery
        let mxQuery: [(String, String)]

        func mxPath(of mxUserGUID: String) -> [String] { ["users", mxUserGUID] + path }

        /// The key of its answer in the ``ReadCache``.
        func key(of mxUserGUID: String) -> String {
            mxPath(of: mxUserGUID).joined(separator: "/") + "?" + mxQuery.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        }
    }

    private func target(_ route: Route, request: Request, parameter: (String) -> Substring?) throws -> Target {
        let query = try ReadQuery(request, dates: route.hasDates)
        var path: [String] = []
        for segment in route.segments {
            switch segment {
            case .literal(let text):
                path.append(text)
            case .parameter(let name):
                guard let value = parameter(name), Identifier.isValid(value) else { throw BrokerError.notFound("No such object for this user.") }
                path.append(String(value))
            }
        }
        return Target(path: path, query: query, mxQuery: query.mxQuery(version: mx.configuration.apiVersion))
    }

    private func read(_ route: Route, request: Request, context: BrokerRequestContext) async throws -> Response {
        if let product = route.product { try products.check([product]) }
        let subject = try context.requireSubject()
        let target = try target(route, request: request) { context.parameters.get($0)?[...] }
        guard let mxUserGUID = try await provisioner.existingMXUserGUID(subject: subject) else {
            guard let listKey = route.listKey else { throw BrokerError.notFound("No such object for this user.") }
            return Self.emptyList(listKey, query: target.query)
        }
        let mxPath = target.mxPath(of: mxUserGUID)
        let key = target.key(of: mxUserGUID)
        switch cache.lookup(mxUserGUID: mxUserGUID, key: key) {
        case .hit(let answer):
            return answer.response(to: request)
        case .miss(let miss):
            let answer = try await misses.run(
                key: key,
                notBefore: miss.userChangedAt,
                joined: { [mx] in mx.recordSharedRead(mxPath) },
                operation: { [mx, cache] in
                    let fromMX = try await mx.get(mxPath, query: target.mxQuery)
                    return cache.store(fromMX.body, mxUserGUID: mxUserGUID, key: key, miss: miss)
                }
            )
            return answer.response(to: request)
        }
    }

    /// The cached answer to a read of `route` by `subject`, found without waiting: when the
    /// caller's MX user is remembered and the cache holds a fresh answer. `nil` in every other
    /// case (a bad query or guid included), all of which ``read(_:request:context:)`` handles.
    func cachedAnswer(to request: Request, route: Route, parameters: [String: Substring], subject: String) -> CacheableAnswer? {
        guard let mxUserGUID = provisioner.rememberedMXUserGUID(subject: subject),
            let target = try? target(route, request: request, parameter: { parameters[$0] }),
            case .hit(let answer) = cache.lookup(mxUserGUID: mxUserGUID, key: target.key(of: mxUserGUID))
        else { return nil }
        return answer
    }

    /// What MX would answer for a user with no data: an empty page.
    private static func emptyList(_ key: String, query: ReadQuery) -> Response {
        let perPage = query.recordsPerPage ?? 25
        let body =
            "{\"\(key)\":[],\"pagination\":{\"current_page\":\(query.page ?? 1),\"per_page\":\(perPage),\"total_entries\":0,\"total_pages\":1}}"
        return JSONAnswer.response(body: ByteBuffer(string: body), caching: .revalidate)
    }
}
