import BrokerStore
import Foundation
import HTTPTypes
import Hummingbird
import MXPlatform
import NIOCore

/// Caller-scoped reads of accounts and transactions, proxied to MX.
///
/// Every MX path starts with the caller's own `/users/{user_guid}` from the store, so a guid of
/// another user's object can only ever be looked up inside the caller's own data (and is not
/// found). MX's bodies pass through unaltered, kept a short while in the ``ReadCache``, with an
/// `ETag` (304 on `If-None-Match`) and gzip when the client accepts it.
struct ReadController {
    let provisioner: UserProvisioner
    let mx: MXClient
    let cache: ReadCache
    /// Identical misses in flight share one MX read and one fingerprint of its body.
    private let misses = InFlightCalls<CacheableAnswer>()

    init(provisioner: UserProvisioner, mx: MXClient, cache: ReadCache) {
        self.provisioner = provisioner
        self.mx = mx
        self.cache = cache
    }

    /// One read route: the broker path, the MX path below `/users/{guid}`, and what it lists.
    private struct Route {
        let path: RouterPath
        let mxPath: [Segment]
        /// The collection key of a list (`accounts`), or `nil` for a single object.
        let listKey: String?
        let hasDates: Bool

        enum Segment {
            case literal(String)
            case parameter(String)
        }
    }

    private static let routes: [Route] = [
        Route(path: "accounts", mxPath: [.literal("accounts")], listKey: "accounts", hasDates: false),
        Route(path: "accounts/:account_guid", mxPath: [.literal("accounts"), .parameter("account_guid")], listKey: nil, hasDates: false),
        Route(
            path: "members/:member_guid/accounts",
            mxPath: [.literal("members"), .parameter("member_guid"), .literal("accounts")],
            listKey: "accounts",
            hasDates: false
        ),
        Route(path: "transactions", mxPath: [.literal("transactions")], listKey: "transactions", hasDates: true),
        Route(
            path: "accounts/:account_guid/transactions",
            mxPath: [.literal("accounts"), .parameter("account_guid"), .literal("transactions")],
            listKey: "transactions",
            hasDates: true
        ),
        Route(
            path: "members/:member_guid/transactions",
            mxPath: [.literal("members"), .parameter("member_guid"), .literal("transactions")],
            listKey: "transactions",
            hasDates: true
        ),
    ]

    func addRoutes(to group: RouterGroup<BrokerRequestContext>) {
        for route in Self.routes {
            group.get(route.path) { request, context in
                try await read(route, request: request, context: context)
            }
        }
    }

    private func read(_ route: Route, request: Request, context: BrokerRequestContext) async throws -> Response {
        let subject = try context.requireSubject()
        let query = try ReadQuery(request, dates: route.hasDates)
        var path: [String] = []
        for segment in route.mxPath {
            switch segment {
            case .literal(let text):
                path.append(text)
            case .parameter(let name):
                let value = try context.parameters.require(name)
                guard Identifier.isValid(value) else { throw BrokerError.notFound("No such object for this user.") }
                path.append(value)
            }
        }
        guard let mxUserGUID = try await provisioner.existingMXUserGUID(subject: subject) else {
            guard let listKey = route.listKey else { throw BrokerError.notFound("No such object for this user.") }
            return Self.emptyList(listKey, query: query)
        }
        let mxPath = ["users", mxUserGUID] + path
        let mxQuery = query.mxQuery(version: mx.configuration.apiVersion)
        let key = mxPath.joined(separator: "/") + "?" + mxQuery.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        switch cache.lookup(mxUserGUID: mxUserGUID, key: key) {
        case .hit(let answer):
            return answer.response(to: request)
        case .miss(let miss):
            let answer = try await misses.run(
                key: key,
                joined: { [mx] in mx.recordSharedRead(mxPath) },
                operation: { [mx, cache] in
                    let fromMX = try await mx.get(mxPath, query: mxQuery)
                    return cache.store(fromMX.body, mxUserGUID: mxUserGUID, key: key, miss: miss)
                }
            )
            return answer.response(to: request)
        }
    }

    /// What MX would answer for a user with no data: an empty page.
    private static func emptyList(_ key: String, query: ReadQuery) -> Response {
        let perPage = query.recordsPerPage ?? 25
        let body =
            "{\"\(key)\":[],\"pagination\":{\"current_page\":\(query.page ?? 1),\"per_page\":\(perPage),\"total_entries\":0,\"total_pages\":1}}"
        return Response(
            status: .ok,
            headers: [.contentType: "application/json", .cacheControl: "private, no-cache"],
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }
}
